"""io.py: atomic outputs, permissions, text decoding and JSONL parsing."""

from __future__ import annotations

import json
import os
import stat

import pytest

from pipeline.core import atomic, files
from pipeline.core.records import PipelineError


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _expected_mode(directory: bool = False) -> int:
    mask = os.umask(0)
    os.umask(mask)
    return (0o777 if directory else 0o666) & ~mask


# ---- atomic_dir --------------------------------------------------------------------------------------------


def test_atomic_dir_refuses_existing_dir_and_leaves_it_untouched(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("old", encoding="utf-8")

    with pytest.raises(PipelineError) as err:
        with atomic.atomic_dir(out) as tmp:
            (tmp / "new.txt").write_text("new", encoding="utf-8")

    assert str(out) in str(err.value)
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]
    assert (out / "keep.txt").read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temp dir left beside it


def test_atomic_dir_overwrite_replaces_existing_dir(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("old", encoding="utf-8")

    with atomic.atomic_dir(out, overwrite=True) as tmp:
        assert tmp != out and tmp.parent == out.parent
        (tmp / "new.txt").write_text("new", encoding="utf-8")
        assert (out / "old.txt").exists()  # the old output survives until the new one is complete

    assert sorted(p.name for p in out.iterdir()) == ["new.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert _mode(out) == _expected_mode(directory=True)


def test_atomic_dir_creates_new_dir_with_normal_permissions(tmp_path):
    out = tmp_path / "nested" / "out"
    with atomic.atomic_dir(out) as tmp:
        (tmp / "a.txt").write_text("a", encoding="utf-8")
    assert (out / "a.txt").read_text(encoding="utf-8") == "a"
    assert _mode(out) == _expected_mode(directory=True)  # not mkdtemp's private 0700


@pytest.mark.parametrize("existing", [False, True])
def test_atomic_dir_leaves_nothing_behind_on_error(tmp_path, existing):
    out = tmp_path / "out"
    if existing:
        out.mkdir()
        (out / "keep.txt").write_text("old", encoding="utf-8")

    with pytest.raises(RuntimeError, match="boom"):
        with atomic.atomic_dir(out, overwrite=True) as tmp:
            (tmp / "partial.txt").write_text("half", encoding="utf-8")
            raise RuntimeError("boom")

    if existing:
        assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]
        assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    else:
        assert not out.exists()
        assert list(tmp_path.iterdir()) == []


# ---- atomic_file / write_* ---------------------------------------------------------------------------------


def test_atomic_file_and_write_jsonl_have_normal_permissions(tmp_path):
    with atomic.atomic_file(tmp_path / "a.txt") as tmp:
        tmp.write_text("hello", encoding="utf-8")
    n = atomic.write_jsonl(tmp_path / "rows.jsonl", [{"x": 1}, {"x": "é"}])
    atomic.write_json(tmp_path / "obj.json", {"k": [1, 2]})

    assert n == 2
    for name in ("a.txt", "rows.jsonl", "obj.json"):
        assert _mode(tmp_path / name) == _expected_mode(), name  # mkstemp would leave 0600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "obj.json", "rows.jsonl"]
    lines = (tmp_path / "rows.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [{"x": 1}, {"x": "é"}]


def test_atomic_file_removes_temp_and_keeps_old_file_on_error(tmp_path):
    target = tmp_path / "a.txt"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError):
        with atomic.atomic_file(target) as tmp:
            tmp.write_text("new", encoding="utf-8")
            raise RuntimeError("boom")
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


# ---- read_text ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "not found"),
        (b"", "empty"),
        (b"  \n\t\n", "empty"),
        (b"PK\x03\x04\x00\x00binary\x00data", "binary"),
    ],
    ids=["missing", "empty", "blank", "binary"],
)
def test_read_text_errors_name_the_path(tmp_path, content, problem):
    path = tmp_path / "article.txt"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(PipelineError) as err:
        files.read_text(path)
    assert err.value.path == str(path)
    assert str(path) in str(err.value)
    assert problem in err.value.problem


def test_read_text_utf8_with_bom(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes("\ufeffCafé owners cheered.".encode("utf-8"))
    assert files.read_text(path) == ("Café owners cheered.", "utf-8")


FRENCH = (
    "Le café du coin a rouvert ses portes lundi. Les habitués étaient ravis, a dit la propriétaire, "
    "qui a tout rénové pendant l'été.\n"
) * 3


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
def test_read_text_decodes_western_european_text(tmp_path, encoding):
    path = tmp_path / "a.txt"
    path.write_bytes(FRENCH.encode(encoding))
    text, detected = files.read_text(path)
    assert text == FRENCH
    assert detected != "utf-8"


def test_read_text_decodes_latin1_spanish_and_portuguese_letters(tmp_path):
    # BUG: charset_normalizer picks cp1250 here, turning "São"/"señor"/"España" into "Săo"/"seńor"/"Espańa".
    text = (
        "The mayor of São Paulo met the señor from España on Monday, and the café owners of the old town "
        "welcomed the visit warmly.\n"
    ) * 3
    path = tmp_path / "a.txt"
    path.write_bytes(text.encode("latin-1"))
    assert files.read_text(path)[0] == text


def test_read_text_decodes_cp1252_smart_quotes(tmp_path):
    # BUG: a short Windows-1252 file with curly quotes is detected as cp850 and comes back as mojibake.
    text = "The café’s owner said “we are back” after the renovation of the façade.\n"
    path = tmp_path / "a.txt"
    path.write_bytes(text.encode("cp1252"))
    decoded, encoding = files.read_text(path)
    assert decoded == text, f"decoded as {encoding}: {decoded!r}"


# ---- iter_jsonl --------------------------------------------------------------------------------------------


def test_iter_jsonl_reports_malformed_lines_with_line_numbers(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text('{"id": 1}\n\n{"id": 2,\n[1, 2]\n   \n{"id": 3}\n', encoding="utf-8")

    rows = list(files.iter_jsonl(path))

    assert [(lineno, obj) for lineno, obj, _ in rows] == [
        (1, {"id": 1}),
        (3, None),
        (4, None),
        (6, {"id": 3}),
    ]
    errors = {lineno: error for lineno, _, error in rows}
    assert errors[1] == errors[6] == ""
    assert errors[3]  # the JSON decoder's message
    assert errors[4] == "not a JSON object"
