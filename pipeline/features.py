"""NLI evidence scores -> feature matrix `(n_pairs, len(FEATURES))` for the stance decision."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pipeline.records import StancePair

FEATURES: tuple[str, ...] = (
    "similarity",          # best claim-sentence cosine in the article
    "max_entailment",      # over the evidence sentences
    "max_contradiction",
    "mean_entailment",
    "mean_contradiction",
    "entailment_of_best",  # NLI of the single most similar sentence
    "contradiction_of_best",
)


def to_features(pairs: Sequence[StancePair]) -> np.ndarray:
    X = np.zeros((len(pairs), len(FEATURES)))
    for i, pair in enumerate(pairs):
        if not pair.evidence:
            continue
        ent = np.array([ev.entailment for ev in pair.evidence])
        con = np.array([ev.contradiction for ev in pair.evidence])
        X[i] = (pair.similarity, ent.max(), con.max(), ent.mean(), con.mean(), ent[0], con[0])
    return X
