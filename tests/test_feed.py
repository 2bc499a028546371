"""News-feed batches (issue 17): syndicated copies, story grouping, and the Ray backend against the local one."""

from __future__ import annotations

import importlib.util
import json
import re

import numpy as np
import pytest

from pipeline import infer
from pipeline.core.records import Article
from pipeline.measure.metrics import bcubed
from pipeline.stages.stories import group_stories, story_labels, story_text
from tests.conftest import SEEDS

WIRE = ("The city council approved a new budget on Tuesday after a long debate. The budget raises spending on "
        "schools by ten percent. Council members said the plan would be paid for by a new hotel tax.")
STORM = ("A powerful storm hit the coast on Sunday, cutting power to thousands of homes. Forecasters said the "
         "storm would weaken as it moved inland. Schools in three counties were closed on Monday.")


def _feed(tmp_path, rows):
    path = tmp_path / "feed.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _infer(cfg_factory, tmp_path, source, *extra, model=None):
    out = tmp_path / "out"
    overrides = [f"input={source}", f"output={out}", "tracking.enabled=false", *extra]
    if model:
        overrides.append(f"model.name={model}")
    return infer.run(cfg_factory(*overrides)), out


def _two_stories() -> list[dict]:
    """Two papers' budget story and two papers' storm story, with titles and dates."""
    rows = [{"id": f"w{i}", "text": WIRE.replace("Tuesday", day), "outlet": f"Paper {i}",
             "title": "Council approves budget with school spending rise", "published": "2024-03-05"}
            for i, day in enumerate(["Tuesday", "Tuesday night"])]
    rows += [{"id": f"s{i}", "text": STORM.replace("Sunday", day), "outlet": f"Paper {i}",
              "title": "Storm cuts power to thousands on the coast", "published": "2024-03-04"}
             for i, day in enumerate(["Sunday", "Sunday morning"])]
    return rows


def _rows(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_claims_file_may_name_every_copy_and_each_gets_the_same_label(cfg_factory, tmp_path, tiny_nli_model):
    feed = _feed(tmp_path, [{"id": "ap", "text": WIRE, "outlet": "AP"},
                            {"id": "local", "text": WIRE, "outlet": "Local Paper"},
                            {"id": "other", "text": STORM, "outlet": "Weather Desk"}])
    claims = tmp_path / "claims.jsonl"
    claims.write_text(json.dumps({"id": "c1", "text": "The council passed a budget.", "articles": ["ap", "local"]})
                      + "\n" + json.dumps({"id": "c2", "text": "Schools got more money.", "articles": ["local"]})
                      + "\n")
    info, out = _infer(cfg_factory, tmp_path, feed, f"claims={claims}", model=tiny_nli_model)
    rows = _rows(out / "stances.jsonl")
    got = {(r["claim_id"], r["article_id"]): r for r in rows}
    assert set(got) == {("c1", "ap"), ("c1", "local"), ("c2", "local")}
    assert got[("c1", "ap")]["label"] == got[("c1", "local")]["label"]
    assert got[("c1", "ap")]["scores"] == got[("c1", "local")]["scores"]
    assert got[("c1", "local")]["outlet"] == "Local Paper"
    assert info["notes"]["duplicates"] == [{"scored_as": "ap", "articles": ["ap", "local"]}]
    assert info["counts"]["scored_articles"] == 2


def test_extracted_claims_list_every_outlet_that_prints_the_wire_copy(cfg_factory, tmp_path, tiny_nli_model):
    feed = _feed(tmp_path, [{"id": "ap", "text": WIRE, "outlet": "AP"},
                            {"id": "local", "text": WIRE, "outlet": "Local Paper"}])
    _, out = _infer(cfg_factory, tmp_path, feed, model=tiny_nli_model)
    claims = _rows(out / "claims.jsonl")
    assert claims and all({s["outlet"] for s in c["sources"]} == {"AP", "Local Paper"} for c in claims)
    stances = _rows(out / "stances.jsonl")
    by_claim: dict[str, dict[str, str]] = {}
    for r in stances:
        by_claim.setdefault(r["claim_id"], {})[r["article_id"]] = r["label"]
    assert all(set(labels) == {"ap", "local"} and labels["ap"] == labels["local"] for labels in by_claim.values())


def test_story_labels_cut_by_similarity_and_by_date():
    v = np.array([[1.0, 0.0], [0.99, 0.141], [0.0, 1.0], [0.141, 0.99]])
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    assert story_labels(v, [None] * 4, 0.5, "average", 7).tolist() == [0, 0, 1, 1]
    far = [1, 30, None, None]  # the first two are alike but a month apart: never one story
    assert story_labels(v, far, 0.5, "average", 7).tolist() == [0, 1, 2, 2]


def test_given_events_win_and_the_rest_are_grouped(cfg_factory):
    cfg = cfg_factory().stories
    arts = [Article("a", "X", WIRE, title="Budget passes", event_id="budget"),
            Article("b", "Y", WIRE, title="Council budget"),
            Article("c", "Z", STORM, title="Storm hits coast")]
    vectors = np.array([[1.0, 0.0], [0.0, 1.0]])  # b and c are unlike
    events = group_stories(arts, vectors, cfg)
    assert [(e.event_id, e.article_ids) for e in events] == [("budget", ("a",)), ("e001", ("b",)), ("e002", ("c",))]
    assert story_text(arts[0], 20).startswith("Budget passes. The city council")


def test_two_stories_in_one_input_never_score_across(cfg_factory, tmp_path, tiny_nli_model):
    info, out = _infer(cfg_factory, tmp_path, _feed(tmp_path, _two_stories()), model=tiny_nli_model)
    events = _rows(out / "events.jsonl")
    assert sorted(tuple(e["articles"]) for e in events) == [("s0", "s1"), ("w0", "w1")]
    story = {a: e["event_id"] for e in events for a in e["articles"]}
    claims = {c["id"]: c for c in _rows(out / "claims.jsonl")}
    stances = _rows(out / "stances.jsonl")
    assert stances and all(story[r["article_id"]] == claims[r["claim_id"]]["event_id"] == r["event_id"]
                           for r in stances)
    assert all(c["id"].startswith(c["event_id"] + "-") for c in claims.values())
    assert info["counts"]["events"] == 2


def test_a_feed_written_story_by_story_matches_one_chunk(cfg_factory, tmp_path, tiny_nli_model):
    """`stream.chunk_pairs=1` scores and writes every story as its own chunk: the same stories, claims, labels and
    report rows as one chunk for the whole input, and every story in the report's index."""
    feed = _feed(tmp_path, _two_stories())
    runs = {}
    for budget in (1, 10**6):
        out = tmp_path / f"out{budget}"
        info = infer.run(cfg_factory(f"input={feed}", f"output={out}", "tracking.enabled=false",
                                     f"model.name={tiny_nli_model}", f"stream.chunk_pairs={budget}"))
        runs[budget] = (info, out)
    (small, small_out), (whole, whole_out) = runs[1], runs[10**6]
    assert small["counts"] == whole["counts"] and small["counts"]["events"] == 2
    key = lambda r: (r["claim_id"], r["article_id"], r["label"])  # noqa: E731
    assert sorted(map(key, _rows(small_out / "stances.jsonl"))) == sorted(map(key, _rows(whole_out / "stances.jsonl")))
    assert _rows(small_out / "events.jsonl") == _rows(whole_out / "events.jsonl")
    assert [c["id"] for c in _rows(small_out / "claims.jsonl")] == [c["id"] for c in _rows(whole_out / "claims.jsonl")]
    page = (small_out / "report.html").read_text()
    assert page.count('href="#story-') == 2 and page.count('<section class="story"') == 2
    assert page.count("<tr id=\"claim-") == small["counts"]["claims"]
    assert page.endswith("</html>\n") and not list(small_out.parent.glob(".out1.*"))


def test_a_feed_with_many_stories_gets_an_index_page_and_one_page_per_story(cfg_factory, tmp_path, tiny_nli_model):
    """Above `report.story_pages` stories, report.html is the index and each story is a page of its own, written
    chunk by chunk, with the same claim rows as the one-page report; the pages link both ways."""
    feed = _feed(tmp_path, _two_stories())
    _, one = _infer(cfg_factory, tmp_path, feed, "stream.chunk_pairs=1", model=tiny_nli_model)
    paged = tmp_path / "paged"
    infer.run(cfg_factory(f"input={feed}", f"output={paged}", "tracking.enabled=false", f"model.name={tiny_nli_model}",
                          "stream.chunk_pairs=1", "report.story_pages=1"))
    index = (paged / "report.html").read_text()
    pages = sorted((paged / "stories").iterdir())
    assert [p.name for p in pages] == ["story-1.html", "story-2.html"]
    assert index.count('href="stories/story-') == 2 and '<section class="story"' not in index
    assert "table class=\"matrix\"" not in index and 'id="f-label"' not in index
    rows = [page.read_text() for page in pages]
    assert all(r.count('<section class="story"') == 1 and 'href="../report.html#stories"' in r
               and 'id="f-label"' in r and r.endswith("</html>\n") for r in rows)
    row = re.compile(r'<tr id="claim-[^"]*"[^>]*><td class="claim"><span class="cid">([^<]*)')
    assert sorted(row.findall("".join(rows))) == sorted(row.findall((one / "report.html").read_text())) != []
    assert not (one / "stories").exists()


def test_events_one_keeps_everything_in_one_story(cfg_factory, tmp_path, tiny_nli_model):
    rows = [{"id": "w", "text": WIRE, "title": "Budget"}, {"id": "s", "text": STORM, "title": "Storm"}]
    _, out = _infer(cfg_factory, tmp_path, _feed(tmp_path, rows), "events=one", model=tiny_nli_model)
    assert [e["articles"] for e in _rows(out / "events.jsonl")] == [["s", "w"]]


def test_bcubed_counts_a_report_item_put_with_another_split_as_wrong():
    pred = {"a": 1, "b": 1, "c": 2}
    gold = {"a": "x", "b": "y", "c": "y"}
    assert bcubed(pred, gold)["b3_precision"] == pytest.approx((0.5 + 0.5 + 1) / 3, abs=1e-4)
    only_b = bcubed(pred, gold, over=["b"])
    assert only_b["b3_precision"] == 0.5 and only_b["b3_recall"] == 0.5


@pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="Ray not installed (pip install -e '.[ray]')")
def test_ray_backend_writes_the_same_stances_as_local(cfg_factory, tmp_path):
    common = ["model=minilm", "cache.enabled=false"]
    _, local = _infer(cfg_factory, tmp_path / "l", SEEDS, *common)
    _, ray_out = _infer(cfg_factory, tmp_path / "r", SEEDS, *common, "backend=ray", "backend.actors=2")
    for name in ("stances.jsonl", "claims.jsonl", "events.jsonl"):
        assert (ray_out / name).read_bytes() == (local / name).read_bytes(), name
