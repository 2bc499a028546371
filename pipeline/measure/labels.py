"""Hand-labelled sets: the stance labels, gold claim sentences and boilerplate lines under `data/labels/`."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.core import files
from pipeline.core.records import STANCE_LABELS, PipelineError
from pipeline.stages.ingest import load_articles, load_claims


def read_stance_labels(path: str | Path) -> dict[tuple[str, str], str]:
    text, _ = files.read_text(path)
    labels = {}
    for lineno, row in enumerate(csv.DictReader(text.splitlines()), start=2):
        if row.get("label") not in STANCE_LABELS:
            raise PipelineError(path, f"line {lineno}: label {row.get('label')!r} is not one of {STANCE_LABELS}")
        labels[(row["claim_id"], row["article_id"])] = row["label"]
    return labels


def read_gold_stories(path: str | Path) -> dict[str, dict]:
    """`data/labels/basil/stories.csv` (id, event, year, split) -> {article id: row}."""
    rows = list(csv.DictReader(files.read_text(path)[0].splitlines()))
    if not rows or not {"id", "event", "split"} <= set(rows[0]):
        raise PipelineError(path, "needs columns id, event, split")
    return {r["id"]: r for r in rows}


def _jsonl_rows(path: str | Path) -> list[dict]:
    rows = []
    for lineno, obj, error in files.iter_jsonl(path):
        if obj is None:
            raise PipelineError(path, f"line {lineno}: malformed JSONL ({error})")
        rows.append(obj)
    return rows


def labelled_set(data, ingest_cfg) -> tuple[list, list, dict[tuple[str, str], str]]:
    """The labelled articles, claims and (claim_id, article_id) -> gold label; every pair must have a label."""
    articles, _ = load_articles(data.articles, ingest_cfg)
    labels = read_stance_labels(data.stance_labels)
    claims = load_claims(data.claims, [a.article_id for a in articles])
    _check_labels(labels, [LabelledEvent("all", articles, claims)], data.stance_labels)
    return articles, claims, labels


@dataclass
class LabelledEvent:
    """One story of a labelled set: its articles and the claims labelled against them."""

    event: str
    articles: list
    claims: list


@dataclass
class LabelledSet:
    """A labelled set (the seeds, basil-dev, basil-test): its events, gold labels and gold claim sentences."""

    name: str
    events: list[LabelledEvent]
    labels: dict[tuple[str, str], str]
    claim_sentences: list[dict] = field(default_factory=list)  # {article_id, sentence, group?}
    boilerplate: list[dict] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # the label files read, for data hashes

    @property
    def articles(self) -> list:
        return [a for e in self.events for a in e.articles]

    @property
    def claims(self) -> list:
        return [c for e in self.events for c in e.claims]


def _check_labels(labels: dict[tuple[str, str], str], events: list[LabelledEvent], path) -> None:
    """Every (claim, article of its event) pair has a label, and every label names a known claim and article."""
    pairs = {(c.claim_id, a.article_id) for e in events for c in e.claims for a in e.articles}
    missing = sorted(pairs - set(labels))
    if missing:
        raise PipelineError(path, f"no label for {len(missing)} (claim, article) pairs, e.g. {missing[0]}")
    known_articles = {a.article_id for e in events for a in e.articles}
    known_claims = {c.claim_id for e in events for c in e.claims}
    for claim_id, article_id in labels:
        if article_id not in known_articles:
            raise PipelineError(path, f"label for unknown article {article_id!r} (claim {claim_id})")
        if claim_id not in known_claims:
            raise PipelineError(path, f"label for unknown claim {claim_id!r}")
    extra = sorted(set(labels) - pairs)
    if extra:
        raise PipelineError(path, f"label for a pair outside its event: {extra[0]}")


def load_labelled_set(name: str, spec, ingest_cfg) -> LabelledSet:
    """A labelled set from its config: the seeds layout (`articles` is one folder, every claim against every
    article) or the BASIL layout (`articles` holds one folder per event, `events_file` + `split` choose the events,
    claims carry their `event` and are scored against that event's articles only)."""
    from pipeline.core.records import CanonicalClaim
    from pipeline.stages.ingest import normalise

    label_files = [str(spec.claims), str(spec.stance_labels)]
    if not spec.get("split"):
        articles, claims, labels = labelled_set(spec, ingest_cfg)
        events = [LabelledEvent(name, articles, claims)]
    else:
        rows = list(csv.DictReader(files.read_text(spec.events_file)[0].splitlines()))
        wanted = [r["event"] for r in rows if r.get("split") == spec.split]
        if not wanted:
            raise PipelineError(spec.events_file, f"no events in split {spec.split!r}")
        claim_rows = _jsonl_rows(spec.claims)
        events = []
        for eid in wanted:
            articles, _ = load_articles(Path(spec.articles) / eid, ingest_cfg)
            ids = tuple(a.article_id for a in articles)
            claims = [CanonicalClaim(claim_id=str(r["id"]), text=normalise(r["text"]).replace("\n", " ").strip(),
                                     article_ids=ids) for r in claim_rows if str(r.get("event")) == eid]
            if not claims:
                raise PipelineError(spec.claims, f"no claims for event {eid}")
            events.append(LabelledEvent(eid, articles, claims))
        every = read_stance_labels(spec.stance_labels)
        in_set = {c.claim_id for e in events for c in e.claims}
        labels = {k: v for k, v in every.items() if k[0] in in_set}
        known_claims = {str(r["id"]) for r in claim_rows}
        unknown = sorted({k[0] for k in every} - known_claims)
        if unknown:
            raise PipelineError(spec.stance_labels, f"label for unknown claim {unknown[0]!r}")
        _check_labels(labels, events, spec.stance_labels)
    article_ids = {a.article_id for e in events for a in e.articles}
    sentences = [r for r in _jsonl_rows(spec.claim_sentences) if r["article_id"] in article_ids] \
        if spec.get("claim_sentences") else []
    boilerplate = [r for r in _jsonl_rows(spec.boilerplate) if r["article_id"] in article_ids] \
        if spec.get("boilerplate") else []
    label_files += [str(spec[k]) for k in ("claim_sentences", "boilerplate") if spec.get(k)]
    return LabelledSet(name, events, labels, sentences, boilerplate, label_files)
