"""Resume after a kill, and determinism: batch inference killed midway and rerun reuses the cached NLI scores
and ends with output identical to an uninterrupted run; two runs give byte-identical claims and stances."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT

SENTENCES = [
    "The mayor opened the new bridge on Monday after two years of work.",
    "Officials said the bridge cost four million dollars, more than planned.",
    "Critics said the council ignored warnings about the budget.",
    "The governor praised the project during a visit to the town.",
    "Traffic on the old ferry route fell by half within a week.",
    "A local bakery won a national award for its sourdough bread.",
    "Heavy rain is expected across the region this weekend.",
    "The council denied that the project ran over budget.",
]


def make_corpus(path, n_articles=24):
    path.mkdir()
    for i in range(n_articles):
        rotated = SENTENCES[i % len(SENTENCES):] + SENTENCES[:i % len(SENTENCES)]
        body = " ".join(f"{s[:-1]} in report {i}." for s in rotated)
        (path / f"art{i:02d}.txt").write_text(body, encoding="utf-8")
    return path


def infer_cmd(src, out, cache, model, *extra):
    return [sys.executable, "-m", "pipeline.infer", f"input={src}", f"output={out}", f"cache.path={cache}",
            f"model.name={model}", "model.batch_size=4", *extra]


def cached_rows(cache) -> int:
    try:
        with sqlite3.connect(cache, timeout=5) as db:
            return db.execute("SELECT COUNT(*) FROM nli").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_killed_run_resumes_from_cache_with_identical_output(tmp_path, tiny_nli_model):
    src = make_corpus(tmp_path / "in")
    reference = tmp_path / "reference"
    subprocess.run(infer_cmd(src, reference, tmp_path / "ref.sqlite", tiny_nli_model), cwd=ROOT, check=True,
                   capture_output=True, timeout=600)
    total = cached_rows(tmp_path / "ref.sqlite")

    cache, out = tmp_path / "resume.sqlite", tmp_path / "out"
    proc = subprocess.Popen(infer_cmd(src, out, cache, tiny_nli_model), cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while cached_rows(cache) < total // 4 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    if proc.poll() is not None:
        pytest.fail("the run finished before it could be killed; make the corpus larger")
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    partial = cached_rows(cache)
    assert 0 < partial < total, (partial, total)
    assert not out.exists(), "a killed run leaves no output directory"

    rerun = subprocess.run(infer_cmd(src, out, cache, tiny_nli_model), cwd=ROOT, capture_output=True, text=True,
                           timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    assert cached_rows(cache) == total
    for name in ("claims.jsonl", "stances.jsonl"):
        assert (out / name).read_bytes() == (reference / name).read_bytes(), name


def test_two_runs_are_byte_identical(tmp_path, tiny_nli_model, cfg_factory):
    from pipeline import infer

    src = make_corpus(tmp_path / "in", n_articles=4)
    outs = []
    for k in range(2):
        out = tmp_path / f"out{k}"
        infer.run(cfg_factory(f"input={src}", f"output={out}", f"model.name={tiny_nli_model}",
                              f"cache.path={tmp_path / f'cache{k}.sqlite'}"))
        outs.append(out)
    for name in ("claims.jsonl", "stances.jsonl"):
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name
    assert (outs[0] / "stances.jsonl").read_text().count("\n") > 10
