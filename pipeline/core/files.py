"""File I/O: tables, JSONL, atomic outputs and content hashes. The only module that opens files."""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

from pipeline.core.records import EmptyFileError, PipelineError

csv.field_size_limit(1 << 26)


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


