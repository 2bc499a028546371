"""`make train`: fit the configured stance head on FNC-1 (train split by Body ID) and evaluate it on the dev split.

Inputs: `fnc1/` under `paths.datasets`; the split file `train.split_file` (created if missing).
Outputs: `train.output_dir` (models/stance-head/): head.joblib + head.json (config, features, data hashes,
NLI model identity, dev metrics); the NLI scores land in the on-disk cache, so re-runs are fast.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

import hydra
import numpy as np
from omegaconf import DictConfig, OmegaConf

from pipeline.core import atomic, files
from pipeline.core.cli import guarded, instantiate_unwrapped, quiet_libraries, set_seed
from pipeline.core.records import PipelineError, StancePair
from pipeline.core.tables import markdown_table
from pipeline.core.tracking import execute
from pipeline.learn import fnc
from pipeline.learn.crossval import grouped_predictions, stacked
from pipeline.measure.metrics import stance_metrics
from pipeline.predict import EvidenceOnly, Timer, build_scorer, score_pairs
from pipeline.stages.ingest import clean_with, normalise
from pipeline.stages.report import confusion_figure
from pipeline.stages.segment import split_sentences
from pipeline.stages.stance.features import to_features
from pipeline.stages.stance.heads import reads_text, save_head, stance_labels
from pipeline.stages.stance.rule import RuleStance

log = logging.getLogger(__name__)


def evidence_rows(pairs: Sequence[fnc.FncPair], bodies: dict[str, str], cfg, scorer, timer: Timer,
                  name: str) -> tuple[list[StancePair], dict[str, str], np.ndarray]:
    """Scored (claim, article) rows in `pairs` order, the cleaned article texts, and the labels, through the
    pipeline's own stages (the scorer may be `EvidenceOnly`, for heads that read text)."""
    articles, claims, claim_of = fnc.as_pipeline_inputs(bodies, pairs, lambda t: clean_with(cfg.ingest, t).text,
                                                        normalise)
    sentences = {a.article_id: split_sentences(a, cfg.segment.splitter) for a in articles}
    timer.lap(f"{name}/segment_s")
    scored = score_pairs(articles, claims, sentences, cfg, scorer, timer, progress=True)
    for key in ("evidence_s", "nli_pairs", "nli_s", "nli_cached", "nli_computed"):
        timer.timings[f"{name}/{key}"] = timer.timings.pop(key)
    timer.timings.pop("nli_pairs_per_s", None)
    by_key = {(p.claim_id, p.article_id): p for p in scored}
    rows = [by_key[(claim_of[p.headline], f"fnc{p.body_id}")] for p in pairs]
    return rows, {a.article_id: a.text for a in articles}, np.array([p.stance for p in pairs])


def load_split(cfg, bodies: dict[str, str]) -> dict[str, str]:
    path = Path(cfg.train.split_file)
    if path.is_file():
        return fnc.read_split(path, bodies)
    split = fnc.split_bodies(list(bodies), cfg.train.dev_fraction, cfg.seed)
    atomic.write_text(path, fnc.split_text(split))
    log.info("wrote the FNC-1 train/dev split by Body ID to %s", path)
    return split


def stratified_sample(pairs: list[fnc.FncPair], n: int | None, seed: int) -> list[fnc.FncPair]:
    if not n or n >= len(pairs):
        return pairs
    from sklearn.model_selection import train_test_split

    keep, _ = train_test_split(pairs, train_size=n, stratify=[p.stance for p in pairs], random_state=seed)
    return sorted(keep, key=lambda p: (int(p.body_id), p.headline))


def same_story_rows(cfg, scorer, timer: Timer, name: str | None = None):
    """A same-story labelled set (`name`; default `train.same_story.set`, basil-dev): its labelled (claim, article)
    pairs, plus one hard negative per claim: the claim against the most similar article of another event, labelled
    unrelated. Returns rows, article texts, labels, groups (the event of each row's claim) and a mask of the
    hand-labelled rows (the hard negatives are training data, never scored)."""
    from dataclasses import replace

    from pipeline.measure.labels import load_labelled_set
    from pipeline.predict import predict

    name = name or cfg.train.same_story.set
    if name in ("basil-test", "seeds"):
        raise PipelineError(None, f"{name} (train.same_story.set or fit_sets): that set is for reporting only, "
                                  "never for fitting")
    lset = load_labelled_set(name, cfg.labelled[name], cfg.ingest)
    rule = RuleStance().fit()
    run_ = predict(lset.articles, cfg, scorer, rule, claims=lset.claims, progress=True)
    event_of = {c.claim_id: e.event for e in lset.events for c in e.claims}
    rows = list(run_.pairs)
    y = [lset.labels[(p.claim_id, p.article_id)] for p in rows]
    n_labelled = len(rows)
    if cfg.train.same_story.hard_negatives:
        # evidence only first, to find each claim's most similar article in another event; then NLI for those
        everywhere = [replace(c, article_ids=tuple(a.article_id for e in lset.events if e.event != event_of[c.claim_id]
                                                   for a in e.articles)) for c in lset.claims]
        probe = predict(lset.articles, cfg, EvidenceOnly(), rule, claims=everywhere, progress=False)
        best: dict[str, StancePair] = {}
        for p in probe.pairs:
            if p.claim_id not in best or p.similarity > best[p.claim_id].similarity:
                best[p.claim_id] = p
        negatives = [replace(c, article_ids=(best[c.claim_id].article_id,))
                     for c in lset.claims if c.claim_id in best]
        neg = predict(lset.articles, cfg, scorer, rule, claims=negatives, progress=False).pairs
        rows += neg
        y += ["unrelated"] * len(neg)
    timer.lap("same_story_s")
    groups = np.array([event_of[p.claim_id] for p in rows])
    labelled = np.arange(len(rows)) < n_labelled
    return rows, {a.article_id: a.text for a in lset.articles}, np.array(y), groups, labelled


def select_head(cfg, fnc_X: np.ndarray, fnc_y: np.ndarray, story_X: np.ndarray, story_y: np.ndarray,
                groups: np.ndarray, labelled: np.ndarray, claims: np.ndarray | None = None,
                fit_rows: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[str, dict[str, dict], object]:
    """Each candidate head is scored by event-grouped cross-validation on the same-story set: fitted on the other
    events' rows (learned heads also with the FNC-1 rows added, as `<name>+fnc`; the rule on same-story rows only),
    it predicts the held-out events' labelled pairs. The configured rule, untrained, competes too.

    A fitted head replaces the untrained rule only when its gain is sure, not just positive: in a paired bootstrap
    over the labelled claims (`claims`, one id per row; default: one per row) its CV macro-F1 must beat the rule's
    in at least `train.same_story.min_win_rate` of the resamples (`win_rate` in the scores). Among the heads that
    do, the best CV macro-F1 wins and is refitted on everything. `fit_rows` (X, y), e.g. the basil-train events
    (`train.same_story.fit_sets`), are on the training side of every fold of every fitted head, rule included, and
    never scored. Returns (name, scores, fitted head)."""
    from sklearn.base import clone

    from pipeline.measure.metrics import paired_win_rate

    candidates = {name: instantiate_unwrapped(node) for name, node in cfg.train.candidates.items()}
    # each learned head with and without the FNC-1 rows; the rule on same-story rows only
    variants = {}
    for name, head in candidates.items():
        variants[name] = (head, stacked(fit_rows))
        if not isinstance(head, RuleStance) and len(fnc_X):
            variants[f"{name}+fnc"] = (head, stacked(fit_rows, (fnc_X, fnc_y)))
    gold = list(story_y[labelled])
    ids = list(claims[labelled]) if claims is not None else [str(i) for i in range(len(gold))]
    # the configured rule (train.candidates.rule, i.e. conf/stance/rule.yaml and its overrides), unfitted
    configured = candidates.get("rule")
    untrained = clone(configured if isinstance(configured, RuleStance) else RuleStance()).fit()
    baseline = list(untrained.predict(story_X[labelled]))
    scores: dict[str, dict] = {}
    for name, (head, extra) in variants.items():
        pred = grouped_predictions(lambda head=head: clone(head), story_X, story_y, groups,
                                   cfg.train.same_story.folds, extra)
        # hard negatives are training data only; score the hand-labelled pairs
        scores[name] = stance_metrics(gold, list(pred[labelled]))
        scores[name]["win_rate"] = paired_win_rate(gold, list(pred[labelled]), baseline, ids, seed=cfg.get("seed", 13))
    scores[UNTRAINED] = stance_metrics(gold, baseline)
    need = float(cfg.train.same_story.get("min_win_rate", 0.0))
    rule_f1 = scores[UNTRAINED]["macro_f1"]
    sure = [n for n in variants if scores[n]["win_rate"] >= need and scores[n]["macro_f1"] > rule_f1]
    if not sure:  # no fitted head beats the configured rule surely on held-out events: keep the rule
        return UNTRAINED, scores, untrained
    best = max(sure, key=lambda n: scores[n]["macro_f1"])
    head, extra = variants[best]
    return best, scores, clone(head).fit(*stacked(extra, (story_X, story_y)))


UNTRAINED = "rule (configured thresholds, untrained)"


def run_selected(cfg: DictConfig) -> dict:
    """`make train` (default): choose the stance head on same-story data and save it (see `select_head`)."""
    out = Path(cfg.train.output_dir)
    atomic.refuse_existing(out, cfg.train.overwrite, "train.overwrite")
    timer = Timer()
    scorer = build_scorer(cfg)
    fnc_X, fnc_y, counts = np.zeros((0, 0)), np.array([]), {}
    data_sha = {}
    if cfg.train.same_story.fnc_pairs:
        bodies, pairs = fnc.load_fnc(cfg.paths.datasets)
        split = load_split(cfg, bodies)
        train_pairs = stratified_sample([p for p in pairs if split[p.body_id] == "train"],
                                        cfg.train.same_story.fnc_pairs, cfg.seed)
        rows, texts, fnc_y = evidence_rows(train_pairs, bodies, cfg, scorer, timer, "fnc_train")
        fnc_X = to_features(rows, texts)
        counts["fnc_train_pairs"] = len(rows)
        root = Path(cfg.paths.datasets) / "fnc1"
        data_sha = {name: files.sha256_file(root / name) for name in ("train_bodies.csv", "train_stances.csv")}
    story_rows, story_texts, story_y, groups, labelled = same_story_rows(cfg, scorer, timer)
    claim_ids = np.array([p.claim_id for p in story_rows])
    story_X = to_features(story_rows, story_texts)
    counts |= {"same_story_pairs": int(labelled.sum()), "hard_negatives": int((~labelled).sum()),
               "events": len(set(groups))}
    fit_parts = []
    for name in cfg.train.same_story.get("fit_sets") or []:
        if name == cfg.train.same_story.set:
            raise PipelineError(None, f"train.same_story.fit_sets names {name}, the set the heads are chosen on")
        rows, texts, y, fit_groups, fit_labelled = same_story_rows(cfg, scorer, timer, name)
        fit_parts.append((to_features(rows, texts), y))
        counts[f"{name}_pairs"] = int(fit_labelled.sum())
        counts[f"{name}_events"] = len(set(fit_groups))
    fit_rows = stacked(*fit_parts)
    timer.lap("features_s")
    best, scores, head = select_head(cfg, fnc_X, fnc_y, story_X, story_y, groups, labelled, claim_ids, fit_rows)
    timer.lap("select_s")
    sidecar = {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "head": {"kind": type(head).__name__, "params": head.get_params(),
                 **({"learned_thresholds": head.thresholds_} if hasattr(head, "thresholds_") else {})},
        "selected": best, "selected_by": f"macro-F1, {cfg.train.same_story.folds}-fold event-grouped CV on "
                                         f"{cfg.train.same_story.set}; a fitted head must beat the untrained rule in "
                                         f">= {cfg.train.same_story.get('min_win_rate', 0.0):.0%} of claim-bootstrap "
                                         "resamples; fitted with "
                                         f"{list(cfg.train.same_story.get('fit_sets') or []) or 'no other set'}",
        "selection": scores,
        "config": OmegaConf.to_container(cfg, resolve=True),
        "nli_model": scorer.identity,
        "data_sha256": data_sha,
        "counts": counts,
        "timings": timer.timings,
    }
    save_head(head, out, sidecar, overwrite=cfg.train.overwrite)
    print(markdown_table(["head", f"{cfg.train.same_story.set} CV macro-F1", "beats the rule in (bootstrap)",
                          "accuracy", "F1 agree", "F1 disagree", "F1 discuss", "F1 unrelated"],
                         [[name, m["macro_f1"], m.get("win_rate", ""), m["accuracy"], *(m["per_class"][k]["f1"] for k in
                                                                 ("agree", "disagree", "discuss", "unrelated"))]
                          for name, m in scores.items()]))
    print(f"\nselected {best}: the best {sidecar['selected_by']}; saved {out}; {counts}; timings {timer.timings}")
    if best == UNTRAINED:
        print("no fitted head beats the untrained rule surely on held-out events, so the saved head is that rule: "
              "make eval gives the rule's numbers")
    sidecar["tracking"] = {
        "metrics": {f"train/{re.sub(r'[^A-Za-z0-9]+', '_', n).strip('_')}_cv_macro_f1": m["macro_f1"]
                    for n, m in scores.items()}
        | {f"time/{k}": v for k, v in timer.timings.items() if k.endswith("_s")},
        "artifacts": [out / "head.json"],
        "tags": {"nli_model": scorer.identity, "selected": best}}
    return sidecar


def run(cfg: DictConfig) -> dict:
    quiet_libraries()
    set_seed(cfg.seed)
    if cfg.train.get("select"):
        return run_selected(cfg)
    out = Path(cfg.train.output_dir)
    atomic.refuse_existing(out, cfg.train.overwrite, "train.overwrite")
    timer = Timer()
    bodies, pairs = fnc.load_fnc(cfg.paths.datasets)
    split = load_split(cfg, bodies)
    train_pairs = stratified_sample([p for p in pairs if split[p.body_id] == "train"], cfg.train.max_pairs, cfg.seed)
    dev_pairs = [p for p in pairs if split[p.body_id] == "dev"]
    assert not {p.body_id for p in train_pairs} & {p.body_id for p in dev_pairs}, "a body on both sides"
    timer.lap("load_s")
    if "path" in cfg.stance:
        raise PipelineError(None, "make train needs a head to fit: stance=finetuned, stance=gbm, stance=logreg or "
                                  "stance=rule")
    head = instantiate_unwrapped(cfg.stance)
    scorer = build_scorer(cfg)
    # a head that reads text needs evidence sentences only; feature heads need their NLI scores
    nli = EvidenceOnly() if reads_text(head) else scorer
    train_rows, train_texts, y_train = evidence_rows(train_pairs, bodies, cfg, nli, timer, "train")
    dev_rows, dev_texts, y_dev = evidence_rows(dev_pairs, bodies, cfg, nli, timer, "dev")
    if reads_text(head):
        head.fit_pairs(train_rows, list(y_train))
        rule = None
    else:
        X_train, X_dev = to_features(train_rows, train_texts), to_features(dev_rows, dev_texts)
        timer.lap("features_s")
        head.fit(X_train, y_train)
        rule = stance_metrics(list(y_dev), list(RuleStance().fit().predict(X_dev)))  # a priori thresholds
    timer.lap("fit_s")
    dev = stance_metrics(list(y_dev), stance_labels(head, dev_rows, dev_texts))
    timer.lap("dev_predict_s")
    root = Path(cfg.paths.datasets) / "fnc1"
    sidecar = {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "head": {"kind": type(head).__name__, "params": head.get_params(),
                 **({"learned_thresholds": head.thresholds_} if hasattr(head, "thresholds_") else {}),
                 **({"training": head.training_log_} if hasattr(head, "training_log_") else {})},
        "config": OmegaConf.to_container(cfg, resolve=True),
        "nli_model": scorer.identity,
        "data_sha256": {name: files.sha256_file(root / name) for name in ("train_bodies.csv", "train_stances.csv")}
        | {"split.csv": files.sha256_file(cfg.train.split_file)},
        "counts": {"train_pairs": len(train_pairs), "dev_pairs": len(dev_pairs),
                   "train_bodies": len({p.body_id for p in train_pairs}),
                   "dev_bodies": len({p.body_id for p in dev_pairs})},
        "dev_metrics": dev,
        **({"dev_metrics_rule": rule} if rule else {}),
        "timings": timer.timings,
    }
    confusion = confusion_figure(dev["confusion"]["matrix"], dev["confusion"]["labels"],
                                 f"FNC-1 dev, {type(head).__name__}: FNC {dev['fnc_relative_score']:.3f}")
    save_head(head, cfg.train.output_dir, sidecar, overwrite=cfg.train.overwrite,
              figures={"confusion_dev.png": confusion})
    print(markdown_table(
        ["head", "FNC relative score", "macro-F1", "accuracy", "F1 agree", "F1 disagree", "F1 discuss",
         "F1 unrelated"],
        [[name, m["fnc_relative_score"], m["macro_f1"], m["accuracy"],
          *(m["per_class"][k]["f1"] for k in ("agree", "disagree", "discuss", "unrelated"))]
         for name, m in ((f"{_head_name(head)} (trained)", dev), ("rule, default thresholds", rule)) if m]))
    print(f"\nFNC-1 dev split: {len(dev_pairs)} pairs over {sidecar['counts']['dev_bodies']} bodies; "
          f"saved {cfg.train.output_dir}; timings {timer.timings}")
    sidecar["tracking"] = {
        "metrics": {"train/dev_fnc_score": dev["fnc_relative_score"], "train/dev_macro_f1": dev["macro_f1"],
                    "train/dev_accuracy": dev["accuracy"],
                    **{f"train/dev_f1_{k}": v["f1"] for k, v in dev["per_class"].items()},
                    **({"train/rule_dev_fnc_score": rule["fnc_relative_score"],
                        "train/rule_dev_macro_f1": rule["macro_f1"]} if rule else {}),
                    **{f"time/{k.replace('/', '_')}": v for k, v in timer.timings.items() if k.endswith("_s")}},
        "artifacts": [out / "head.json", out / "confusion_dev.png"],
        "tags": {"nli_model": scorer.identity, "data_sha256": sidecar["data_sha256"]},
    }
    return sidecar


def _head_name(head) -> str:
    return "finetuned" if reads_text(head) else getattr(head, "kind", "rule")


@hydra.main(config_path="../conf", config_name="train", version_base="1.3")
@guarded
def main(cfg: DictConfig) -> None:
    execute(cfg, "train", run)


if __name__ == "__main__":
    main()
