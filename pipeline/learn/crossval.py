"""Grouped cross-validation of a head over feature rows: out-of-fold predictions, each fold held out whole
(a claim or an event), optionally with extra rows (e.g. FNC-1) always on the training side."""

from __future__ import annotations

import numpy as np


def grouped_predictions(make_head, X: np.ndarray, y: np.ndarray, groups: np.ndarray, folds: int,
                        extra: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Out-of-fold labels: each fold's rows predicted by a head fitted on the other folds (folds by `groups`),
    plus the `extra` (X, y) rows when given."""
    from sklearn.model_selection import GroupKFold

    pred = np.empty(len(y), dtype=object)
    for train, test in GroupKFold(n_splits=folds).split(X, y, groups):
        pred[test] = make_head().fit(*stacked(extra, (X[train], y[train]))).predict(X[test])
    return pred


def stacked(*parts: tuple[np.ndarray, np.ndarray] | None) -> tuple[np.ndarray, np.ndarray] | None:
    """The (X, y) rows of the given parts, stacked in order; parts that are None or empty are skipped (None if all)."""
    parts = [p for p in parts if p is not None and len(p[0])]
    return (np.vstack([p[0] for p in parts]), np.concatenate([p[1] for p in parts])) if parts else None
