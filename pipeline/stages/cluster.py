"""Cluster claims across outlets: list[Claim] + embeddings -> list[CanonicalClaim].

Agglomerative clustering on cosine distance (scikit-learn), cut at `1 - similarity_threshold`.
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
