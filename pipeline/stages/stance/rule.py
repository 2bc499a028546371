"""Stance decision: feature matrix (see `features.FEATURES`) -> probabilities `(n_pairs, 4)` in STANCE_LABELS order.

`RuleStance` is the documented rule, used until a head is trained (`make train`). `StanceHead` is the learned
head. Both follow the scikit-learn estimator contract, so either can stand in for the other.

The rule, per (claim, article), follows the label definitions of `data/labels/README.md`. With s = best
claim-sentence similarity, e = best evidence entailment, c = best evidence contradiction, s_c = similarity of the
sentence that gives c, and sig(x) = 1 / (1 + exp(-x / temperature)):
1. related = sig(s - unrelated_similarity): how likely the article deals with the claim at all.
2. close = sig(s + entailment_weight x e - name_weight x (1 - n) - discuss_similarity), with n the share of the
   claim's names (its capitalised words: people, places, bodies) that the article mentions: how likely it speaks of
   the claim's very subject. On same-story articles every sentence is about the same people, so similarity alone
   calls many claims "discussed" that the article never takes up; an article that lacks the claim's own actors
   ("Trump said ..." in an article that never names Trump) is less likely to deal with it. A sentence that entails
   part of the claim (e below the agree threshold) gives part of the information, which the label guide calls
   discuss; `entailment_weight` lets that count towards closeness.
3. agree gets e if e >= agree_threshold: a sentence that states the claim. When every such sentence only reports the
   claim as an allegation ("reportedly", "alleged", "accused", a lawsuit) or as someone's words ("X said",
   "argued", "warned": the article reports them, it does not assert them) and the claim is not itself a report of
   speech ("X said ...", "X described ... as"), that share goes to discuss instead (label guide, hard case 1).
   With `quote_cues`, a sentence that opens a quotation, or says "warn", "argue", "insist" (plain present),
   gives someone's words too; with `forecast_cues`, a sentence that gives the claim as "expected" ("is expected
   to plead guilty" for "pleaded guilty") reports a forecast, not a done fact, and its share goes to discuss
   whoever the claim attributes. With `headline_cues`, a claim in headline words of speech ("Rubio slams ...",
   "Vanity Fair pegs ...", "... put out a statement ...") or one that opens with its speaker and a colon
   ("Summers: ...") is a report of speech too (feature `claim_speech_act`), so an article that gives those words as
   someone's agrees with it.
4. disagree gets c x sig(s_c - contradiction_similarity) if c >= disagree_threshold and no sentence states the claim:
   a contradiction counts only from a sentence about the same subject (NLI models call a loosely related sentence
   "contradiction" readily), and it never outweighs a sentence that states the claim, since the article then
   says the claim and at most adds a detail that does not fit. The shares are e and c x sig(s_c -
   contradiction_similarity) over their sum when that exceeds 1, so a far-off "contradiction" does not thin out a
   stating sentence's agree either.
5. The undecided rest is discuss in proportion `close` (near the claim, not settling it), otherwise unrelated.
6. Scores are those shares times `related`, plus 1 - related on unrelated; the label is the highest score.
7. With extracted claims the claim's own source articles are known: there the claim's sentence states it, so the
   article agrees (or discusses, when that sentence reports it as an allegation as in 3 with a cue the claim itself
   does not carry: "X reportedly did Y" against the claim "X did Y", not "Trump accused ..." against "Trump
   accused ..."); a source article never disagrees.
8. The probabilities are (1 - smoothing) x these scores + smoothing / 4. The scores give exactly 0 to what the steps
   rule out (disagree when no sentence contradicts), and the rule is wrong on some of those cells; a 0 on the right
   label is an infinite log loss and says "certain" where nothing is. Smoothing keeps every row's order, so the
   labels are the same for any value; it was chosen for log loss and calibration on 14 dev events (README).

`fit(X, y)` with labels picks the five thresholds by grid search (GRID plus the configured values) for the best
macro-F1 on (X, y), e.g. FNC-1 train (`make train ARGS="stance=rule"`), with name_weight as configured; `fit()`
without labels keeps the configured values.
"""

from __future__ import annotations

import itertools

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from pipeline.core.records import STANCE_LABELS
from pipeline.stages.stance.features import FEATURES

_COL = {name: i for i, name in enumerate(FEATURES)}
_THRESHOLDS = ("unrelated_similarity", "discuss_similarity", "agree_threshold", "disagree_threshold",
               "contradiction_similarity")
GRID = {
    "unrelated_similarity": np.round(np.arange(0.10, 0.65, 0.10), 2),
    "discuss_similarity": np.round(np.arange(0.30, 0.95, 0.10), 2),
    "agree_threshold": np.round(np.arange(0.3, 0.95, 0.1), 2),
    "disagree_threshold": np.round(np.arange(0.3, 0.95, 0.1), 2),
    "contradiction_similarity": np.round(np.arange(0.3, 0.65, 0.1), 2),
}


def _sig(x: np.ndarray, temperature: float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x / temperature, -50, 50)))


def rule_proba(X: np.ndarray, unrelated_similarity: float, discuss_similarity: float, agree_threshold: float,
               disagree_threshold: float, temperature: float, contradiction_similarity: float = 0.4,
               name_weight: float = 0.2, smoothing: float = 0.0, quote_cues: bool = True,
               forecast_cues: bool = True, entailment_weight: float = 0.0,
               headline_cues: bool = True) -> np.ndarray:
    col = lambda name: X[:, _COL[name]]  # noqa: E731
    sim, e, c = col("similarity"), col("max_entailment"), col("max_contradiction")
    related = _sig(sim - unrelated_similarity, temperature)
    close = _sig(sim + entailment_weight * e - name_weight * (1.0 - col("name_coverage")) - discuss_similarity,
                 temperature)
    close_c = _sig(col("similarity_of_max_contradiction") - contradiction_similarity, temperature)
    states = e >= agree_threshold
    words = col("entailing_quoted") if quote_cues else col("entailing_attributed")
    attributed = col("claim_attributed")
    if headline_cues:
        attributed = np.maximum(attributed, col("claim_speech_act"))
    allegation = np.maximum(col("entailing_hedged"), words) * (1.0 - attributed)
    if forecast_cues:
        allegation = np.maximum(allegation, col("entailing_forecast"))
    total = np.maximum(e + c * close_c, 1.0)
    stated = np.where(states, e / total, 0.0)
    agree, reported = stated * (1.0 - allegation), stated * allegation
    disagree = np.where((c >= disagree_threshold) & ~states, c / total, 0.0) * close_c
    rest = np.clip(1.0 - stated - disagree, 0.0, 1.0)
    probs = np.stack([agree * related, disagree * related, (reported + rest * close) * related,
                      1.0 - related + rest * (1.0 - close) * related], axis=1)
    source = col("is_source") > 0  # the claim's own article: its sentence states the claim (7.)
    hedged = col("source_hedged") > 0
    probs[source] = np.where(hedged[source, None], [[0.1, 0.0, 0.9, 0.0]], [[0.9, 0.0, 0.1, 0.0]])
    probs = probs / probs.sum(axis=1, keepdims=True)
    return (1.0 - smoothing) * probs + smoothing / probs.shape[1]  # step 8


def _macro_f1(gold: np.ndarray, pred: np.ndarray, k: int) -> float:
    cm = np.bincount(gold * k + pred, minlength=k * k).reshape(k, k)
    tp = np.diag(cm).astype(float)
    denom = cm.sum(0) + cm.sum(1)
    return float(np.mean(np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0)))


class RuleStance(ClassifierMixin, BaseEstimator):
    def __init__(self, unrelated_similarity: float = 0.35, discuss_similarity: float = 0.6,
                 agree_threshold: float = 0.5, disagree_threshold: float = 0.4, temperature: float = 0.05,
                 contradiction_similarity: float = 0.4, name_weight: float = 0.2, smoothing: float = 0.25,
                 quote_cues: bool = True, forecast_cues: bool = True, entailment_weight: float = 0.0,
                 headline_cues: bool = True):
        self.unrelated_similarity = unrelated_similarity
        self.quote_cues = quote_cues
        self.forecast_cues = forecast_cues
        self.smoothing = smoothing
        self.name_weight = name_weight
        self.entailment_weight = entailment_weight
        self.headline_cues = headline_cues
        self.contradiction_similarity = contradiction_similarity
        self.discuss_similarity = discuss_similarity
        self.agree_threshold = agree_threshold
        self.disagree_threshold = disagree_threshold
        self.temperature = temperature

    def __setstate__(self, state):
        # a rule saved before smoothing existed (rule step 8) gave its scores unsmoothed, and one saved before the
        # quote and forecast cues (step 3) did without them: each loads as it was saved
        state.setdefault("smoothing", 0.0)
        state.setdefault("quote_cues", False)
        state.setdefault("forecast_cues", False)
        state.setdefault("entailment_weight", 0.0)  # and one saved before step 2 counted partial entailment
        state.setdefault("headline_cues", False)
        super().__setstate__(state)

    def fit(self, X=None, y=None):
        """Without labels, keep the configured thresholds; with labels, grid-search them for macro-F1."""
        if not 0.0 <= self.smoothing < 1.0:
            raise ValueError(f"stance.smoothing must be in [0, 1), not {self.smoothing}")
        self.classes_ = np.array(STANCE_LABELS)
        self.thresholds_ = {name: float(getattr(self, name)) for name in _THRESHOLDS}
        if y is None:
            return self
        X = np.asarray(X, dtype=float)
        gold = np.array([STANCE_LABELS.index(label) for label in y])
        best = -1.0
        # the configured values are candidates too, so a fit never scores below them on (X, y)
        grid = [sorted({*map(float, GRID[name]), float(getattr(self, name))}) for name in _THRESHOLDS]
        for values in itertools.product(*grid):
            params = dict(zip(_THRESHOLDS, map(float, values)))
            if params["discuss_similarity"] < params["unrelated_similarity"]:
                continue
            pred = rule_proba(X, **params, **self._options()).argmax(axis=1)
            score = _macro_f1(gold, pred, len(STANCE_LABELS))
            if score > best:
                best, self.thresholds_ = score, params
        self.train_macro_f1_ = round(best, 4)
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        check_is_fitted(self)
        return rule_proba(np.asarray(X, dtype=float), **self.thresholds_, smoothing=self.smoothing,
                          **self._options())

    def _options(self) -> dict:
        """The settings that `fit` does not search: they shape the scores for any thresholds."""
        return {"temperature": float(self.temperature), "name_weight": float(self.name_weight),
                "quote_cues": bool(self.quote_cues), "forecast_cues": bool(self.forecast_cues),
                "entailment_weight": float(self.entailment_weight), "headline_cues": bool(self.headline_cues)}

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
