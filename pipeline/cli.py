"""Shared plumbing for the job entry points: seeds, and turning PipelineError into one clean line."""

from __future__ import annotations

import functools
import logging
import os
import random
import sys

from pipeline.records import PipelineError

log = logging.getLogger("pipeline")


def set_seed(seed: int) -> None:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def quiet_libraries() -> None:
    """Keep library chatter (hub warnings, uninitialised-head notices) out of the user's terminal."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import transformers

    transformers.logging.set_verbosity_error()
    for name in ("sentence_transformers", "mlflow", "urllib3", "filelock", "huggingface_hub"):
        logging.getLogger(name).setLevel(logging.WARNING)


def guarded(run):
    """Wrap a job's body: a PipelineError becomes `error: <file>: <problem>` and exit code 2.

    The full traceback is shown only with `debug=true`.
    """

    @functools.wraps(run)
    def wrapper(cfg):
        try:
            return run(cfg)
        except PipelineError as err:
            if cfg.get("debug", False):
                raise
            print(f"error: {err}", file=sys.stderr)
            sys.exit(2)
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            sys.exit(130)

    return wrapper
