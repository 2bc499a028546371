"""Shared plumbing for the job entry points: seeds, and turning PipelineError into one clean line."""

from __future__ import annotations

import functools
import logging
import os
import random
import sys

from pipeline.core.records import PipelineError

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
        _exit_on_sigterm()
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


def _exit_on_sigterm() -> None:
    """SIGTERM (a scheduler's kill, `timeout`) unwinds like an exception instead of killing the process outright, so
    the `finally` blocks run: a half-written output directory (`atomic.atomic_dir`) is removed, caches are closed,
    and the exit code is 143 (128 + SIGTERM)."""
    import signal
    import threading

    def terminate(signum, frame):
        print("terminated", file=sys.stderr)
        raise SystemExit(128 + signum)

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, terminate)


def instantiate_unwrapped(node):
    """hydra.utils.instantiate, but a PipelineError raised by the target stays a PipelineError (Hydra would wrap
    it in an InstantiationException, and the user would get a traceback instead of one line)."""
    from hydra.errors import InstantiationException
    from hydra.utils import instantiate

    try:
        return instantiate(node)
    except InstantiationException as err:
        cause = err.__cause__
        if isinstance(cause, PipelineError):
            raise cause from None
        raise PipelineError(None, f"could not build {node.get('_target_')}: {cause or err}") from None
