"""`make train`: fit the configured stance head on FNC-1 (train split by Body ID) and evaluate it on the dev split.

Inputs: `fnc1/` under `paths.datasets`; the split file `train.split_file` (created if missing).
Outputs: `train.output_dir` (models/stance-head/): head.joblib + head.json (config, features, data hashes,
NLI model identity, dev metrics); the NLI scores land in the on-disk cache, so re-runs are fast.
"""

from __future__ import annotations

import logging
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
    for key in ("evidence_s", "nli_pairs", "nli_s", "nli_cached"):
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


def run(cfg: DictConfig) -> dict:
    quiet_libraries()
    set_seed(cfg.seed)
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
