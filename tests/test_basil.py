"""BASIL conversion (`make data`), the labelled-set loader, the event split, and the bootstrap interval."""

from __future__ import annotations

import csv
import json

import pytest
from omegaconf import OmegaConf

from pipeline.core.records import PipelineError
from pipeline.learn import basil
from pipeline.measure.labels import load_labelled_set
from pipeline.measure.metrics import bootstrap_intervals
from tests.conftest import ROOT


def basil_json(source: str, title: str, paragraphs, triplet="abcd1234-0000-4000-8000-000000000000") -> dict:
    return {"uuid": f"u-{source}", "triplet-uuid": triplet, "title": title, "date": "2014-06-10",
            "url": f"http://example.org/{source}", "source": source, "main-event": "An event",
            "body-paragraphs": paragraphs}


def write_event(root, sources=("FOX", "nyt", "hpo")):
    (root / "2014").mkdir(parents=True)
    for k, src in enumerate(sources, start=1):
        doc = basil_json(src, f"Title {src}", [[" First sentence.", "Second one. "], [], ["A new paragraph."]])
        (root / "2014" / f"abcd1234_{k}.json").write_text(json.dumps(doc))


def test_converter_writes_title_blank_line_paragraphs_and_outlets(tmp_path):
    write_event(tmp_path / "in")
    [folder] = basil.convert(tmp_path / "in", ["abcd1234"], tmp_path / "out")
    assert sorted(p.name for p in folder.iterdir()) == ["abcd1234_fox.txt", "abcd1234_hpo.txt", "abcd1234_nyt.txt",
                                                        "outlets.csv"]
    assert (folder / "abcd1234_fox.txt").read_text() == "Title FOX\n\nFirst sentence. Second one.\n\nA new paragraph.\n"
    rows = list(csv.DictReader((folder / "outlets.csv").open()))
    assert [(r["file"], r["outlet"]) for r in rows] == [("abcd1234_fox.txt", "Fox News"),
                                                        ("abcd1234_nyt.txt", "The New York Times"),
                                                        ("abcd1234_hpo.txt", "HuffPost")]


def test_converter_refuses_unknown_source_missing_outlet_and_unknown_event(tmp_path):
    write_event(tmp_path / "a", sources=("fox", "nyt", "bbc"))
    with pytest.raises(basil.BasilError, match="unknown source 'bbc'"):
        basil.index_events(tmp_path / "a")
    write_event(tmp_path / "b", sources=("fox", "nyt"))
    with pytest.raises(basil.BasilError, match="expected one each"):
        basil.index_events(tmp_path / "b")
    write_event(tmp_path / "c")
    with pytest.raises(basil.BasilError, match="no BASIL event with id ffff0000"):
        basil.convert(tmp_path / "c", ["ffff0000"], tmp_path / "out")


def test_make_data_leaves_an_identical_copy_and_refuses_a_changed_one(tmp_path, monkeypatch):
    from pipeline import make_data

    write_event(tmp_path / "in")
    monkeypatch.setattr(basil, "TRAIN_EVENTS", ())
    monkeypatch.setattr(basil, "DEV_EVENTS", ("abcd1234",))
    monkeypatch.setattr(basil, "TEST_EVENTS", ())
    monkeypatch.setattr(basil, "LABELLED_EVENTS", ("abcd1234",))
    cfg = OmegaConf.create({"overwrite": False, "basil": {"root": str(tmp_path / "in"), "output": str(tmp_path / "raw"),
                                                          "split_file": str(tmp_path / "split.csv"),
                                                          "feed": str(tmp_path / "feed.jsonl"),
                                                          "stories": str(tmp_path / "stories.csv")}})
    assert make_data.run(cfg)["written"] == ["abcd1234"]
    feed = [json.loads(line) for line in (tmp_path / "feed.jsonl").read_text().splitlines()]
    assert sorted(r["id"] for r in feed) == ["abcd1234_fox", "abcd1234_hpo", "abcd1234_nyt"]
    assert all("event" not in r and r["text"] and r["title"] for r in feed)  # the feed does not give the story away
    gold = list(csv.DictReader((tmp_path / "stories.csv").open()))
    assert {r["event"] for r in gold} == {"abcd1234"} and len(gold) == 3
    assert make_data.run(cfg)["unchanged"] == ["abcd1234"]
    assert (tmp_path / "split.csv").read_text().splitlines()[1].startswith("abcd1234,dev,")
    (tmp_path / "raw" / "abcd1234" / "abcd1234_nyt.txt").write_text("edited by hand\n")
    with pytest.raises(PipelineError, match="differs from what the converter writes"):
        make_data.run(cfg)


def test_committed_basil_events_match_the_converter_and_the_split():
    """data/raw/basil is what the converter writes from ../shared/datasets/basil, and split.csv names the events
    of pipeline.learn.basil's train/dev/test lists (6 train, 8 dev, 4 test, no event in two)."""
    rows = list(csv.DictReader((ROOT / "data/labels/basil/split.csv").open()))
    for split, events in (("train", basil.TRAIN_EVENTS), ("dev", basil.DEV_EVENTS), ("test", basil.TEST_EVENTS)):
        assert [r["event"] for r in rows if r["split"] == split] == list(events)
    assert len(basil.LABELLED_EVENTS) == len(set(basil.LABELLED_EVENTS)) == len(rows)
    assert len(basil.TRAIN_EVENTS) >= 6 and len(basil.DEV_EVENTS) >= 8
    assert set(basil.EVAL_EVENTS) == set(basil.DEV_EVENTS) | set(basil.TEST_EVENTS)
    source = ROOT.parent / "shared" / "datasets" / "basil" / "articles"
    if not source.is_dir():
        pytest.skip(f"BASIL source not at {source}")
    index = basil.index_events(source)
    for eid in basil.LABELLED_EVENTS:
        for article in index[eid]:
            path = ROOT / "data/raw/basil" / eid / f"{eid}_{article['source']}.txt"
            assert path.read_text(encoding="utf-8") == basil.article_text(article), path


def _toy_set(tmp_path, labels: list[tuple[str, str, str]]):
    (tmp_path / "raw" / "e1").mkdir(parents=True)
    for a, day in (("e1_fox", "Monday"), ("e1_nyt", "Tuesday")):
        (tmp_path / "raw" / "e1" / f"{a}.txt").write_text(f"Title\n\nThe mayor opened the bridge on {day}.\n")
    (tmp_path / "split.csv").write_text("event,split,date,title\ne1,dev,2014-01-01,toy\n")
    claim = {"id": "e1_c01", "event": "e1", "text": "A bridge opened."}
    (tmp_path / "claims.jsonl").write_text(json.dumps(claim) + "\n")
    with open(tmp_path / "labels.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["event", "claim_id", "article_id", "label", "evidence", "note"])
        for claim, article, label in labels:
            w.writerow(["e1", claim, article, label, "", ""])
    return OmegaConf.create({"articles": str(tmp_path / "raw"), "events_file": str(tmp_path / "split.csv"),
                             "split": "dev", "claims": str(tmp_path / "claims.jsonl"),
                             "stance_labels": str(tmp_path / "labels.csv"), "claim_sentences": None,
                             "boilerplate": None})


def test_loader_reads_an_event_set_and_scores_claims_against_their_event_only(tmp_path, cfg_factory):
    spec = _toy_set(tmp_path, [("e1_c01", "e1_fox", "agree"), ("e1_c01", "e1_nyt", "discuss")])
    lset = load_labelled_set("toy", spec, cfg_factory().ingest)
    assert [e.event for e in lset.events] == ["e1"] and lset.claims[0].article_ids == ("e1_fox", "e1_nyt")
    assert lset.labels == {("e1_c01", "e1_fox"): "agree", ("e1_c01", "e1_nyt"): "discuss"}


@pytest.mark.parametrize(("labels", "message"), [
    ([("e1_c01", "e1_fox", "agree")], "no label for 1 .claim, article. pairs"),
    ([("e1_c01", "e1_fox", "agree"), ("e1_c01", "e1_nyt", "agree"), ("e1_c01", "e1_bbc", "agree")],
     "label for unknown article 'e1_bbc'"),
    ([("e1_c01", "e1_fox", "agree"), ("e1_c01", "e1_nyt", "agree"), ("e1_c99", "e1_nyt", "agree")],
     "label for unknown claim 'e1_c99'"),
])
def test_loader_refuses_a_missing_pair_or_an_unknown_article_or_claim(tmp_path, cfg_factory, labels, message):
    spec = _toy_set(tmp_path, labels)
    with pytest.raises(PipelineError, match=message) as err:
        load_labelled_set("toy", spec, cfg_factory().ingest)
    assert "labels.csv" in str(err.value)


def test_committed_basil_labels_load_completely(cfg_factory):
    cfg = cfg_factory()
    train, dev, test = (load_labelled_set(name, cfg.labelled[name], cfg.ingest)
                        for name in ("basil-train", "basil-dev", "basil-test"))
    assert (len(train.events), len(dev.events), len(test.events)) == (80, 8, 4)
    assert len(dev.labels) + len(test.labels) >= 360 and len(train.labels) >= 2880
    ids = [{c.claim_id for c in lset.claims} for lset in (train, dev, test)]
    assert not ids[0] & ids[1] and not ids[0] & ids[2] and not ids[1] & ids[2]
    for lset in (train, dev, test):  # every agree/disagree label has its deciding sentences, exact substrings
        texts = {a.article_id: (ROOT / "data/raw/basil" / a.article_id.split("_")[0] / f"{a.article_id}.txt")
                 .read_text(encoding="utf-8") for a in lset.articles}
        for row in csv.DictReader((ROOT / "data/labels/basil/stance_labels.csv").open()):
            if row["article_id"] in texts and row["label"] in ("agree", "disagree"):
                sentences = [s for s in row["evidence"].split(" ||| ") if s.strip()]
                assert sentences, row
                assert all(s in texts[row["article_id"]] for s in sentences), row


def test_bootstrap_over_two_claims_spans_both_extremes():
    # claim A: both pairs right; claim B: both wrong. Resamples are AA (acc 1), AB/BA (0.5), BB (0): the 95%
    # percentile interval of accuracy is [0, 1] and its centre mass is 0.5
    gold = ["agree", "agree", "disagree", "disagree"]
    pred = ["agree", "agree", "agree", "agree"]
    iv = bootstrap_intervals(gold, pred, ["A", "A", "B", "B"], resamples=2000, seed=1)
    assert iv["accuracy"] == [0.0, 1.0]


def test_bootstrap_is_exact_when_every_prediction_is_right_and_is_seeded():
    gold = ["agree", "disagree", "discuss", "unrelated"] * 5
    groups = [f"c{i}" for i in range(20)]
    iv = bootstrap_intervals(gold, gold, groups, resamples=300, seed=3)
    assert iv["accuracy"] == [1.0, 1.0]
    pred = gold[:-3] + ["agree"] * 3
    assert bootstrap_intervals(gold, pred, groups, 300, 7) == bootstrap_intervals(gold, pred, groups, 300, 7)
    lo, hi = bootstrap_intervals(gold, pred, groups, 300, 7)["macro_f1"]
    assert lo < hi <= 1.0


def test_news_nli_sets_come_from_their_own_events_only():
    """news_train (a training source) holds only train events' pairs, news_dev / news_test only theirs: no claim,
    and no (premise, hypothesis) pair, is shared between a training set and a selection or report set."""
    from pipeline.learn.nli_data import LABELS_DIR, news_pairs, pair_key

    sets = {split: news_pairs(LABELS_DIR, split) for split in ("train", "dev", "test")}
    events = {"train": basil.TRAIN_EVENTS, "dev": basil.DEV_EVENTS, "test": basil.TEST_EVENTS}
    for split, pairs in sets.items():
        assert pairs and {p.pair_id.split("_")[0] for p in pairs} <= set(events[split]), split
        assert {p.label for p in pairs} == {"entailment", "neutral", "contradiction"}, split
    keys = {split: {pair_key(p.premise, p.hypothesis) for p in pairs} for split, pairs in sets.items()}
    assert not keys["train"] & keys["dev"] and not keys["train"] & keys["test"]


def test_a_left_out_batch_drops_only_its_own_news_pairs(tmp_path):
    """nli_train.leave_out_events: the news pairs of the listed events go (a batch kept to judge a model stays
    unseen), every other pair stays, other sources are untouched, and a file without an `event` column is refused."""
    from pipeline.core.records import PipelineError
    from pipeline.learn.nli_data import LABELS_DIR, NliPair, leave_out_events, news_pairs

    pairs = news_pairs(LABELS_DIR, "train")
    batch9 = ROOT / "data/labels/basil/train_batch9.csv"
    held = {r["event"] for r in csv.DictReader(batch9.open())}
    # an unrelated source whose id happens to open with a batch-9 event is not a news pair: it stays
    other = NliPair("basil_neutral", f"{sorted(held)[0]}:1:2", "a premise", "a hypothesis", "neutral")
    kept, dropped = leave_out_events([*pairs, other], batch9)
    assert dropped > 0 and len(kept) == len(pairs) + 1 - dropped and other in kept
    assert not {p.pair_id.split("_c")[0] for p in kept if p.source == "news_train"} & held
    assert {p.pair_id.split("_c")[0] for p in pairs} - held == {p.pair_id.split("_c")[0] for p in kept[:-1]}
    assert leave_out_events(pairs, None) == (pairs, 0)
    # several files: the union of their events (v6 was trained with batches 9 and 10 both left out)
    batch10 = ROOT / "data/labels/basil/train_batch10.csv"
    held10 = {r["event"] for r in csv.DictReader(batch10.open())}
    kept2, dropped2 = leave_out_events(pairs, [str(batch9), str(batch10)])
    assert dropped2 > dropped and not {p.pair_id.split("_c")[0] for p in kept2} & (held | held10)
    bad = tmp_path / "events.csv"
    bad.write_text("id,split\nx,train\n")
    with pytest.raises(PipelineError, match="event"):
        leave_out_events(pairs, bad)


@pytest.mark.parametrize(("batch", "start", "size"),
                         [(3, 6, 6), (4, 12, 6), (5, 18, 6), (6, 24, 6), (7, 30, 6), (8, 36, 6), (9, 42, 6),
                          (10, 48, 6), (11, 54, 6), (12, 60, 6), (13, 66, 6), (14, 72, 8)])
def test_the_batch_events_files_name_only_their_train_batch(batch, start, size):
    from pipeline.learn import basil

    rows = list(csv.DictReader((ROOT / f"data/labels/basil/train_batch{batch}.csv").open()))
    events = [r["event"] for r in rows]
    # six train events each (batch 14: the last 8), in TRAIN_EVENTS order: a style check for models that never saw
    # them, never a test set
    assert events == list(basil.TRAIN_EVENTS[start:start + size]) and {r["split"] for r in rows} == {"train"}
    assert not set(events) & set(basil.EVAL_EVENTS)
