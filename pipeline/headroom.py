"""`make headroom`: how far could a stance head over the pipeline's features go on a hand-labelled set?

A diagnostic, not a model: nothing here is saved or used by another command. It scores the labelled claims against
the labelled articles once (`make eval`'s evidence and NLI, so the NLI cache makes it fast), builds the feature matrix
(`features.FEATURES`), and reports macro-F1 for:
- the rule with its configured thresholds: what `make eval` gives without a trained head;
- the rule with its thresholds grid-searched on all the labelled pairs and scored on the same pairs. That is
  tuning on the test set: the best the rule's grid does on these pairs, never a result to report as one;
- rule, logistic regression and gradient boosting fitted by grouped k-fold cross-validation: each fold's head
  is fitted on the other groups' pairs (claims, or whole events with `headroom.group_by=event`) and predicts the
  held-out ones. This estimates what a head fitted on your own labelled events would do on new claims or stories.

Its use: when even the in-sample rule and the cross-validated heads stay far below a target, the NLI model's scores
are what limits the pipeline, not the head on top of them.
"""

from __future__ import annotations

from pathlib import Path

import hydra
import numpy as np
from omegaconf import DictConfig, OmegaConf

from pipeline.core import atomic, files
from pipeline.core.cli import guarded, quiet_libraries, set_seed
from pipeline.core.records import PipelineError
from pipeline.core.tables import markdown_table
from pipeline.core.tracking import execute
from pipeline.learn.crossval import grouped_predictions
from pipeline.measure.labels import load_labelled_set
from pipeline.measure.metrics import stance_metrics
from pipeline.stages.stance.features import to_features
from pipeline.stages.stance.rule import RuleStance, StanceHead

RULE_ROWS = {
    "rule_configured": "rule, configured thresholds",
    "rule_in_sample": "rule, thresholds fitted on all pairs (in-sample)",
    "rule_cv": "rule, grouped CV",
}


def row_label(key: str) -> str:
    return RULE_ROWS.get(key) or f"{key.removesuffix('_cv')}, grouped CV"


def headroom(X: np.ndarray, y: np.ndarray, groups: np.ndarray, rule: RuleStance | None = None,
             heads: dict | None = None, folds: int = 5) -> dict[str, dict]:
    """Stance metrics of each way of fitting a head over features `X` with gold labels `y`: the keys of `RULE_ROWS`,
    then `<name>_cv` for each of `heads`; cross-validation in `folds` folds grouped by `groups` (claim ids).

    Args:
        rule: the configured rule (its thresholds give the first row); None: RuleStance's defaults.
        heads: name -> zero-argument factory of an unfitted head; None: logreg and gbm with StanceHead's defaults.
    """
    from sklearn.base import clone

    rule = rule if rule is not None else RuleStance()
    if heads is None:
        heads = {"logreg": lambda: StanceHead(kind="logreg"), "gbm": lambda: StanceHead(kind="gbm")}
    rows = {
        "rule_configured": clone(rule).fit().predict(X),
        "rule_in_sample": clone(rule).fit(X, y).predict(X),
        "rule_cv": grouped_predictions(lambda: clone(rule), X, y, groups, folds),
        **{f"{name}_cv": grouped_predictions(make, X, y, groups, folds) for name, make in heads.items()},
    }
    return {key: stance_metrics(list(y), list(pred)) for key, pred in rows.items()}


def run(cfg: DictConfig) -> dict:
    from pipeline.core.cli import instantiate_unwrapped
    from pipeline.predict import build_scorer, predict

    quiet_libraries()
    set_seed(cfg.seed)
    target = cfg.stance.get("_target_")
    if target != f"{RuleStance.__module__}.{RuleStance.__name__}":
        raise PipelineError(None, f"make headroom needs stance=rule, not {target or 'a saved head'}")
    rule = instantiate_unwrapped(cfg.stance)
    heads = {name: (lambda node=node: instantiate_unwrapped(node)) for name, node in cfg.headroom.heads.items()}
    name, group_by = cfg.headroom.set, cfg.headroom.group_by
    if name not in cfg.labelled:
        raise PipelineError(None, f"headroom.set: unknown labelled set {name!r}; known: {list(cfg.labelled)}")
    if group_by not in ("claim", "event"):
        raise PipelineError(None, f"headroom.group_by must be claim or event, not {group_by!r}")
    lset = load_labelled_set(name, cfg.labelled[name], cfg.ingest)
    articles, claims, labels = lset.articles, lset.claims, lset.labels
    event_of = {c.claim_id: e.event for e in lset.events for c in e.claims}
    n_groups = len(claims) if group_by == "claim" else len(lset.events)
    if n_groups < cfg.headroom.folds:
        raise PipelineError(cfg.labelled[name].claims, f"{cfg.headroom.folds} folds (headroom.folds) need at least "
                                                       f"{cfg.headroom.folds} {group_by}s; there are {n_groups}")
    scorer = build_scorer(cfg)
    scored = predict(articles, cfg, scorer, rule.fit(), claims=claims)
    X = to_features(scored.pairs, {a.article_id: a.text for a in articles})
    y = np.array([labels[(p.claim_id, p.article_id)] for p in scored.pairs])
    groups = np.array([p.claim_id if group_by == "claim" else event_of[p.claim_id] for p in scored.pairs])
    results = headroom(X, y, groups, rule, heads, cfg.headroom.folds)
    from sklearn.base import clone

    fitted = clone(rule).fit(X, y).thresholds_  # the rule's thresholds chosen on this set (use only a dev set)
    out = Path(cfg.paths.reports) / "headroom"
    report = {"results": results, "set": name, "group_by": group_by, "fitted_thresholds": fitted,
              "model": scorer.identity, "n_pairs": len(y), "n_claims": len(claims),
              "data_sha256": {Path(p).name: files.sha256_file(p) for p in lset.files},
              "config": OmegaConf.to_container(cfg, resolve=True)}
    atomic.write_json(out / "headroom.json", report)
    table = markdown_table(["head", "macro-F1", "accuracy", "F1 agree", "F1 disagree", "F1 discuss", "F1 unrelated"],
                           [[row_label(key), m["macro_f1"], m["accuracy"], *(v["f1"] for v in m["per_class"].values())]
                            for key, m in results.items()])
    print(f"## Headroom over the features of {scorer.name} on {name} ({len(y)} labelled pairs, {len(claims)} "
          "claims)\n")
    print(table)
    print(f"\nCV: {cfg.headroom.folds} folds by {group_by}. The in-sample row is tuned on the pairs it is scored on; "
          f"its thresholds: {fitted}\nwritten: {out}/headroom.json")
    report["tracking"] = {"metrics": {f"headroom/{key}_macro_f1": m["macro_f1"] for key, m in results.items()},

                          "artifacts": [out / "headroom.json"],
                          "tags": {"nli_model": scorer.identity, "set": name, "group_by": group_by,
                                   "fitted_thresholds": fitted}}
    return report


@hydra.main(config_path="../conf", config_name="headroom", version_base="1.3")
@guarded
def main(cfg: DictConfig) -> None:
    execute(cfg, "headroom", run)


if __name__ == "__main__":
    main()
