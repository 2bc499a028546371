"""Choosing the stance head for a run: the configured `stance` (default: the documented rule)."""

from __future__ import annotations

import logging


log = logging.getLogger(__name__)


def load_head(cfg):
    """Return (fitted head, info dict). For now the rule in `conf/stance/`; `make train` adds learned heads."""
    from pipeline.predict import instantiate_unwrapped

    head = instantiate_unwrapped(cfg.stance).fit()
    params = head.get_params()
    return head, {"kind": type(head).__name__, "params": params}
