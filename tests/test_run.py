"""End to end on tiny articles: the pipeline core with a stub scorer, and `pipeline.infer` with a tiny random model."""

from __future__ import annotations

import json

import pytest
from hydra.utils import instantiate

from pipeline import infer
from pipeline.core.records import STANCE_LABELS, CanonicalClaim, PipelineError
from pipeline.predict import predict

STANCE_KEYS = {"claim_id", "article_id", "outlet", "event_id", "label", "scores", "uncertain", "evidence"}
EVIDENCE_KEYS = {"sentence", "entailment", "neutral", "contradiction"}


def test_predict_with_stub_scorer_labels_each_claim_article_pair(cfg_factory, articles, stub_scorer):
    cfg = cfg_factory("stance=rule")
    head = instantiate(cfg.stance).fit()
    claims = [CanonicalClaim("c1", "The mayor opened the new bridge on Monday."),
              CanonicalClaim("c2", "A bakery won a national award for its bread.", article_ids=("a3",))]
    result = predict(articles, cfg, stub_scorer, head, claims=claims, progress=False)
    got = {(p.claim_id, p.article_id): p.label for p in result.predictions}
    assert set(got) == {("c1", "a1"), ("c1", "a2"), ("c1", "a3"), ("c2", "a3")}
    assert got[("c1", "a1")] == "agree"        # the article states it
    assert got[("c1", "a2")] == "disagree"     # "did not open the bridge"
    assert got[("c1", "a3")] == "unrelated"    # a bakery story
    assert got[("c2", "a3")] == "agree"
    for p in result.predictions:
        assert set(p.scores) == set(STANCE_LABELS)
        assert sum(p.scores.values()) == pytest.approx(1.0, abs=1e-3)
        assert len(p.evidence) <= cfg.evidence.top_k


def test_predict_extracts_and_clusters_when_no_claims_given(cfg_factory, articles, stub_scorer):
    cfg = cfg_factory("stance=rule")
    result = predict(articles, cfg, stub_scorer, instantiate(cfg.stance).fit(), progress=False)
    assert result.extracted, "claims were extracted"
    # each claim is scored against the articles of its own story (the bakery article is another story)
    story = {a: e.event_id for e in result.events for a in e.article_ids}
    assert len(result.events) == 2 and story["a1"] == story["a2"] != story["a3"]
    size = {e.event_id: len(e.article_ids) for e in result.events}
    assert len(result.predictions) == sum(size[c.event_id] for c in result.claims)
    assert all(story[p.article_id] == p.event_id for p in result.predictions)
    one = predict(articles, cfg, stub_scorer, instantiate(cfg.stance).fit(), progress=False, events="one")
    assert len(one.predictions) == len(one.claims) * len(articles)
    sources = [s.claim_id for c in result.claims for s in c.sources]
    assert sorted(sources) == sorted(c.claim_id for c in result.extracted)


def test_run_timings_count_the_claim_merge_nli_work_apart_from_stance(cfg_factory, articles, stub_scorer):
    """`merge_nli_pairs` is what the merge sent to the NLI model (stance's own inputs are `nli_pairs`); a merge
    scorer that counts its pairs agrees, and with the merge off it is 0."""
    class Counting:
        def __init__(self):
            self.n = 0

        def score(self, pairs, **kwargs):
            self.n += len(pairs)
            return stub_scorer.score(pairs)

    counting = Counting()
    cfg = cfg_factory("stance=rule", "cluster.nli_merge.candidate_similarity=0.0", "events=one")
    on = predict(articles, cfg, stub_scorer, instantiate(cfg.stance).fit(), progress=False, merge_scorer=counting)
    assert on.timings["merge_nli_pairs"] == counting.n > 0
    off = predict(articles, cfg_factory("stance=rule", "cluster.nli_merge.enabled=false"), stub_scorer,
                  instantiate(cfg.stance).fit(), progress=False)
    assert off.timings["merge_nli_pairs"] == 0 and off.timings["nli_pairs"] > 0


def _write_articles(tmp_path, articles):
    src = tmp_path / "in"
    src.mkdir()
    for a in articles:
        (src / f"{a.article_id}.txt").write_text(a.text, encoding="utf-8")
    (src / "outlets.csv").write_text("file,outlet\na1.txt,Daily One\n", encoding="utf-8")
    return src


def test_infer_writes_the_four_outputs(cfg_factory, tmp_path, articles, tiny_nli_model):
    src = _write_articles(tmp_path, articles)
    claims = tmp_path / "claims.jsonl"
    claims.write_text('{"id": "c1", "text": "The mayor opened the bridge."}\n'
                      '{"id": "c2", "text": "Rain is expected.", "articles": ["a2"]}\n', encoding="utf-8")
    out = tmp_path / "out"
    cfg = cfg_factory(f"input={src}", f"output={out}", f"claims={claims}", f"model.name={tiny_nli_model}")
    info = infer.run(cfg)
    assert sorted(p.name for p in out.iterdir()) == ["claims.jsonl", "events.jsonl", "report.html", "run.json",
                                                      "stances.jsonl"]
    stances = [json.loads(line) for line in (out / "stances.jsonl").read_text().splitlines()]
    assert len(stances) == 3 + 1
    for row in stances:
        assert set(row) == STANCE_KEYS
        assert row["label"] in STANCE_LABELS and set(row["scores"]) == set(STANCE_LABELS)
        assert row["evidence"] and all(set(e) == EVIDENCE_KEYS for e in row["evidence"])
    assert {r["outlet"] for r in stances if r["article_id"] == "a1"} == {"Daily One"}
    run = json.loads((out / "run.json").read_text())
    assert run["model"]["name"] == str(tiny_nli_model) and len(run["model"]["weights_sha256"]) == 64
    assert set(run["inputs_sha256"]) >= {"a1.txt", "a2.txt", "a3.txt", "claims.jsonl"}
    assert run["timings"]["total_s"] > 0 and info["counts"]["pairs"] == 4
    assert "The mayor opened the bridge." in (out / "report.html").read_text()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")], "no temporary output left behind"


def test_infer_refuses_existing_output_and_keeps_it(cfg_factory, tmp_path, articles, tiny_nli_model):
    src = _write_articles(tmp_path, articles)
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    cfg = cfg_factory(f"input={src}", f"output={out}", f"model.name={tiny_nli_model}")
    with pytest.raises(PipelineError, match="already exists"):
        infer.run(cfg)
    assert (out / "mine.txt").read_text() == "keep me"


def test_infer_unknown_article_in_claims_is_an_error_without_output(cfg_factory, tmp_path, articles,
                                                                    tiny_nli_model):
    src = _write_articles(tmp_path, articles)
    claims = tmp_path / "claims.jsonl"
    claims.write_text('{"id": "c1", "text": "The mayor opened the bridge.", "articles": ["zz"]}\n')
    out = tmp_path / "out"
    cfg = cfg_factory(f"input={src}", f"output={out}", f"claims={claims}", f"model.name={tiny_nli_model}")
    with pytest.raises(PipelineError, match="line 1: unknown article id"):
        infer.run(cfg)
    assert not out.exists()
