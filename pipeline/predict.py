"""The pipeline core, shared by `pipeline.infer` and `pipeline.evaluate`: articles (+ optional claims) -> stories,
canonical claims, scored (claim, article) pairs and stance predictions. No file I/O here."""

from __future__ import annotations

import logging
import resource
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import partial

import numpy as np
from tqdm.auto import tqdm

from pipeline.core.cli import instantiate_unwrapped
from pipeline.core.encoder import embed_texts
from pipeline.core.records import (
    STANCE_LABELS,
    Article,
    CanonicalClaim,
    Claim,
    Event,
    PipelineError,
    Sentence,
    StancePair,
    StancePrediction,
    is_whole_number,
)
from pipeline.stages.cluster import cluster_claims, merge_by_entailment
from pipeline.stages.coverage import claim_coverage, sort_claims
from pipeline.stages.evidence import attach_scores, build_pairs, nli_inputs
from pipeline.stages.segment import extract_claims, split_sentences
from pipeline.stages.stories import group_stories, story_text

log = logging.getLogger(__name__)


@dataclass
class Prediction:
    sentences: dict[str, list[Sentence]]
    extracted: list[Claim]
    claims: list[CanonicalClaim]
    pairs: list[StancePair]
    predictions: list[StancePrediction]
    timings: dict[str, float] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    story_count: int = 0  # stories in the whole run (a chunk holds some of them)


def build_backend(cfg):
    """The configured backend (`backend=local|ray`) for the NLI and embedding stages."""
    from pipeline.core.backend import build_backend as build

    return build(cfg.get("backend"))


def build_scorer(cfg, backend=None):
    """The configured NLI model (`model/`), on the configured backend, behind the on-disk score cache unless
    `cache.enabled=false`."""
    from pipeline.core.cache import NliCache
    from pipeline.stages.nli.scorer import BackendScorer, CachedScorer, nli_worker

    scorer = instantiate_unwrapped(cfg.model)
    backend = backend or build_backend(cfg)
    if backend.name != "local":
        from omegaconf import OmegaConf

        model_cfg = OmegaConf.to_container(cfg.model, resolve=True)
        threads = getattr(backend, "cpus_per_actor", None)
        scorer = BackendScorer(scorer, backend, partial(nli_worker, model_cfg, threads))
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
    batch_size = 32

    def score(self, pairs, batch_size=None, progress=False):
        return np.tile(np.array([0.0, 1.0, 0.0]), (len(pairs), 1))


class Timer:
    """Stage timings: `lap(name)` adds the seconds since the previous lap to `name` (a stage run once per chunk of
    stories sums up) and records the process's peak RSS so far (`peak_rss_mb[name]`), which says which stage the
    memory went to."""

    def __init__(self):
        self.timings: dict = {"peak_rss_mb": {}}
        self._clock = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = round(self.timings.get(name, 0.0) + now - self._clock, 3)
        self.timings["peak_rss_mb"][name] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        self._clock = now


def copies_of(articles: Sequence[Article]) -> dict[str, list[Article]]:
    """Article id -> the identical copies (`duplicate_of`) that are reported through it."""
    copies: dict[str, list[Article]] = {}
    for a in articles:
        if a.duplicate_of:
            copies.setdefault(a.duplicate_of, []).append(a)
    return copies


def find_events(articles: Sequence[Article], cfg, mode: str | None = None, backend=None, cache=None) -> list[Event]:
    """The stories of `articles` (`events=auto`: story grouping, an input `event` wins; `events=one`: one story).
    Identical copies join the story of the article they copy."""
    mode = mode or cfg.get("events", "auto")
    if mode not in ("auto", "one"):
        raise PipelineError(None, f"unknown events={mode!r}; use events=auto or events=one")
    scored = [a for a in articles if not a.duplicate_of]
    free = [a for a in scored if not a.event_id]
    vectors = None
    if mode == "auto" and free:
        vectors = embed_texts([story_text(a, cfg.stories.lead_chars) for a in free], cfg.stories.encoder,
                              cache=cache, backend=backend)
    events = group_stories(scored, vectors, cfg.stories, one=mode == "one")
    copies = copies_of(articles)
    if not copies:
        return events
    out = []
    for e in events:
        extra = [c for aid in e.article_ids for c in copies.get(aid, [])]
        out.append(Event(e.event_id, e.label, tuple(sorted(e.article_ids + tuple(c.article_id for c in extra))),
                         tuple(sorted(set(e.outlets) | {c.outlet for c in extra}))))
    return out


def score_pairs(articles: Sequence[Article], claims: Sequence[CanonicalClaim], sentences: dict[str, list[Sentence]],
                cfg, scorer, timer: Timer, progress: bool = True, backend=None,
                stories: Sequence[tuple[Sequence[CanonicalClaim], Sequence[Article]]] | None = None
                ) -> list[StancePair]:
    """Evidence retrieval and NLI for every (claim, article) pair to score: each claim against every article, or,
    with `stories` given as (claims, articles) groups, each story's claims against that story's articles only."""
    join = cfg.evidence.join  # checked here, where every job (infer, eval, train, bench) builds its pairs
    if not is_whole_number(join):
        raise PipelineError(None, f"evidence.join must be 0 (off) or the number of sentences to join, not {join!r}")
    cache = embedding_cache(cfg)
    claim_emb = embed_texts([c.text for c in claims], cfg.evidence.encoder, cache=cache, backend=backend)
    flat = [s for a in articles for s in sentences[a.article_id]]
    flat_emb = embed_texts([s.text for s in flat], cfg.evidence.encoder, cache=cache, backend=backend)
    if cache is not None:
        cache.close()
    sentence_emb, row = {}, 0
    for a in articles:
        n = len(sentences[a.article_id])
        sentence_emb[a.article_id] = flat_emb[row:row + n]
        row += n
    claim_row = {id(c): i for i, c in enumerate(claims)}
    pairs = []
    for story_claims, story_articles in (stories if stories is not None else [(claims, articles)]):
        vecs = claim_emb[[claim_row[id(c)] for c in story_claims]] if story_claims else claim_emb[:0]
        pairs += build_pairs(story_claims, vecs, story_articles, sentences, sentence_emb, cfg.evidence.top_k, join)
    timer.lap("evidence_s")
    gate = cfg.evidence.get("gate_similarity")
    inputs = nli_inputs(pairs, gate)
    probs = scorer.score(inputs, progress=progress)
    pairs = attach_scores(pairs, probs, gate)
    timer.lap("nli_s")
    # throughput of the model itself: pairs read from the score cache do not count (summed over calls)
    t = timer.timings
    t["nli_pairs"] = t.get("nli_pairs", 0) + len(inputs)
    t["nli_cached"] = t.get("nli_cached", 0) + getattr(scorer, "hits", 0)
    t["nli_computed"] = t.get("nli_computed", 0) + getattr(scorer, "computed", len(inputs))
    t["nli_pairs_per_s"] = round(t["nli_computed"] / max(t["nli_s"], 1e-9), 1) if t["nli_computed"] else None
    return pairs


class _CountingScorer:
    """Passes `score` calls through to `scorer` and counts the pairs (the merge's NLI work, for `run.json`)."""

    def __init__(self, scorer):
        self.scorer, self.pairs = scorer, 0

    def score(self, pairs, **kwargs):
        self.pairs += len(pairs)
        return self.scorer.score(pairs, **kwargs)


def _story_claims(extracted: Sequence[Claim], events: Sequence[Event], cfg, backend, cache, progress: bool,
                  scorer=None) -> list[CanonicalClaim]:
    """Extracted claims grouped across outlets within each story (then merged by mutual entailment when
    `cluster.nli_merge.enabled`). Ids are `k001`, ... for one story and `<event>-k001`, ... for several."""
    vectors = embed_texts([c.text for c in extracted], cfg.cluster.encoder, cache=cache, backend=backend)
    event_of = {aid: e.event_id for e in events for aid in e.article_ids}
    rows: dict[str, list[int]] = {}
    for i, c in enumerate(extracted):
        rows.setdefault(event_of[c.article_id], []).append(i)
    prefix = len(events) > 1
    merge = cfg.cluster.get("nli_merge")
    claims = []
    for e in tqdm(events, desc="stories", unit="story", disable=not progress or len(events) < 2, leave=False):
        idx = rows.get(e.event_id, [])
        group = cluster_claims([extracted[i] for i in idx], vectors[idx], cfg.cluster.similarity_threshold,
                               cfg.cluster.linkage)
        if merge and merge.enabled and scorer is not None:
            group = merge_by_entailment(group, [extracted[i] for i in idx], vectors[idx], scorer,
                                        merge.candidate_similarity, merge.entailment, merge.get("mode", "mutual"),
                                        merge.get("max_candidates"), merge.get("core", False),
                                        merge.get("weaker"))
        claims += [replace(c, claim_id=f"{e.event_id}-{c.claim_id}" if prefix else c.claim_id,
                           event_id=e.event_id) for c in group]
    return claims


def predict_chunks(articles: Sequence[Article], cfg, scorer, head, claims: Sequence[CanonicalClaim] | None = None,
                   progress: bool = True, events: str | None = None, merge_scorer=None) -> Iterator[Prediction]:
    """Run story grouping -> segment -> cluster within each story (unless claims are given) -> evidence -> NLI ->
    stance, and yield the results a chunk of stories at a time (`stream.chunk_pairs` (claim, article) pairs at
    most, a larger story alone), so that a feed's pairs, evidence and predictions never sit in memory all at once.
    `events` overrides `cfg.events` (auto / one); `merge_scorer` is the NLI model for the mutual-entailment merge
    of claims (default: `scorer`).

    Each chunk's `claims` are sorted within each story (most covered first); `timings` are the run's so far;
    `sentences` and `extracted` are the whole run's (shared, not copied). Identical copies
    (`Article.duplicate_of`) are scored once, through the article they copy, and get its results under their own
    id and outlet. Given claims are scored against the articles they list (any copy's id may be listed), else
    against every article, in one chunk; extracted claims against the articles of their story.
    """
    timer = Timer()
    backend = build_backend(cfg)
    scored = [a for a in articles if not a.duplicate_of]
    copies = copies_of(articles)
    rep = {a.article_id: a.duplicate_of or a.article_id for a in articles}
    cache = embedding_cache(cfg)
    found = find_events(articles, cfg, events, backend, cache)
    event_of = {aid: e.event_id for e in found for aid in e.article_ids}
    timer.lap("stories_s")
    sentences, extracted = segment_articles(scored, cfg.segment)
    for d in (d for ds in copies.values() for d in ds):
        sentences[d.article_id] = [replace(s, article_id=d.article_id) for s in sentences[d.duplicate_of]]
    timer.lap("segment_s")
    if claims is None:
        counted = _CountingScorer(merge_scorer or scorer)
        claims = _story_claims(extracted, found, cfg, backend, cache, progress, counted)
        timer.lap("cluster_s")
        timer.timings["merge_nli_pairs"] = counted.pairs  # NLI inputs of the claim merge (nli_pairs: stance's)
        members: dict[str, list[CanonicalClaim]] = {}
        for c in claims:
            members.setdefault(c.event_id, []).append(c)
        in_story: dict[str, list[Article]] = {}
        for a in scored:
            in_story.setdefault(event_of[a.article_id], []).append(a)
        if copies:  # a copy reports what the article it copies says: list it among each claim's sources
            members = {eid: [replace(c, sources=c.sources + tuple(
                replace(s, claim_id=s.claim_id.replace(s.article_id, d.article_id, 1), article_id=d.article_id,
                        outlet=d.outlet) for s in c.sources for d in copies.get(s.article_id, []))) for c in cs]
                for eid, cs in members.items()}
        stories = [(e, members.get(e.event_id, []), in_story.get(e.event_id, [])) for e in found]
        chunks = _chunks(stories, int(cfg.get("stream", {}).get("chunk_pairs", 20000))) or [[]]
    else:
        claims = [c if c.article_ids is None else replace(c, event_id=_one_event(c.article_ids, event_of))
                  for c in claims]
        chunks = [None]
    if cache is not None:
        cache.close()
    from pipeline.stages.stance.heads import stance_proba

    below = float(cfg.get("uncertain_below", 0.5))
    by_id = {a.article_id: a for a in articles}
    texts = {a.article_id: a.text for a in scored}
    bar = tqdm(total=len(found), desc="stories scored", unit="story", disable=not progress or len(chunks) < 2,
               leave=False)
    for chunk in chunks:
        if chunk is None:  # a claims file: scored as it says, in one chunk
            chunk_events, chunk_claims, chunk_articles, groups = found, claims, scored, None
            scoring = [c if c.article_ids is None else replace(c, article_ids=tuple(dict.fromkeys(
                rep[a] for a in c.article_ids))) for c in claims]
        else:
            chunk_events = [e for e, _, _ in chunk]
            chunk_claims = [c for _, cs, _ in chunk for c in cs]
            chunk_articles = [a for _, _, arts in chunk for a in arts]
            groups = [(cs, arts) for _, cs, arts in chunk]
            scoring = chunk_claims
        pairs = score_pairs(chunk_articles, scoring, sentences, cfg, scorer, timer, progress and len(chunks) == 1,
                            backend, groups)
        stance_probs = stance_proba(head, pairs, texts)
        wanted = {c.claim_id: set(c.article_ids) for c in chunk_claims if c.article_ids is not None}
        predictions = []
        for p, row in zip(pairs, stance_probs):
            label = STANCE_LABELS[int(np.argmax(row))]
            scores = {k: round(float(v), 4) for k, v in zip(STANCE_LABELS, row)}
            uncertain = bool(float(np.max(row)) < below)
            targets = [p.article_id] + [d.article_id for d in copies.get(p.article_id, [])]
            if p.claim_id in wanted:
                targets = [t for t in targets if t in wanted[p.claim_id]]
            for t in targets:
                predictions.append(StancePrediction(p.claim_id, t, by_id[t].outlet, label, scores, p.evidence,
                                                    uncertain, event_of.get(t, "")))
        timer.lap("stance_s")
        coverage = claim_coverage(chunk_claims, predictions)
        ordered = ([c for _, cs, _ in chunk for c in sort_claims(cs, coverage)] if chunk is not None
                   else sort_claims(chunk_claims, coverage))
        bar.set_postfix(pairs=timer.timings.get("nli_pairs", 0), refresh=False)
        bar.update(len(chunk_events))
        yield Prediction(sentences, extracted, ordered, pairs, predictions, timer.timings, list(chunk_events),
                         len(found))
    bar.close()


def _chunks(stories: list[tuple], budget: int) -> list[list[tuple]]:
    """Consecutive stories grouped while their (claim, article) pairs stay within `budget` (a larger story alone)."""
    chunks: list[list[tuple]] = []
    size = budget + 1
    for story in stories:
        n = len(story[1]) * len(story[2])
        if size + n > budget:
            chunks.append([])
            size = 0
        chunks[-1].append(story)
        size += n
    return chunks


def predict(articles: Sequence[Article], cfg, scorer, head, claims: Sequence[CanonicalClaim] | None = None,
            progress: bool = True, events: str | None = None, merge_scorer=None) -> Prediction:
    """`predict_chunks`, all chunks joined into one Prediction (claims in story order, each story's sorted)."""
    parts = list(predict_chunks(articles, cfg, scorer, head, claims, progress, events, merge_scorer))
    first = parts[0]
    return Prediction(first.sentences, first.extracted, [c for p in parts for c in p.claims],
                      [x for p in parts for x in p.pairs], [x for p in parts for x in p.predictions],
                      parts[-1].timings, [e for p in parts for e in p.events], first.story_count)


def _one_event(article_ids: Sequence[str], event_of: dict[str, str]) -> str:
    found = {event_of.get(a, "") for a in article_ids}
    return found.pop() if len(found) == 1 else ""


def claim_rows(claims: Sequence[CanonicalClaim], predictions: Sequence[StancePrediction] | None = None) -> list[dict]:
    """claims.jsonl rows; with predictions, each claim also gets `coverage` (outlets that agree or discuss),
    `contested` (some outlet agrees, another disagrees) and `outlets` (outlet -> label)."""
    coverage = claim_coverage(claims, predictions) if predictions is not None else {}
    rows = []
    for c in claims:
        row: dict = {"id": c.claim_id, "text": c.text}
        if c.event_id:
            row["event_id"] = c.event_id
        if c.claim_id in coverage:
            cov = coverage[c.claim_id]
            row |= {"coverage": cov.coverage, "contested": cov.contested, "outlets": cov.outlets}
        if c.sources:
            row["sources"] = [{"claim_id": s.claim_id, "article_id": s.article_id, "outlet": s.outlet,
                               "text": s.text, "start": s.start, "end": s.end} for s in c.sources]
        if c.article_ids is not None:
            row["articles"] = list(c.article_ids)
        rows.append(row)
    return rows


def stance_rows(predictions: Sequence[StancePrediction]) -> list[dict]:
    return [{"claim_id": p.claim_id, "article_id": p.article_id, "outlet": p.outlet,
             **({"event_id": p.event_id} if p.event_id else {}), "label": p.label,
             "scores": p.scores, "uncertain": p.uncertain,
             "evidence": [{"sentence": e.sentence, "entailment": e.entailment, "neutral": e.neutral,
                           "contradiction": e.contradiction} for e in p.evidence]}
            for p in predictions]


def event_rows(events: Sequence[Event], claims: Sequence[CanonicalClaim],
               predictions: Sequence[StancePrediction]) -> list[dict]:
    """events.jsonl rows: each story with its label, articles, outlets, claim count and contested claims."""
    coverage = claim_coverage(claims, predictions)
    rows = []
    for e in events:
        mine = [c for c in claims if c.event_id == e.event_id]
        rows.append({"event_id": e.event_id, "label": e.label, "articles": list(e.article_ids),
                     "outlets": list(e.outlets), "claims": len(mine),
                     "contested_claims": sum(coverage[c.claim_id].contested for c in mine if c.claim_id in coverage)})
    return rows
