"""File I/O: tables, JSONL, atomic outputs and content hashes. The only module that opens files."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from pipeline.records import EmptyFileError, PipelineError

csv.field_size_limit(1 << 26)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _public(path: Path, directory: bool = False) -> None:
    """mkstemp/mkdtemp create private (0600/0700) entries; give outputs the user's normal permissions."""
    os.chmod(path, (0o777 if directory else 0o666) & ~_umask())


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_table(
    path: str | Path,
    *,
    quoted: bool = False,
    header: bool = True,
    encoding: str = "utf-8-sig",
) -> list[dict[str, str]] | list[list[str]]:
    """Read a tab-separated file: dict rows when it has a header, else list rows.

    Args:
        quoted: the file uses CSV quoting ("" escapes); otherwise quotes are literal text.
    """
    path = Path(path)
    if not path.is_file():
        raise PipelineError(path, "file not found")
    with open(path, encoding=encoding, newline="") as fh:
        reader = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_MINIMAL if quoted else csv.QUOTE_NONE)
        rows = list(reader)
    if not header:
        return rows
    names = rows[0]
    return [dict(zip(names, row)) for row in rows[1:]]


def read_json(path: str | Path):
    path = Path(path)
    if not path.is_file():
        raise PipelineError(path, "file not found")
    with open(path, encoding="utf-8") as fh:
        try:
            return json.load(fh)
        except json.JSONDecodeError as err:
            raise PipelineError(path, f"malformed JSON ({err.msg} at line {err.lineno})") from None


def write_json(path: str | Path, obj) -> None:
    """Write JSON atomically (temp file beside the target, then rename)."""
    with atomic_file(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=False) + "\n", encoding="utf-8")


def write_text(path: str | Path, text: str) -> None:
    with atomic_file(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_jsonl(path: str | Path, rows: Iterable[dict]) -> int:
    n = 0
    with atomic_file(path) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False, sort_keys=False) + "\n")
            n += 1
    return n


def iter_jsonl(path: str | Path) -> Iterator[tuple[int, dict | None, str]]:
    """Yield (line number, parsed object or None if malformed, error message) for each non-blank line."""
    lineno = 0
    with open(path, encoding="utf-8-sig") as fh:
        try:
            for lineno, line in enumerate(fh, start=1):  # noqa: B007 (lineno is read in the except)
                if line.strip():
                    yield (lineno, *_parse_json_object(line))
        except UnicodeDecodeError:
            raise PipelineError(path, f"line {lineno + 1}: not UTF-8 text (JSONL must be UTF-8)") from None


def _parse_json_object(line: str) -> tuple[dict | None, str]:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as err:
        return None, err.msg
    if not isinstance(obj, dict):
        return None, "not a JSON object"
    return obj, ""


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


# ---- articles ---------------------------------------------------------------------------------------------------

def read_text(path: str | Path) -> tuple[str, str]:
    """Read a text file, returning (text, encoding). UTF-8 first, then a detected encoding.

    Raises PipelineError for a missing, empty or binary file.
    """
    path = Path(path)
    if not path.is_file():
        raise PipelineError(path, "file not found")
    data = path.read_bytes()
    if not data.strip():
        raise EmptyFileError(path, "empty file")
    head = data[:8192]
    if b"\x00" in head:
        raise PipelineError(path, "binary file, not text")
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    # Western news is far more often cp1252/latin-1 than anything else, and detectors confuse those with
    # cp1250/cp850 on short texts; take cp1252 when it decodes cleanly, else ask charset-normalizer.
    try:
        text = data.decode("cp1252")
        if not _has_binary_controls(text):
            return text, "cp1252"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None or _has_binary_controls(str(best)):
        raise PipelineError(path, "binary file or unknown text encoding")
    return str(best), best.encoding


def _has_binary_controls(text: str) -> bool:
    controls = sum(1 for ch in text[:8192] if ord(ch) < 32 and ch not in "\n\r\t\f")
    return controls > 0.01 * min(len(text), 8192)


def read_outlets(path: str | Path) -> dict[str, str]:
    """outlets.csv (columns file,outlet) -> {file name or stem: outlet}; blank outlets are left out."""
    text, _ = read_text(path)
    rows = list(csv.DictReader(text.splitlines()))
    if rows and not {"file", "outlet"} <= set(rows[0]):
        raise PipelineError(path, "outlets.csv needs the columns file,outlet")
    out = {}
    for row in rows:
        if (row.get("outlet") or "").strip():
            out[row["file"].strip()] = row["outlet"].strip()
            out[Path(row["file"].strip()).stem] = row["outlet"].strip()
    return out


# ---- NLI score cache ----------------------------------------------------------------------------------------------

class _SqliteCache:
    """A key -> row store on disk (SQLite, WAL), read and written in batches. Safe to delete."""

    table = ""
    columns = ""
    what = "cache"

    def __init__(self, path: str | Path):
        import sqlite3

        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute(f"CREATE TABLE IF NOT EXISTS {self.table} (key TEXT PRIMARY KEY, {self.columns})")
        except sqlite3.DatabaseError as err:
            raise PipelineError(self.path, f"{self.what} unreadable ({err}); delete it to start afresh") from None
        self.width = 1 + self.columns.count(",") + 1

    def get_many(self, keys: list[str]) -> dict[str, tuple]:
        found: dict[str, tuple] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for key, *values in self.db.execute(f"SELECT * FROM {self.table} WHERE key IN ({marks})", chunk):
                found[key] = tuple(values)
        return found

    def put_many(self, rows: list[tuple]) -> None:
        marks = ",".join("?" * self.width)
        with self.db:
            self.db.execute("BEGIN")
            self.db.executemany(f"INSERT OR REPLACE INTO {self.table} VALUES ({marks})", rows)

    def __len__(self) -> int:
        return self.db.execute(f"SELECT COUNT(*) FROM {self.table}").fetchone()[0]

    def close(self) -> None:
        self.db.close()


class NliCache(_SqliteCache):
    """NLI probabilities on disk, keyed by (model identity, premise, hypothesis). Safe to delete.

    Re-runs, sweeps and resumed batch jobs read scores from here instead of recomputing them.
    """

    table, columns, what = "nli", "e REAL, n REAL, c REAL", "NLI cache"

    @staticmethod
    def key(model: str, premise: str, hypothesis: str) -> str:
        return hashlib.sha256(f"{model}\0{premise}\0{hypothesis}".encode()).hexdigest()


class EmbeddingCache(_SqliteCache):
    """Sentence embeddings on disk (float32 bytes), keyed by (encoder, text). Safe to delete.

    A warm `make train` then skips re-encoding the ~30k FNC-1 sentences. Values are those of the run that first
    encoded each text.
    """

    table, columns, what = "emb", "vec BLOB", "embedding cache"

    @staticmethod
    def key(encoder: str, text: str) -> str:
        return hashlib.sha256(f"{encoder}\0{text}".encode()).hexdigest()


def save_figure(fig, path: str | Path) -> None:
    """Save a matplotlib figure as PNG, atomically, and free it."""
    import matplotlib.pyplot as plt

    with atomic_file(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
