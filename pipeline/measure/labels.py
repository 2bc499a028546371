"""Hand-labelled sets: the stance labels, gold claim sentences and boilerplate lines under `data/labels/`."""

from __future__ import annotations

import csv
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
    missing = [(c.claim_id, a.article_id) for c in claims for a in articles if (c.claim_id, a.article_id) not in labels]
    if missing:
        raise PipelineError(data.stance_labels, f"no label for {len(missing)} (claim, article) pairs, "
                                                f"e.g. {missing[0]}")
    return articles, claims, labels
