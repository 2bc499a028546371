"""End to end with the real offline NLI model on the seed articles: the `pipeline.infer` command-line contract,
and `make eval`'s job on the hand labels."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from pipeline.records import STANCE_LABELS
from tests.conftest import REAL_MODEL, ROOT, SEEDS

LABELS = ROOT / "data" / "labels"


@pytest.fixture(scope="module")
def seeds_run(tmp_path_factory):
    if not (REAL_MODEL / "model.safetensors").is_file():
        pytest.fail(f"committed NLI model missing at {REAL_MODEL}")
    tmp = tmp_path_factory.mktemp("e2e")
    out = tmp / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline.infer", f"input={SEEDS}", f"output={out}", f"claims={LABELS / 'claims.jsonl'}",
         f"cache.path={tmp / 'cache.sqlite'}", "tracking.enabled=false"],
        cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return out


def test_infer_contract_on_seeds_with_real_model(seeds_run):
    out = seeds_run
    assert sorted(p.name for p in out.iterdir()) == ["claims.jsonl", "report.html", "run.json", "stances.jsonl"]
    claims = [json.loads(line) for line in (out / "claims.jsonl").read_text().splitlines()]
    stances = [json.loads(line) for line in (out / "stances.jsonl").read_text().splitlines()]
    assert len(claims) == 35 and len(stances) == 35 * 5
    outlets = {s["article_id"]: s["outlet"] for s in stances}
    assert outlets["002_993702d3d5059404"] == "Bloomberg" and outlets["000_1123f819bbea0a3e"] == "000_1123f819bbea0a3e"
    for s in stances:
        assert set(s) == {"claim_id", "article_id", "outlet", "label", "scores", "evidence"}
        assert s["label"] in STANCE_LABELS and s["label"] == max(s["scores"], key=s["scores"].get)
        assert 1 <= len(s["evidence"]) <= 3
        for e in s["evidence"]:
            assert e["entailment"] + e["neutral"] + e["contradiction"] == pytest.approx(1.0, abs=2e-3)
    run = json.loads((out / "run.json").read_text())
    assert run["model"]["name"].endswith("nli-minilm-l6") and len(run["model"]["weights_sha256"]) == 64
    assert run["timings"]["nli_pairs"] == 35 * 5 * 3
    html = (out / "report.html").read_text()
    assert "<details>" in html and "Bloomberg" in html and "<script" not in html


def test_real_model_reads_the_obvious_cases(seeds_run):
    stances = {(s["claim_id"], s["article_id"]): s for s in map(json.loads, (seeds_run / "stances.jsonl").open())}
    # c02: Trump's quote, reported by four outlets word for word
    quoted = [stances[("c02", a)]["label"] for a in ("000_1123f819bbea0a3e", "001_b911de6cb5948e78",
                                                     "002_993702d3d5059404", "003_b17c34e1ffb6b004")]
    assert quoted.count("agree") >= 3, quoted
    # c35: Iran is in no article
    assert [s["label"] for (c, _), s in stances.items() if c == "c35"].count("unrelated") >= 4


def test_eval_job_on_seeds(cfg_factory):
    from pipeline import evaluate

    metrics = evaluate.run(cfg_factory("tracking.enabled=false"))
    seg = metrics["segmentation"]
    assert seg["boilerplate_claims"] == 0, seg["boilerplate_examples"]
    assert seg["recall"] >= 0.9
    assert metrics["stance"]["n"] == 175
    assert set(metrics["splitters"]) == {"pysbd", "blingfire"}
