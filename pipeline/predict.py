"""The pipeline core, shared by `pipeline.infer` and `pipeline.evaluate`: articles (+ optional claims) ->
canonical claims, scored (claim, article) pairs and stance predictions. No file I/O here."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from pipeline.core.cli import instantiate_unwrapped
from pipeline.core.encoder import embed_texts
from pipeline.core.records import (
    STANCE_LABELS,
    Article,
    CanonicalClaim,
    Claim,
    Sentence,
    StancePair,
    StancePrediction,
)
from pipeline.stages.cluster import cluster_claims
from pipeline.stages.evidence import attach_scores, build_pairs, nli_inputs
from pipeline.stages.segment import extract_claims, split_sentences

log = logging.getLogger(__name__)


@dataclass
class Prediction:
    sentences: dict[str, list[Sentence]]
    extracted: list[Claim]
    claims: list[CanonicalClaim]
    pairs: list[StancePair]
    predictions: list[StancePrediction]
    timings: dict[str, float] = field(default_factory=dict)


def build_scorer(cfg):
    """The configured NLI model (`model/`), behind the on-disk score cache unless `cache.enabled=false`."""
    from pipeline.core.cache import NliCache
    from pipeline.stages.nli.scorer import CachedScorer

    scorer = instantiate_unwrapped(cfg.model)
    return CachedScorer(scorer, NliCache(cfg.cache.path)) if cfg.cache.enabled else scorer


def embedding_cache(cfg):
    """The on-disk sentence-embedding cache (`cache.embeddings`), or None when caching is off."""
    from pipeline.core.cache import EmbeddingCache

    path = cfg.cache.get("embeddings") if cfg.cache.enabled else None
    return EmbeddingCache(path) if path else None


def segment_articles(articles: Sequence[Article], seg) -> tuple[dict[str, list[Sentence]], list[Claim]]:
    sentences = {a.article_id: split_sentences(a, seg.splitter) for a in articles}
    extracted = [c for a in articles for c in extract_claims(a, sentences[a.article_id], seg.min_chars,
                                                             seg.max_chars, seg.min_words)]
    return sentences, extracted


class EvidenceOnly:
    """Stands in for an NLI scorer when only evidence retrieval is wanted (every sentence scores neutral)."""

    name = "none"
    identity = {"name": "none"}

    def score(self, pairs, batch_size=None, progress=False):
        return np.tile(np.array([0.0, 1.0, 0.0]), (len(pairs), 1))


class Timer:
    """Stage timings: `lap(name)` records the seconds since the previous lap."""

    def __init__(self):
        self.timings: dict[str, float] = {}
        self._clock = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = round(now - self._clock, 3)
        self._clock = now


def score_pairs(articles: Sequence[Article], claims: Sequence[CanonicalClaim], sentences: dict[str, list[Sentence]],
                cfg, scorer, timer: Timer, progress: bool = True) -> list[StancePair]:
    """Evidence retrieval and NLI for every (claim, article) pair to score."""
    cache = embedding_cache(cfg)
    claim_emb = embed_texts([c.text for c in claims], cfg.evidence.encoder, cache=cache)
    flat = [s for a in articles for s in sentences[a.article_id]]
    flat_emb = embed_texts([s.text for s in flat], cfg.evidence.encoder, cache=cache)
    if cache is not None:
        cache.close()
    sentence_emb, row = {}, 0
    for a in articles:
        n = len(sentences[a.article_id])
        sentence_emb[a.article_id] = flat_emb[row:row + n]
        row += n
    pairs = build_pairs(claims, claim_emb, articles, sentences, sentence_emb, cfg.evidence.top_k)
    timer.lap("evidence_s")
    gate = cfg.evidence.get("gate_similarity")
    inputs = nli_inputs(pairs, gate)
    probs = scorer.score(inputs, progress=progress)
    pairs = attach_scores(pairs, probs, gate)
    timer.lap("nli_s")
    # throughput of the model itself: pairs read from the score cache do not count
    computed = getattr(scorer, "computed", len(inputs))
    timer.timings["nli_pairs"] = len(inputs)
    timer.timings["nli_cached"] = getattr(scorer, "hits", 0)
    rate = computed / max(timer.timings["nli_s"], 1e-9)
    timer.timings["nli_pairs_per_s"] = round(rate, 1) if computed else None
    return pairs


def predict(articles: Sequence[Article], cfg, scorer, head, claims: Sequence[CanonicalClaim] | None = None,
            progress: bool = True) -> Prediction:
    """Run segment -> cluster (unless claims are given) -> evidence -> NLI -> stance."""
    timer = Timer()
    sentences, extracted = segment_articles(articles, cfg.segment)
    timer.lap("segment_s")
    if claims is None:
        claim_vecs = embed_texts([c.text for c in extracted], cfg.cluster.encoder)
        claims = cluster_claims(extracted, claim_vecs, cfg.cluster.similarity_threshold, cfg.cluster.linkage)
        timer.lap("cluster_s")
    pairs = score_pairs(articles, claims, sentences, cfg, scorer, timer, progress)
    from pipeline.stages.stance.heads import stance_proba

    stance_probs = stance_proba(head, pairs, {a.article_id: a.text for a in articles})
    below = float(cfg.get("uncertain_below", 0.5))
    predictions = [
        StancePrediction(p.claim_id, p.article_id, p.outlet, STANCE_LABELS[int(np.argmax(row))],
                         {label: round(float(v), 4) for label, v in zip(STANCE_LABELS, row)}, p.evidence,
                         bool(float(np.max(row)) < below))
        for p, row in zip(pairs, stance_probs)
    ]
    timer.lap("stance_s")
    return Prediction(sentences, extracted, list(claims), pairs, predictions, timer.timings)


def claim_rows(claims: Sequence[CanonicalClaim]) -> list[dict]:
    rows = []
    for c in claims:
        row: dict = {"id": c.claim_id, "text": c.text}
        if c.sources:
            row["sources"] = [{"claim_id": s.claim_id, "article_id": s.article_id, "outlet": s.outlet,
                               "text": s.text, "start": s.start, "end": s.end} for s in c.sources]
        if c.article_ids is not None:
            row["articles"] = list(c.article_ids)
        rows.append(row)
    return rows


def stance_rows(predictions: Sequence[StancePrediction]) -> list[dict]:
    return [{"claim_id": p.claim_id, "article_id": p.article_id, "outlet": p.outlet, "label": p.label,
             "scores": p.scores, "uncertain": p.uncertain,
             "evidence": [{"sentence": e.sentence, "entailment": e.entailment, "neutral": e.neutral,
                           "contradiction": e.contradiction} for e in p.evidence]}
            for p in predictions]
