"""headroom.py: in-sample and claim-grouped CV heads over the features of a labelled set."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pipeline.core.records import STANCE_LABELS, PipelineError
from pipeline.headroom import RULE_ROWS, grouped_predictions, headroom, row_label
from pipeline.stages.stance.features import FEATURES

COL = {name: i for i, name in enumerate(FEATURES)}


def synthetic(n_claims: int = 10, seed: int = 0):
    """4 pairs per claim, one per label, with features that mostly give the label away (plus noise)."""
    rng = np.random.default_rng(seed)
    X, y, groups = [], [], []
    for c in range(n_claims):
        for label in STANCE_LABELS:
            row = rng.uniform(0.0, 0.2, len(FEATURES))
            row[COL["similarity"]] = {"unrelated": 0.2, "discuss": 0.7}.get(label, 0.8) + rng.normal(0, 0.1)
            row[COL["max_entailment"]] = 0.8 if label == "agree" else rng.uniform(0, 0.4)
            row[COL["max_contradiction"]] = 0.8 if label == "disagree" else rng.uniform(0, 0.4)
            X.append(row)
            y.append(label)
            groups.append(f"c{c}")
    return np.array(X), np.array(y), np.array(groups)


def test_headroom_rows_and_the_in_sample_rule_bound():
    X, y, groups = synthetic()
    results = headroom(X, y, groups, folds=5)

    assert list(results) == [*RULE_ROWS, "logreg_cv", "gbm_cv"]
    assert row_label("gbm_cv") == "gbm, grouped CV"
    assert all(m["n"] == len(y) for m in results.values())
    # the grid holds the configured thresholds, so the in-sample fit can only match or beat them
    assert results["rule_in_sample"]["macro_f1"] >= results["rule_configured"]["macro_f1"]
    # three features mostly give the labels away, so a head fitted on other claims does far better than chance (0.25)
    assert results["logreg_cv"]["macro_f1"] > 0.6


class _RecordingHead:
    """Remembers the claims it was fitted on (column 0 holds the claim number) and refuses to predict them."""

    def fit(self, X, y):
        self.seen = set(X[:, 0].astype(int))
        return self

    def predict(self, X):
        assert not self.seen & set(X[:, 0].astype(int)), "a held-out claim was in the training fold"
        return np.array(["unrelated"] * len(X))


def test_grouped_predictions_hold_out_whole_claims():
    X, y, groups = synthetic(n_claims=6)
    X[:, 0] = [int(g[1:]) for g in groups]

    pred = grouped_predictions(_RecordingHead, X, y, groups, folds=3)

    assert len(pred) == len(y) and set(pred) == {"unrelated"}


def test_run_writes_the_report_and_its_first_row_is_make_evals_rule(cfg_factory, tiny_nli_model, tmp_path):
    from pipeline import evaluate
    from pipeline import headroom as job

    model = f"model.name={tiny_nli_model}"
    report = job.run(cfg_factory("tracking.enabled=false", model, config_name="headroom"))
    eval_metrics = evaluate.run(cfg_factory("tracking.enabled=false", model, "stance=rule", "eval.sets=[seeds]"))

    assert report["n_pairs"] == 175 and report["n_claims"] == 35
    written = json.loads((tmp_path / "reports" / "headroom" / "headroom.json").read_text())
    assert list(written["results"]) == [*RULE_ROWS, "logreg_cv", "gbm_cv"]
    assert written["config"]["headroom"]["folds"] == 5 and str(tiny_nli_model) in written["model"]["name"]
    # the same pipeline and rule as `make eval ARGS="stance=rule"`, so the same score
    assert written["results"]["rule_configured"]["macro_f1"] == eval_metrics["stance"]["macro_f1"]


@pytest.mark.parametrize(("override", "message"), [("stance=gbm", "not pipeline.stages.stance.rule.StanceHead"),
                                                   ("stance=trained", "not a saved head"),
                                                   ("headroom.folds=50", "50 folds")])
def test_run_refuses_what_it_cannot_do(cfg_factory, tiny_nli_model, override, message):
    from pipeline import headroom as job

    with pytest.raises(PipelineError, match=message):
        job.run(cfg_factory("tracking.enabled=false", f"model.name={tiny_nli_model}", override,
                            config_name="headroom"))
