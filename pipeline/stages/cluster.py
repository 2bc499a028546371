"""Cluster claims across outlets: list[Claim] + embeddings -> list[CanonicalClaim].

Agglomerative clustering on cosine distance (scikit-learn), cut at `1 - similarity_threshold`; then, optionally,
canonical claims that entail each other under the NLI model are merged (`merge_by_entailment`): the same claim in
other words, which embeddings alone put apart.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from pipeline.core.records import CanonicalClaim, Claim, PipelineError


def cluster_claims(claims: Sequence[Claim], embeddings: np.ndarray, similarity_threshold: float = 0.75,
                   linkage: str = "average") -> list[CanonicalClaim]:
    """Group claims that say the same thing. `embeddings` is `(n_claims, dim)`, unit-normalised.

    Each canonical claim's text is its medoid (the member most similar to the others); canonical ids
    (`k001`, ...) follow the order in which clusters first appear in `claims`, so they are stable.
    """
    if not claims:
        return []
    return cluster_from_labels(claims, embeddings, agglomerative_labels(embeddings, similarity_threshold, linkage))


COMPONENTS_FROM = 2000  # claims: fewer are clustered in one go (the n^2 distances are small, at most 16 MB)


def agglomerative_labels(embeddings: np.ndarray, similarity_threshold: float, linkage: str) -> np.ndarray:
    """Agglomerative clustering (cosine, cut at `1 - similarity_threshold`), one connected component of the
    "at least this similar" graph at a time. With average, complete or single linkage, two clusters merge only if
    some pair across them is that similar, so no cluster spans two components, and each component's merges are
    those it would have alone: the partition is the same as one clustering of everything. Its memory is not:
    scikit-learn holds all n^2 distances (32,707 claims of a feed run as one story: 8.7 GB), the graph only its edges
    (built in chunks) and each component its own. Up to `COMPONENTS_FROM` claims, and for other linkages, it is
    one clustering."""
    from scipy.sparse.csgraph import connected_components
    from sklearn.cluster import AgglomerativeClustering
    from sklearn.neighbors import radius_neighbors_graph

    n = len(embeddings)
    if n < 2:
        return np.zeros(n, dtype=int)
    cut = 1.0 - similarity_threshold

    def fit(x: np.ndarray) -> np.ndarray:
        return AgglomerativeClustering(n_clusters=None, metric="cosine", linkage=linkage,
                                       distance_threshold=cut).fit_predict(x)

    if linkage not in ("average", "complete", "single") or n <= COMPONENTS_FROM:
        return fit(embeddings)
    # a little above the cut, so that rounding never splits a pair that the clustering would merge
    graph = radius_neighbors_graph(embeddings, radius=cut + 1e-6, metric="cosine", include_self=False)
    n_parts, part = connected_components(graph, directed=False)
    labels = np.empty(n, dtype=int)
    offset = 0
    for c in range(n_parts):
        idx = np.flatnonzero(part == c)
        labels[idx] = offset + (fit(embeddings[idx]) if len(idx) > 1 else 0)
        offset = int(labels[idx].max()) + 1
    return labels


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


# The reporting frame around a claim: "According to X, ...", "CNN reports that ...", "..., Reuters said." and a second
# fact tacked on with ", adding that ...". The label guide groups "X said Y" with a bare "Y" and a two-fact sentence
# by its main clause (data/labels/README.md, hard case 13), so the merge checks entailment of what is left.
_LEAD = re.compile(r"^(?:(?i:according to) [^,]{1,80},\s*|(?:[A-Z][\w&.'’-]*\s){1,4}"
                   r"(?:reports|reported|says|said|writes|wrote|notes|noted|claims|claimed)\s+that\s+)")
_TAIL = re.compile(r"(?:,\s*(?:adding|saying|noting|claiming)\b.*|,\s*according to [^,]{1,80}"
                   r"|,\s*(?:[\w.'’-]+\s){0,6}?(?:said|says|reported|reports|added|wrote|writes|noted|told [^,]{1,40}))"
                   r"\s*[.!]?\s*$")


def claim_core(text: str) -> str:
    """`text` without its reporting frame (see `_LEAD`, `_TAIL`); `text` itself if under four words would be left."""
    core = _TAIL.sub("", _LEAD.sub("", text.strip(), count=1), count=1).strip()
    if len(core.split()) < 4:
        return text
    return core[0].upper() + core[1:] + ("" if core.endswith((".", "!", "?", '"', "”")) else ".")


def merge_by_entailment(claims: Sequence[CanonicalClaim], extracted: Sequence[Claim], embeddings: np.ndarray,
                        scorer, candidate_similarity: float = 0.55, entailment: float = 0.5,
                        mode: str = "mutual", max_candidates: int | None = None,
                        core: bool = False, weaker: float | None = None) -> list[CanonicalClaim]:
    """Merge canonical claims that state the same thing in other words: entailment under the NLI model.

    Candidates are pairs of canonical claims whose closest members are at least `candidate_similarity` similar
    (cosine of `embeddings`, rows aligned with `extracted`); a candidate merges when each of those two sentences
    entails the other with probability >= `entailment` (`mode="mutual"`), or when one of them entails the other
    (`mode="either"`: a sentence that states the claim plus another fact, which the label guide groups by its main
    clause, entails the bare claim but not the reverse). With `max_candidates`, a pair is checked only if one claim
    is among the other's `max_candidates` most similar, which bounds the NLI work of a large story (otherwise it
    grows with the square of its claims). Merges are transitive. Ids and texts are recomputed as in
    `cluster_claims` (first appearance; the medoid of the merged members). With `core`, each hypothesis is the other
    sentence's `claim_core` (the premise stays whole): "does this sentence state that one's main claim?".
    With `weaker` (mutual mode), one direction needs `entailment` and the other only `weaker`: a sentence that adds
    a detail ("for the second time in as many weeks") still entails the other's claim, which entails it less surely.
    """
    if mode not in ("mutual", "either"):
        raise PipelineError(None, f"unknown cluster.nli_merge.mode {mode!r}; use mutual or either")
    if len(claims) < 2:
        return list(claims)
    row = {c.claim_id: i for i, c in enumerate(extracted)}
    members = [[row[s.claim_id] for s in c.sources] for c in claims]
    order = [i for m in members for i in m]
    starts = np.cumsum([0] + [len(m) for m in members[:-1]])
    sims = embeddings[order] @ embeddings[order].T
    # closest members of every two canonical claims: the block maxima of the similarity matrix, claim by claim
    closest = np.maximum.reduceat(np.maximum.reduceat(sims, starts, axis=0), starts, axis=1)
    eligible = closest >= candidate_similarity
    np.fill_diagonal(eligible, False)
    if max_candidates:  # only each claim's `max_candidates` most similar others: NLI work linear in the claims
        ranked = np.argsort(-closest, axis=1, kind="stable")
        near = np.zeros_like(eligible)
        np.put_along_axis(near, ranked[:, :int(max_candidates) + 1], True, axis=1)
        eligible &= near | near.T
    candidates = []
    for a, b in zip(*np.nonzero(np.triu(eligible, k=1))):
        block = sims[starts[a]:starts[a] + len(members[a]), starts[b]:starts[b] + len(members[b])]
        i, j = np.unravel_index(int(np.argmax(block)), block.shape)
        candidates.append((int(a), int(b), members[a][i], members[b][j]))
    if not candidates:
        return list(claims)
    hypothesis = [claim_core(c.text) if core else c.text for c in extracted]
    texts = [(extracted[i].text, hypothesis[j]) for _, _, i, j in candidates]
    # one direction first; the other only where it can still decide (mutual: where the first entails, which most
    # candidates do not: half the NLI work; either: where the first does not)
    low = entailment if weaker is None or mode != "mutual" else min(weaker, entailment)
    forward = scorer.score(texts)[:, 0]
    passed = forward >= low
    rest = np.flatnonzero(passed == (mode == "mutual"))
    backward = np.zeros(len(texts))
    if len(rest):
        backward[rest] = scorer.score([(extracted[candidates[k][3]].text, hypothesis[candidates[k][2]])
                                       for k in rest])[:, 0]
    if mode == "mutual":
        ok = (np.minimum(forward, backward) >= low) & (np.maximum(forward, backward) >= entailment)
    else:
        ok = passed | (backward >= entailment)
    merged = [candidates[k][:2] for k in np.flatnonzero(ok)]
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
