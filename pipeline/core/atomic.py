"""Atomic outputs: every file or directory a job writes appears complete or not at all, with the user's normal
permissions; an existing output is refused unless the user asked to replace it."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

from pipeline.core.records import PipelineError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _public(path: Path, directory: bool = False) -> None:
    """mkstemp/mkdtemp create private (0600/0700) entries; give outputs the user's normal permissions."""
    os.chmod(path, (0o777 if directory else 0o666) & ~_umask())


def write_json(path: str | Path, obj) -> None:
    """Write JSON atomically (temp file beside the target, then rename)."""
    with atomic_file(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=False) + "\n", encoding="utf-8")


def write_text(path: str | Path, text: str) -> None:
    with atomic_file(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def jsonl_line(row: dict) -> str:
    """One JSONL line as every output of the pipeline writes it (UTF-8 kept, keys in their order)."""
    return json.dumps(row, ensure_ascii=False, sort_keys=False) + "\n"


def write_jsonl(path: str | Path, rows: Iterable[dict]) -> int:
    n = 0
    with atomic_file(path) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(jsonl_line(row))
            n += 1
    return n


@contextlib.contextmanager
def atomic_file(path: str | Path):
    """Yield a temporary path beside `path`; on success it is renamed onto `path`, on failure removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    _public(tmp_path)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        tmp_path.unlink(missing_ok=True)


def refuse_existing(path: str | Path, overwrite: bool, key: str = "overwrite") -> None:
    """Stop if `path` exists and the user did not ask to replace it (`key`=true). Jobs call this before their work,
    so a long run is not refused at the end; `atomic_dir` checks again when it writes."""
    if Path(path).exists() and not overwrite:
        raise PipelineError(path, f"output already exists; pass {key}=true to replace it")


@contextlib.contextmanager
def atomic_dir(path: str | Path, *, overwrite: bool = False):
    """Yield a temporary directory beside `path`; on success it replaces `path`, on failure it is removed.

    An existing `path` is refused unless `overwrite`, and is only removed once the new one is complete.
    """
    path = Path(path)
    refuse_existing(path, overwrite)
    if path.exists() and not path.is_dir():
        raise PipelineError(path, "output exists and is not a directory")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    _public(tmp, directory=True)
    try:
        yield tmp
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
            os.replace(path, old / "d")
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def save_figure(fig, path: str | Path) -> None:
    """Save a matplotlib figure as PNG, atomically, and free it."""
    import matplotlib.pyplot as plt

    with atomic_file(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
