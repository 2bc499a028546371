"""Retrieve evidence: for each (claim, article), the article's top-k sentences most similar to the claim.

With `join` = n > 1, one more premise joins the n most similar sentences in article order: a claim that puts
together two facts an article gives in two sentences ("FBI fires Strzok, the agent who traded anti-Trump texts")
is entailed by neither sentence alone, only by both (multi-sentence evidence, as in FEVER).

Pairs -> `StancePair` records without NLI scores; `score_evidence` adds them (premise = evidence sentence,
hypothesis = claim).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from pipeline.core.records import Article, CanonicalClaim, Evidence, Sentence, StancePair


def build_pairs(claims: Sequence[CanonicalClaim], claim_emb: np.ndarray, articles: Sequence[Article],
                sentences: dict[str, list[Sentence]], sentence_emb: dict[str, np.ndarray],
                top_k: int = 3, join: int = 0) -> list[StancePair]:
    """One StancePair per (claim, article) to score, with the article's `top_k` most similar sentences.

    Args:
        claim_emb: `(n_claims, dim)` unit vectors; `sentence_emb[article_id]` is `(n_sentences, dim)`.
        join: if > 1, a last evidence item joins the `join` most similar sentences in article order (its
            similarity is the lowest of theirs, its `sentence_index` the first one's); 0 or 1: none.
    """
    pairs = []
    for ci, claim in enumerate(claims):
        wanted = set(claim.article_ids) if claim.article_ids is not None else None
        own = {}  # article -> the claim's source sentence there (extracted claims know where they come from)
        for src in claim.sources:
            own.setdefault(src.article_id, src.text)
        for article in articles:
            if wanted is not None and article.article_id not in wanted:
                continue
            sents = sentences[article.article_id]
            if not sents:
                pairs.append(StancePair(claim.claim_id, claim.text, article.article_id, article.outlet, 0.0))
                continue
            sims = sentence_emb[article.article_id] @ claim_emb[ci]
            top = np.argsort(-sims, kind="stable")[:top_k]
            evidence = tuple(Evidence(sents[i].text, sents[i].index, round(float(sims[i]), 4)) for i in top)
            if join > 1 and len(top) >= join:
                parts = sorted(top[:join])
                evidence += (Evidence(" ".join(sents[i].text for i in parts), sents[parts[0]].index,
                                      round(float(sims[parts].min()), 4)),)
            pairs.append(StancePair(claim.claim_id, claim.text, article.article_id, article.outlet,
                                    round(float(sims[top[0]]), 4), evidence, own.get(article.article_id, "")))
    return pairs


def _gated(pair: StancePair, gate: float | None) -> bool:
    return gate is not None and pair.similarity < gate


def nli_inputs(pairs: Sequence[StancePair], gate: float | None = None) -> list[tuple[str, str]]:
    """(premise, hypothesis) for every evidence sentence of every pair not gated out, in order.

    Args:
        gate: pairs whose best similarity is below this skip NLI (None: score everything).
    """
    return [(ev.sentence, pair.claim_text) for pair in pairs if not _gated(pair, gate) for ev in pair.evidence]


def attach_scores(pairs: Sequence[StancePair], probs: np.ndarray, gate: float | None = None,
                  decimals: int = 4) -> list[StancePair]:
    """Put NLI probabilities `(n_scored_evidence, 3)` back on the evidence of each pair (`nli_inputs` order).
    Gated pairs get neutral = 1 on every evidence sentence."""
    out, row = [], 0
    for pair in pairs:
        scored = []
        for ev in pair.evidence:
            if _gated(pair, gate):
                scored.append(replace(ev, entailment=0.0, neutral=1.0, contradiction=0.0))
                continue
            e, n, c = (round(float(x), decimals) for x in probs[row])
            scored.append(replace(ev, entailment=e, neutral=n, contradiction=c))
            row += 1
        out.append(replace(pair, evidence=tuple(scored)))
    return out
