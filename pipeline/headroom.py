"""`make headroom`: how far could a stance head over the pipeline's features go on a hand-labelled set?

A diagnostic, not a model: nothing here is saved or used by another command. It scores the labelled claims against
the labelled articles once (`make eval`'s evidence and NLI, so the NLI cache makes it fast), builds the feature matrix
(`features.FEATURES`), and reports macro-F1 for:
- the rule with its configured thresholds: what `make eval` gives without a trained head;
- the rule with its four thresholds grid-searched on all the labelled pairs and scored on the same pairs. That is
  tuning on the test set, so it is an upper bound for the rule over these NLI scores, never a result to report as one;
- rule, logistic regression and gradient boosting fitted by claim-grouped k-fold cross-validation: each fold's head
  is fitted on the other claims' pairs and predicts the held-out claims' pairs. This estimates what a head fitted on
  your own labelled events would do on new claims.

Its use: when even the in-sample rule and the cross-validated heads stay far below a target, the NLI model's scores
are what limits the pipeline, not the head on top of them.
"""

from __future__ import annotations

from pathlib import Path

import hydra
import numpy as np
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from pipeline import io
from pipeline.cli import guarded, quiet_libraries, set_seed
from pipeline.evaluate import labelled_set, stance_metrics
from pipeline.features import to_features
from pipeline.records import PipelineError
from pipeline.report import markdown_table
from pipeline.stance import RuleStance, StanceHead
from pipeline.tracking import execute


def grouped_predictions(make_head, X: np.ndarray, y: np.ndarray, groups: np.ndarray, folds: int) -> np.ndarray:
    """Out-of-fold labels: each fold's pairs predicted by a head fitted on the other folds (folds by `groups`)."""
    from sklearn.model_selection import GroupKFold

    pred = np.empty(len(y), dtype=object)
    for train, test in GroupKFold(n_splits=folds).split(X, y, groups):
        pred[test] = make_head().fit(X[train], y[train]).predict(X[test])
    return pred


ROWS = {
    "rule_configured": "rule, configured thresholds",
    "rule_in_sample": "rule, thresholds fitted on all pairs (in-sample: an upper bound)",
    "rule_cv": "rule, claim-grouped CV",
    "logreg_cv": "logreg, claim-grouped CV",
    "gbm_cv": "gbm, claim-grouped CV",
}


def headroom(X: np.ndarray, y: np.ndarray, groups: np.ndarray, rule: RuleStance | None = None, folds: int = 5,
             seed: int = 13) -> dict[str, dict]:
    """Stance metrics (keys of `ROWS`) of each way of fitting a head over features `X` with gold labels `y`, the
    cross-validated ones in `folds` folds grouped by `groups` (claim ids); see the module doc.

    Args:
        rule: the configured rule (its thresholds give the first row); None: RuleStance's defaults.
    """
    from sklearn.base import clone

    rule = rule if rule is not None else RuleStance()
    n_groups = len(set(groups))
    if n_groups < folds:
        raise ValueError(f"{folds} folds need at least {folds} claims; the labelled set has {n_groups}")
    rows = {
        "rule_configured": clone(rule).fit().predict(X),
        "rule_in_sample": clone(rule).fit(X, y).predict(X),
        "rule_cv": grouped_predictions(lambda: clone(rule), X, y, groups, folds),
        "logreg_cv": grouped_predictions(lambda: StanceHead(kind="logreg", random_state=seed), X, y, groups, folds),
        "gbm_cv": grouped_predictions(lambda: StanceHead(kind="gbm", random_state=seed), X, y, groups, folds),
    }
    return {name: stance_metrics(list(y), list(pred)) for name, pred in rows.items()}


def run(cfg: DictConfig) -> dict:
    from pipeline.predict import build_scorer, predict

    quiet_libraries()
    set_seed(cfg.seed)
    articles, claims, labels = labelled_set(cfg.data, cfg.ingest)
    scorer = build_scorer(cfg)
    rule = instantiate(cfg.stance)
    if not isinstance(rule, RuleStance):
        raise PipelineError(None, f"make headroom needs stance=rule, not {cfg.stance.get('_target_')}")
    scored = predict(articles, cfg, scorer, rule.fit(), claims=claims)
    X = to_features(scored.pairs, {a.article_id: a.text for a in articles})
    y = np.array([labels[(p.claim_id, p.article_id)] for p in scored.pairs])
    groups = np.array([p.claim_id for p in scored.pairs])
    try:
        results = headroom(X, y, groups, rule, cfg.headroom.folds, cfg.seed)
    except ValueError as err:
        raise PipelineError(cfg.data.claims, str(err)) from None
    out = Path(cfg.paths.reports) / "headroom"
    report = {"results": results, "model": scorer.identity, "n_pairs": len(y), "n_claims": len(set(groups)),
              "data_sha256": {Path(p).name: io.sha256_file(p) for p in (cfg.data.claims, cfg.data.stance_labels)},
              "config": OmegaConf.to_container(cfg, resolve=True)}
    io.write_json(out / "headroom.json", report)
    table = markdown_table(["head", "macro-F1", "accuracy", "F1 agree", "F1 disagree", "F1 discuss", "F1 unrelated"],
                           [[ROWS[key], m["macro_f1"], m["accuracy"], *(v["f1"] for v in m["per_class"].values())]
                            for key, m in results.items()])
    print(f"## Headroom over the features of {scorer.name} ({len(y)} labelled pairs, {len(set(groups))} claims)\n")
    print(table)
    print(f"\nCV: {cfg.headroom.folds} folds by claim. The in-sample row is tuned on the pairs it is scored on.\n"
          f"written: {out}/headroom.json")
    report["tracking"] = {"metrics": {f"headroom/{key}_macro_f1": m["macro_f1"] for key, m in results.items()},
                          "artifacts": [out / "headroom.json"], "tags": {"nli_model": scorer.identity}}
    return report


@hydra.main(config_path="../conf", config_name="headroom", version_base="1.3")
@guarded
def main(cfg: DictConfig) -> None:
    execute(cfg, "headroom", run)


if __name__ == "__main__":
    main()
