"""Hostile inputs to `pipeline.infer`: each gets one clear line naming the file, a non-zero exit, no traceback
(unless debug=true) and no partial output."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from pipeline import infer
from pipeline.core.encoder import bundled_encoder_path
from pipeline.core.records import PipelineError
from tests.conftest import ROOT

BODY = ("The mayor opened the new bridge on Monday after two years of work. Officials said it cost four million "
        "dollars, more than planned. The bridge connects the two halves of the town.")


def run_infer(cfg_factory, tmp_path, source, *extra, model=None):
    out = tmp_path / "out"
    overrides = [f"input={source}", f"output={out}", *extra]
    if model:
        overrides.append(f"model.name={model}")
    return infer.run(cfg_factory(*overrides)), out


def expect_error(cfg_factory, tmp_path, source, match, *extra, model=None):
    out = tmp_path / "out"
    with pytest.raises(PipelineError, match=match) as err:
        run_infer(cfg_factory, tmp_path, source, *extra, model=model)
    assert not out.exists(), "no partial output"
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".out.")], "no temp dir left"
    return err.value


def test_missing_input(cfg_factory, tmp_path):
    err = expect_error(cfg_factory, tmp_path, tmp_path / "nope", "input not found")
    assert err.path.endswith("nope")


def test_empty_directory(cfg_factory, tmp_path):
    (tmp_path / "in").mkdir()
    expect_error(cfg_factory, tmp_path, tmp_path / "in", "no .txt or .html articles")


def test_directory_with_only_an_empty_file(cfg_factory, tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text("  \n")
    expect_error(cfg_factory, tmp_path, tmp_path / "in", "no article text found")


def test_binary_file_is_named(cfg_factory, tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "good.txt").write_text(BODY)
    (tmp_path / "in" / "photo.txt").write_bytes(bytes(range(256)) * 20)
    err = expect_error(cfg_factory, tmp_path, tmp_path / "in", "binary file")
    assert err.path.endswith("photo.txt")


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
def test_non_utf8_text_is_decoded_and_reported(cfg_factory, tmp_path, tiny_nli_model, encoding):
    (tmp_path / "in").mkdir()
    text = "Le maire a inauguré le nouveau pont lundi. Les élus ont déclaré qu’il a coûté quatre millions."
    text = text.replace("’", "'") if encoding == "latin-1" else text
    (tmp_path / "in" / "fr.txt").write_bytes(text.encode(encoding))
    info, out = run_infer(cfg_factory, tmp_path, tmp_path / "in", model=tiny_nli_model)
    assert info["notes"]["encodings"]["fr.txt"] not in ("utf-8", "utf_8")
    claims = (out / "claims.jsonl").read_text(encoding="utf-8")
    assert "inauguré" in claims


def test_five_megabyte_single_line_is_bounded(cfg_factory, tmp_path, tiny_nli_model):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "huge.txt").write_text(("The council met again today. " * 180_000)[:5_000_000])
    info, out = run_infer(cfg_factory, tmp_path, tmp_path / "in", "ingest.max_chars=3000", model=tiny_nli_model)
    assert (out / "stances.jsonl").exists()
    assert info["counts"]["articles"] == 1


def test_html_is_converted_to_text(cfg_factory, tmp_path, tiny_nli_model):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "page.html").write_text(
        f"<!doctype html><html><head><script>var x=1;</script><style>p{{}}</style></head><body>"
        f"<nav>Home | World</nav><p>{BODY}</p></body></html>")
    _, out = run_infer(cfg_factory, tmp_path, tmp_path / "in", model=tiny_nli_model)
    claims = (out / "claims.jsonl").read_text()
    assert "mayor opened the new bridge" in claims and "var x" not in claims and "<p>" not in claims


def test_duplicate_articles_are_scored_once_and_reported_for_both(cfg_factory, tmp_path, tiny_nli_model):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text(BODY)
    (tmp_path / "in" / "b.txt").write_text(BODY + "\n")
    info, out = run_infer(cfg_factory, tmp_path, tmp_path / "in", model=tiny_nli_model)
    assert info["notes"]["duplicates"] == [{"scored_as": "a", "articles": ["a", "b"]}]
    assert info["counts"]["articles"] == 2 and info["counts"]["scored_articles"] == 1
    rows = [json.loads(x) for x in (out / "stances.jsonl").read_text().splitlines()]
    assert {r["article_id"] for r in rows} == {"a", "b"}


def _jsonl(tmp_path):
    path = tmp_path / "articles.jsonl"
    path.write_text(json.dumps({"id": "a", "text": BODY, "outlet": "One"}) + "\n{not json\n"
                    + json.dumps({"id": "b", "text": BODY.replace("mayor", "governor")}) + "\n[1, 2]\n")
    return path


def test_malformed_jsonl_lines_are_skipped_with_their_numbers(cfg_factory, tmp_path, tiny_nli_model):
    info, _ = run_infer(cfg_factory, tmp_path, _jsonl(tmp_path), model=tiny_nli_model)
    assert [s.split(" ")[0] for s in info["notes"]["skipped_lines"]] == ["2", "4"]
    assert info["counts"]["articles"] == 2


def test_malformed_jsonl_is_an_error_when_strict(cfg_factory, tmp_path):
    expect_error(cfg_factory, tmp_path, _jsonl(tmp_path), "line 2: malformed JSONL", "strict=true")


def test_claim_without_text_is_an_error_with_line_number(cfg_factory, tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text(BODY)
    claims = tmp_path / "claims.jsonl"
    claims.write_text('{"id": "c1", "text": "The bridge opened."}\n{"id": "c2"}\n')
    err = expect_error(cfg_factory, tmp_path, tmp_path / "in", "line 2: claim has no 'text'", f"claims={claims}")
    assert err.path == str(claims)


def test_claim_with_unknown_article_is_an_error(cfg_factory, tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text(BODY)
    claims = tmp_path / "claims.jsonl"
    claims.write_text('{"id": "c1", "text": "The bridge opened.", "articles": ["a", "zzz"]}\n')
    expect_error(cfg_factory, tmp_path, tmp_path / "in", "unknown article id.*zzz", f"claims={claims}")


def test_model_without_nli_head_is_refused_naming_it(cfg_factory, tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text(BODY)
    encoder = bundled_encoder_path()
    err = expect_error(cfg_factory, tmp_path, tmp_path / "in", "not an NLI classifier.*missing entailment",
                       model=encoder)
    assert err.path == encoder


def test_existing_output_is_refused_and_left_untouched(cfg_factory, tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text(BODY)
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(PipelineError, match="already exists"):
        run_infer(cfg_factory, tmp_path, tmp_path / "in")
    assert [p.name for p in out.iterdir()] == ["notes.txt"] and (out / "notes.txt").read_text() == "mine"


# ---- the command line: one line, exit code, no traceback ----------------------------------------------------

def cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "pipeline.infer", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300)


def test_cli_error_is_one_line_without_traceback(tmp_path):
    proc = cli(f"input={tmp_path / 'missing'}", f"output={tmp_path / 'out'}")
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"error: {tmp_path / 'missing'}: input not found"
    assert "Traceback" not in proc.stdout + proc.stderr
    assert not (tmp_path / "out").exists()


def test_cli_debug_shows_the_traceback(tmp_path):
    proc = cli(f"input={tmp_path / 'missing'}", f"output={tmp_path / 'out'}", "debug=true")
    assert proc.returncode != 0 and "Traceback" in proc.stderr and "input not found" in proc.stderr


def test_cli_unknown_config_key_is_hydras_clean_error(tmp_path):
    proc = cli(f"input={tmp_path}", f"output={tmp_path / 'out'}", "segment.nonexistent=3")
    assert proc.returncode != 0
    assert "segment.nonexistent" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("value", ["-1", "many", "2.5", "true"])
def test_cli_bad_story_pages_is_refused_in_one_line_before_any_work(tmp_path, value):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text("The mayor opened the bridge on Monday.")
    proc = cli(f"input={tmp_path / 'in'}", f"output={tmp_path / 'out'}", f"report.story_pages={value}",
               "tracking.enabled=false")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().startswith("error: report.story_pages must be a whole number >= 0 or null")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("setting", "match"), [
    (["evidence.join=-1"], "evidence.join must be 0"),
    (["evidence.join=2.5"], "evidence.join must be 0"),
    (["stance=rule", "stance.smoothing=1.5"], r"stance.smoothing must be in \[0, 1\)"),
    (["stance=rule", "stance.smoothing=-0.1"], r"stance.smoothing must be in \[0, 1\)"),
])
def test_out_of_range_settings_are_refused_with_no_output(cfg_factory, tmp_path, tiny_nli_model, setting, match):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text(BODY)
    expect_error(cfg_factory, tmp_path, tmp_path / "in", match, *setting, "tracking.enabled=false",
                 model=str(tiny_nli_model))


def test_sigterm_mid_run_leaves_no_output_and_no_temporary_directory(tmp_path):
    """A run killed with SIGTERM (a scheduler, `timeout`) unwinds: exit 143, no output directory and none of the
    temporary one it was writing, so a rerun starts clean (its caches keep the work done)."""
    import signal
    import time

    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "pipeline.infer", f"input={ROOT / 'data/raw/basil_feed.jsonl'}",
                             f"output={out}", "model=none", "tracking.enabled=false",
                             f"cache.path={tmp_path / 'nli.sqlite'}", f"cache.embeddings={tmp_path / 'emb.sqlite'}"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 240
    while not list(tmp_path.glob(".out.*.tmp")) and proc.poll() is None and time.time() < deadline:
        time.sleep(0.2)
    assert list(tmp_path.glob(".out.*.tmp")), "the run never started writing"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143 and "terminated" in err and "Traceback" not in err
    assert not out.exists() and not list(tmp_path.glob(".out.*"))
