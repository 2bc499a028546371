"""Stance decision: feature matrix (see `features.FEATURES`) -> probabilities `(n_pairs, 4)` in STANCE_LABELS order.

`RuleStance` is the documented rule used until a head is trained (`make train`). It follows the scikit-learn
estimator contract so a learned head can stand in its place.

The rule, per (claim, article):
1. related = sigmoid((similarity - unrelated_similarity) / temperature): how likely the article addresses the claim.
2. Among related pairs, e = best evidence entailment, c = best evidence contradiction. agree gets e if
   e >= agree_threshold, disagree gets c if c >= disagree_threshold; whatever is left is discuss.
3. Scores are those shares times `related`, plus unrelated = 1 - related; the label is the highest score.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from pipeline.features import FEATURES
from pipeline.records import STANCE_LABELS

_COL = {name: i for i, name in enumerate(FEATURES)}


class RuleStance(ClassifierMixin, BaseEstimator):
    def __init__(self, unrelated_similarity: float = 0.35, temperature: float = 0.05, agree_threshold: float = 0.5,
                 disagree_threshold: float = 0.5):
        self.unrelated_similarity = unrelated_similarity
        self.temperature = temperature
        self.agree_threshold = agree_threshold
        self.disagree_threshold = disagree_threshold

    def fit(self, X=None, y=None):
        """The rule has nothing to learn; fit only records the label set."""
        self.classes_ = np.array(STANCE_LABELS)
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        check_is_fitted(self)
        X = np.asarray(X, dtype=float)
        related = 1.0 / (1.0 + np.exp(-(X[:, _COL["similarity"]] - self.unrelated_similarity) / self.temperature))
        e = X[:, _COL["max_entailment"]]
        c = X[:, _COL["max_contradiction"]]
        total = np.maximum(e + c, 1.0)  # keep e + c <= 1
        agree = np.where(e >= self.agree_threshold, e / total, 0.0)
        disagree = np.where(c >= self.disagree_threshold, c / total, 0.0)
        discuss = np.clip(1.0 - agree - disagree, 0.0, 1.0)
        probs = np.stack([agree * related, disagree * related, discuss * related, 1.0 - related], axis=1)
        return probs / probs.sum(axis=1, keepdims=True)

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.array(STANCE_LABELS)[self.predict_proba(X).argmax(axis=1)]


class StanceHead(ClassifierMixin, BaseEstimator):
    """A learned stance head over `features.FEATURES`: logistic regression or gradient boosting.

    Args:
        kind: "logreg" (standardised features + multinomial logistic regression) or "gbm"
            (scikit-learn HistGradientBoostingClassifier).
        class_weight: "balanced" weighs the rare classes (disagree) up, which helps macro-F1.
    """

    def __init__(self, kind: str = "gbm", C: float = 1.0, learning_rate: float = 0.1, max_iter: int = 300,
                 max_leaf_nodes: int = 31, l2_regularization: float = 0.0, class_weight: str | None = "balanced",
                 random_state: int = 13):
        self.kind = kind
        self.C = C
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.max_leaf_nodes = max_leaf_nodes
        self.l2_regularization = l2_regularization
        self.class_weight = class_weight
        self.random_state = random_state

    def _estimator(self):
        if self.kind == "logreg":
            from sklearn.linear_model import LogisticRegression
            from sklearn.pipeline import make_pipeline
            from sklearn.preprocessing import StandardScaler

            return make_pipeline(StandardScaler(), LogisticRegression(C=self.C, class_weight=self.class_weight,
                                                                      max_iter=5000))
        if self.kind == "gbm":
            from sklearn.ensemble import HistGradientBoostingClassifier

            return HistGradientBoostingClassifier(learning_rate=self.learning_rate, max_iter=self.max_iter,
                                                  max_leaf_nodes=self.max_leaf_nodes,
                                                  l2_regularization=self.l2_regularization,
                                                  class_weight=self.class_weight, random_state=self.random_state)
        raise ValueError(f"unknown stance head kind {self.kind!r}; use 'logreg' or 'gbm'")

    def fit(self, X: np.ndarray, y) -> StanceHead:
        X = np.asarray(X, dtype=float)
        y = np.asarray(y)
        unknown = set(y) - set(STANCE_LABELS)
        if unknown:
            raise ValueError(f"unknown stance labels {sorted(unknown)}")
        self.estimator_ = self._estimator().fit(X, y)
        self.classes_ = np.array(STANCE_LABELS)
        self.n_features_in_ = X.shape[1]
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """`(n_pairs, 4)` in STANCE_LABELS order (a label absent from training gets probability 0)."""
        check_is_fitted(self)
        raw = self.estimator_.predict_proba(np.asarray(X, dtype=float))
        out = np.zeros((raw.shape[0], len(STANCE_LABELS)))
        for j, label in enumerate(self.estimator_.classes_):
            out[:, STANCE_LABELS.index(label)] = raw[:, j]
        return out

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.array(STANCE_LABELS)[self.predict_proba(X).argmax(axis=1)]
