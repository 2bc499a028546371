"""Loading, saving and applying stance heads.

A feature head (rule, gbm, logreg) is saved as `models/stance-head/head.joblib`; the fine-tuned cross-encoder head
as `models/stance-head/model/` (Hugging Face format, fp16). Both get the JSON sidecar `head.json`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from pipeline.core import atomic, files
from pipeline.core.records import STANCE_LABELS, PipelineError, StancePair
from pipeline.stages.stance.features import FEATURES, to_features

log = logging.getLogger(__name__)
HEAD_FILE, MODEL_DIR, SIDECAR = "head.joblib", "model", "head.json"
FINETUNED = "FinetunedStance"


def reads_text(head) -> bool:
    """True for heads that read the evidence text (`fit_pairs`/`predict_pairs`), not feature rows."""
    return hasattr(head, "predict_pairs")


def stance_proba(head, pairs: Sequence[StancePair], article_texts: dict[str, str]) -> np.ndarray:
    """Stance probabilities `(len(pairs), 4)` in STANCE_LABELS order, from any head."""
    if not pairs:
        return np.zeros((0, len(STANCE_LABELS)))
    if reads_text(head):
        return head.predict_pairs(pairs)
    return head.predict_proba(to_features(pairs, article_texts))


def stance_labels(head, pairs: Sequence[StancePair], article_texts: dict[str, str]) -> list[str]:
    return [STANCE_LABELS[i] for i in stance_proba(head, pairs, article_texts).argmax(axis=1)]


def load_head(cfg):
    """Return (fitted head, info dict) for `cfg.stance`.

    `stance=trained` (the default) loads the head that `make train` saved, or falls back to the rule and says so;
    `stance=rule` is the rule; a learned head config (`stance=gbm`, `stance=finetuned`) needs `make train` first.
    """
    from pipeline.core.cli import instantiate_unwrapped

    node = cfg.stance
    if "path" in node:
        path = Path(node.path)
        if (path / SIDECAR).is_file():
            head, info = _load_saved(path)
            n = getattr(head, "n_evidence", 0)
            if n > cfg.evidence.top_k:
                log.warning("the stance head was trained on %d evidence sentences per pair but evidence.top_k=%d",
                            n, cfg.evidence.top_k)
            return head, info
        log.warning("no trained stance head at %s (run `make train`); using the documented rule", path)
        head = _fitted_rule(instantiate_unwrapped(node.fallback))
        return head, {"kind": type(head).__name__, "params": head.get_params(), "fallback": True}
    head = instantiate_unwrapped(node)
    if hasattr(head, "fit") and type(head).__name__ == "RuleStance":
        head = _fitted_rule(head)
        return head, {"kind": "RuleStance", "params": head.get_params()}
    raise PipelineError(None, f"stance head {node.get('_target_')} must be trained first: run `make train`, then "
                              "use stance=trained")


def _fitted_rule(head):
    try:
        return head.fit()
    except ValueError as err:  # a configured value out of range: one line, before any work is done
        raise PipelineError(None, str(err)) from None


def _load_saved(path: Path):
    sidecar = files.read_json(path / SIDECAR)
    kind = sidecar.get("head", {}).get("kind")
    if kind == FINETUNED:
        from pipeline.stages.stance.finetuned import FinetunedStance

        if not (path / MODEL_DIR / "config.json").is_file():
            raise PipelineError(path / MODEL_DIR, "the fine-tuned stance model is missing; run `make train` again")
        head = FinetunedStance.load(path / MODEL_DIR, sidecar["head"]["params"])
    else:
        import joblib

        if tuple(sidecar.get("features", ())) != FEATURES:
            raise PipelineError(path / SIDECAR, "the saved head was trained on other features; run `make train` "
                                                "again")
        try:
            head = joblib.load(path / HEAD_FILE)
        except Exception as err:  # a pickle from another scikit-learn version, a truncated file
            raise PipelineError(path / HEAD_FILE, f"cannot load the stance head ({type(err).__name__}: {err}); run "
                                                  "`make train` again or pass stance=rule") from None
    return head, {"kind": type(head).__name__, "params": head.get_params(), "path": str(path),
                  "trained": {k: sidecar[k] for k in ("created", "nli_model", "dev_metrics") if k in sidecar}}


def save_head(head, path: str | Path, sidecar: dict, overwrite: bool = True, figures: dict | None = None) -> None:
    """Write the head (head.joblib, or model/ for a fine-tuned head), head.json and any `figures` ({file name:
    matplotlib figure}) in one atomic step."""
    with atomic.atomic_dir(path, overwrite=overwrite) as tmp:
        if reads_text(head):
            head.save_pretrained(tmp / MODEL_DIR)
            atomic.write_json(tmp / SIDECAR, {"input": f"top {head.n_evidence} evidence sentences + claim", **sidecar})
        else:
            import joblib

            joblib.dump(head, tmp / HEAD_FILE)
            atomic.write_json(tmp / SIDECAR, {"features": list(FEATURES), **sidecar})
        for name, fig in (figures or {}).items():
            atomic.save_figure(fig, tmp / name)
