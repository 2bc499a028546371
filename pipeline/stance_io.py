"""Loading and saving stance heads: `models/stance-head/head.joblib` with a JSON sidecar `head.json`."""

from __future__ import annotations

import logging
from pathlib import Path

from pipeline import io
from pipeline.features import FEATURES
from pipeline.records import PipelineError

log = logging.getLogger(__name__)
HEAD_FILE, SIDECAR = "head.joblib", "head.json"


def load_head(cfg):
    """Return (fitted head, info dict) for `cfg.stance`.

    `stance=trained` (the default) loads the head that `make train` saved, or falls back to the rule and says so;
    `stance=rule` is the rule; a learned head config (`stance=gbm`) needs `make train` first.
    """
    from pipeline.predict import instantiate_unwrapped

    node = cfg.stance
    if "path" in node:
        path = Path(node.path)
        if (path / HEAD_FILE).is_file():
            return _load_saved(path)
        log.warning("no trained stance head at %s (run `make train`); using the documented rule", path)
        head = instantiate_unwrapped(node.fallback).fit()
        return head, {"kind": type(head).__name__, "params": head.get_params(), "fallback": True}
    head = instantiate_unwrapped(node)
    if hasattr(head, "fit") and type(head).__name__ == "RuleStance":
        head.fit()
        return head, {"kind": "RuleStance", "params": head.get_params()}
    raise PipelineError(None, f"stance head {node.get('_target_')} must be trained first: run `make train`, then "
                              "use stance=trained")


def _load_saved(path: Path):
    import joblib

    sidecar = io.read_json(path / SIDECAR)
    if tuple(sidecar.get("features", ())) != FEATURES:
        raise PipelineError(path / SIDECAR, "the saved head was trained on other features; run `make train` again")
    try:
        head = joblib.load(path / HEAD_FILE)
    except Exception as err:  # a pickle from another scikit-learn version, a truncated file
        raise PipelineError(path / HEAD_FILE, f"cannot load the stance head ({type(err).__name__}: {err}); run "
                                              "`make train` again or pass stance=rule") from None
    return head, {"kind": type(head).__name__, "params": head.get_params(), "path": str(path),
                  "trained": {k: sidecar[k] for k in ("created", "nli_model", "dev_metrics") if k in sidecar}}


def save_head(head, path: str | Path, sidecar: dict, overwrite: bool = True, figures: dict | None = None) -> None:
    """Write head.joblib, head.json and any `figures` ({file name: matplotlib figure}) in one atomic step."""
    import joblib

    with io.atomic_dir(path, overwrite=overwrite) as tmp:
        joblib.dump(head, tmp / HEAD_FILE)
        io.write_json(tmp / SIDECAR, {"features": list(FEATURES), **sidecar})
        for name, fig in (figures or {}).items():
            io.save_figure(fig, tmp / name)
