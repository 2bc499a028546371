"""End to end with the real offline NLI model on the seed articles: the `pipeline.infer` command-line contract,
and `make eval`'s job on the hand labels."""

from __future__ import annotations

import json

import pytest

from pipeline.core.records import STANCE_LABELS

# `seeds_run` (tests/conftest.py): `pipeline.infer` on the seeds with the hand-labelled claims, once per session


def test_infer_contract_on_seeds_with_real_model(seeds_run):
    out = seeds_run
    assert sorted(p.name for p in out.iterdir()) == ["claims.jsonl", "events.jsonl", "report.html", "run.json",
                                                      "stances.jsonl"]
    claims = [json.loads(line) for line in (out / "claims.jsonl").read_text().splitlines()]
    stances = [json.loads(line) for line in (out / "stances.jsonl").read_text().splitlines()]
    assert len(claims) == 35 and len(stances) == 35 * 5
    outlets = {s["article_id"]: s["outlet"] for s in stances}
    assert outlets["002_993702d3d5059404"] == "Bloomberg" and outlets["000_1123f819bbea0a3e"] == "000_1123f819bbea0a3e"
    run = json.loads((out / "run.json").read_text())
    top_k = run["config"]["evidence"]["top_k"]
    assert top_k == 5  # the configured default
    for s in stances:
        assert set(s) == {"claim_id", "article_id", "outlet", "event_id", "label", "scores", "uncertain", "evidence"}
        assert s["event_id"] == "e001"  # the five seeds are one story
        assert s["uncertain"] == (max(s["scores"].values()) < 0.5)
        assert s["label"] in STANCE_LABELS and s["label"] == max(s["scores"], key=s["scores"].get)
        assert 1 <= len(s["evidence"]) <= top_k
        for e in s["evidence"]:
            assert e["entailment"] + e["neutral"] + e["contradiction"] == pytest.approx(1.0, abs=2e-3)
    assert run["model"]["name"].endswith("nli-minilm-l6") and len(run["model"]["weights_sha256"]) == 64
    assert run["timings"]["nli_pairs"] == 35 * 5 * top_k
    html = (out / "report.html").read_text()
    assert 'class="matrix"' in html and "Bloomberg" in html and "http://" not in html and "https://" not in html


def test_real_model_keeps_gold_answers_it_had(seeds_run):
    """A regression guard, not the evaluation (that is `make eval`): pairs the committed model and rule answered
    as the hand labels do when they were committed."""
    stances = {(s["claim_id"], s["article_id"]): s for s in map(json.loads, (seeds_run / "stances.jsonl").open())}
    articles = sorted({a for _, a in stances})
    # c01 "Trump accused Russia of helping North Korea evade international sanctions": four outlets report it. MiniLM
    # reads all four as stating it; for 000 its best entailment is 0.53, over the agree cut chosen on basil-dev for
    # MPNet v8 (0.5 since session 11 of 2026-12-08; 0.6 in session 10, when 000 was discuss). Its 0.4-0.6
    # contradiction from the sentence on China's steps against Kim does not make it disagree: a contradiction never
    # outweighs a sentence that states the claim
    assert [stances[("c01", a)]["label"] for a in articles[:4]] == ["agree", "agree", "agree", "agree"]
    first = stances[("c01", articles[0])]
    assert 0.5 < max(e["entailment"] for e in first["evidence"]) < 0.6
    worst = max(first["evidence"], key=lambda e: e["contradiction"])
    assert "China" in worst["sentence"] and 0.4 < worst["contradiction"] < 0.6
    # c33 (Japan should build nuclear weapons) and c34 (a trip to Moscow) are in no article. Since the contradiction
    # cuts were lowered for the MPNet default (2026-12-03: similarity 0.6 -> 0.4, contradiction 0.5 -> 0.4; MiniLM's
    # basil-dev macro-F1 0.412 -> 0.411 with them, MLflow "minilm-cuts"; contradiction 0.6 again since 2026-12-07),
    # MiniLM reads c34 as disagree for Inquisitr
    # (004), from its 0.74 contradiction with "Trump ... sees Russia and China as the key ..."; the four articles on
    # the Reuters interview still leave it out
    assert {stances[("c33", a)]["label"] for a in articles} == {"unrelated"}
    assert {stances[("c34", a)]["label"] for a in articles[:4]} == {"unrelated"}
    # c07 "Trump confirmed he had communicated with Kim" vs 001's "Trump was evasive": contradiction is the
    # strongest NLI reading of that evidence sentence
    evidence = stances[("c07", "001_b911de6cb5948e78")]["evidence"]
    assert any("evasive" in e["sentence"] and e["contradiction"] > max(e["entailment"], e["neutral"])
               for e in evidence)


def test_eval_job_on_seeds(cfg_factory, tmp_path):
    from pipeline import evaluate

    metrics = evaluate.run(cfg_factory("tracking.enabled=false", "stance=rule", "eval.sets=[seeds]", "model=minilm"))
    seg = metrics["segmentation"]
    assert seg["boilerplate_claims"] == 0, seg["boilerplate_examples"]
    assert seg["recall"] >= 0.9
    assert metrics["stance"]["n"] == 175
    assert set(metrics["splitters"]) == {"pysbd", "blingfire"}
    assert (tmp_path / "reports" / "eval" / "outlet_summary.png").stat().st_size > 0
