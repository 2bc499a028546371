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
        X_fit, y_fit = X[train], y[train]
        if extra is not None and len(extra[0]):
            X_fit, y_fit = np.vstack([extra[0], X_fit]), np.concatenate([extra[1], y_fit])
        pred[test] = make_head().fit(X_fit, y_fit).predict(X[test])
    return pred
