"""Cluster claims across outlets: list[Claim] + embeddings -> list[CanonicalClaim].

Agglomerative clustering on cosine distance (scikit-learn), cut at `1 - similarity_threshold`; then, optionally,
canonical claims that entail each other under the NLI model are merged (`merge_by_entailment`): the same claim in
other words, which embeddings alone put apart.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pipeline.core.records import CanonicalClaim, Claim


def cluster_claims(claims: Sequence[Claim], embeddings: np.ndarray, similarity_threshold: float = 0.75,
                   linkage: str = "average") -> list[CanonicalClaim]:
    """Group claims that say the same thing. `embeddings` is `(n_claims, dim)`, unit-normalised.

    Each canonical claim's text is its medoid (the member most similar to the others); canonical ids
    (`k001`, ...) follow the order in which clusters first appear in `claims`, so they are stable.
    """
    if not claims:
        return []
    if len(claims) == 1:
        labels = np.zeros(1, dtype=int)
    else:
        from sklearn.cluster import AgglomerativeClustering

        model = AgglomerativeClustering(n_clusters=None, metric="cosine", linkage=linkage,
                                        distance_threshold=1.0 - similarity_threshold)
        labels = model.fit_predict(embeddings)
    return cluster_from_labels(claims, embeddings, labels)


def cluster_from_labels(claims: Sequence[Claim], embeddings: np.ndarray, labels: np.ndarray) -> list[CanonicalClaim]:
    """Canonical claims from cluster labels: ids by first appearance in `claims`, text = the medoid member."""
    order: dict[int, list[int]] = {}
    for i, label in enumerate(labels):
        order.setdefault(int(label), []).append(i)
    out = []
    for k, members in enumerate(order.values(), start=1):
        sims = embeddings[members] @ embeddings[members].T
        medoid = members[int(np.argmax(sims.sum(axis=1)))]
        out.append(CanonicalClaim(claim_id=f"k{k:03d}", text=claims[medoid].text,
                                  sources=tuple(claims[i] for i in members)))
    return out


def merge_by_entailment(claims: Sequence[CanonicalClaim], extracted: Sequence[Claim], embeddings: np.ndarray,
                        scorer, candidate_similarity: float = 0.55, entailment: float = 0.5) -> list[CanonicalClaim]:
    """Merge canonical claims that state the same thing in other words: mutual entailment under the NLI model.

    Candidates are pairs of canonical claims whose closest members are at least `candidate_similarity` similar
    (cosine of `embeddings`, rows aligned with `extracted`); a candidate merges when each of those two sentences
    entails the other with probability >= `entailment`. Merges are transitive. Ids and texts are recomputed as in
    `cluster_claims` (first appearance; the medoid of the merged members).
    """
    if len(claims) < 2:
        return list(claims)
    row = {c.claim_id: i for i, c in enumerate(extracted)}
    members = [[row[s.claim_id] for s in c.sources] for c in claims]
    sims = embeddings @ embeddings.T
    candidates = []
    for a in range(len(claims)):
        for b in range(a + 1, len(claims)):
            block = sims[np.ix_(members[a], members[b])]
            i, j = np.unravel_index(int(np.argmax(block)), block.shape)
            if block[i, j] >= candidate_similarity:
                candidates.append((a, b, members[a][i], members[b][j]))
    if not candidates:
        return list(claims)
    texts = [(extracted[i].text, extracted[j].text) for _, _, i, j in candidates]
    probs = scorer.score(texts + [(h, p) for p, h in texts])
    forward, backward = probs[:len(texts), 0], probs[len(texts):, 0]
    merged = [(a, b) for (a, b, _, _), f, r in zip(candidates, forward, backward) if min(f, r) >= entailment]
    component = connected_components_of(len(claims), merged)
    labels = np.empty(len(extracted), dtype=int)
    for k, idx in enumerate(members):
        labels[idx] = component[k]
    return cluster_from_labels(extracted, embeddings, labels)


def connected_components_of(n: int, edges: Sequence[tuple[int, int]]) -> np.ndarray:
    """Component label of each of `n` nodes joined by `edges` (scipy's connected_components)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    rows = [a for a, _ in edges]
    cols = [b for _, b in edges]
    graph = coo_matrix((np.ones(len(edges)), (rows, cols)), shape=(n, n))
    return connected_components(graph, directed=False)[1]
