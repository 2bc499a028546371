"""`make train` on a tiny synthetic FNC-style set: split by body, head trained, saved and picked up by eval/infer."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from sklearn.base import clone

from pipeline import train
from pipeline.core.records import STANCE_LABELS, PipelineError
from pipeline.learn import fnc
from pipeline.stages.stance.features import FEATURES
from pipeline.stages.stance.heads import load_head
from pipeline.stages.stance.rule import RuleStance, StanceHead

TOPICS = [
    ("The mayor opened the new bridge on Monday.", "mayor bridge"),
    ("A meteorite crashed near the airport in Managua.", "meteorite Managua"),
    ("The company recalled ten thousand cars over the faulty brakes.", "recall brakes"),
    ("Scientists found water ice on the far side of the moon.", "moon ice"),
]


def write_fnc(root, n_bodies=20):
    (root / "fnc1").mkdir(parents=True)
    bodies, stances = [], []
    for b in range(n_bodies):
        fact, _ = TOPICS[b % len(TOPICS)]
        body = f"{fact} Officials confirmed the report on day {b}. Residents said they were surprised."
        bodies.append({"Body ID": str(b), "articleBody": body})
        other = TOPICS[(b + 1) % len(TOPICS)][0]
        stances += [{"Headline": fact, "Body ID": str(b), "Stance": "agree"},
                    {"Headline": fact.replace(" the ", " no ", 1), "Body ID": str(b), "Stance": "disagree"},
                    {"Headline": "Reportedly " + fact.lower(), "Body ID": str(b), "Stance": "discuss"},
                    {"Headline": other, "Body ID": str(b), "Stance": "unrelated"}]
    for name, rows, cols in (("train_bodies.csv", bodies, ["Body ID", "articleBody"]),
                             ("train_stances.csv", stances, ["Headline", "Body ID", "Stance"])):
        with open(root / "fnc1" / name, "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=cols)
            writer.writeheader()
            writer.writerows(rows)


def test_split_is_by_body_and_seeded():
    ids = [str(i) for i in range(100)]
    split = fnc.split_bodies(ids, 0.2, seed=3)
    assert sum(v == "dev" for v in split.values()) == 20 and set(split) == set(ids)
    assert split == fnc.split_bodies(list(reversed(ids)), 0.2, seed=3)
    assert split != fnc.split_bodies(ids, 0.2, seed=4)


def test_committed_fnc_split_keeps_bodies_apart():
    from tests.conftest import ROOT

    split = fnc.read_split(ROOT / "data" / "fnc1" / "split.csv")
    assert len(split) == 1683 and set(split.values()) == {"train", "dev"}
    assert sum(v == "dev" for v in split.values()) == round(0.2 * 1683)


def test_train_fits_saves_and_is_used_by_default(cfg_factory, tmp_path, tiny_nli_model):
    write_fnc(tmp_path / "datasets")
    out = tmp_path / "head"
    cfg = cfg_factory(f"paths.datasets={tmp_path / 'datasets'}", f"train.split_file={tmp_path / 'split.csv'}",
                      f"train.output_dir={out}", f"model.name={tiny_nli_model}", "stance=gbm", "stance.max_iter=20",
                      "train.select=false", config_name="train")
    result = train.run(cfg)
    split = fnc.read_split(tmp_path / "split.csv")
    assert sum(v == "dev" for v in split.values()) == 4
    sidecar = json.loads((out / "head.json").read_text())
    assert sidecar["features"] == list(FEATURES) and sidecar["nli_model"]["name"] == str(tiny_nli_model)
    assert sidecar["counts"] == {"train_pairs": 64, "dev_pairs": 16, "train_bodies": 16, "dev_bodies": 4}
    assert 0.0 <= result["dev_metrics"]["fnc_relative_score"] <= 1.0
    assert set(sidecar["data_sha256"]) == {"train_bodies.csv", "train_stances.csv", "split.csv"}

    head, info = load_head(cfg_factory(f"stance.path={out}"))
    assert info["kind"] == "StanceHead" and info["path"] == str(out)
    probs = head.predict_proba(np.zeros((2, len(FEATURES))))
    assert probs.shape == (2, 4) and np.allclose(probs.sum(axis=1), 1)


def test_an_existing_head_is_refused_before_training_without_overwrite(cfg_factory, tmp_path, monkeypatch):
    out = tmp_path / "head"
    out.mkdir()
    (out / "head.json").write_text("{}")
    monkeypatch.setattr(fnc, "load_fnc", lambda root: pytest.fail("training started"))
    cfg = cfg_factory(f"train.output_dir={out}", "train.overwrite=false", config_name="train")

    with pytest.raises(PipelineError, match="already exists"):
        train.run(cfg)
    assert (out / "head.json").read_text() == "{}"


def test_without_a_trained_head_the_rule_is_used(cfg_factory, tmp_path):
    head, info = load_head(cfg_factory(f"stance.path={tmp_path / 'none'}"))
    assert info["kind"] == "RuleStance" and info["fallback"] is True


@pytest.mark.parametrize("kind", ["logreg", "gbm"])
def test_stance_head_fit_clone_fit(kind):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, len(FEATURES)))
    y = np.array(STANCE_LABELS)[(X[:, 0] > 0).astype(int) * 2 + (X[:, 1] > 0).astype(int)]
    head = StanceHead(kind=kind, max_iter=30).fit(X, y)
    assert (head.predict(X) == y).mean() > 0.8
    again = clone(head).fit(X, y)
    assert again.get_params() == head.get_params()
    assert list(head.classes_) == list(STANCE_LABELS)


def test_head_selection_picks_the_best_head_by_event_grouped_cv():
    """A toy same-story set whose label is carried by a feature the rule does not read (jaccard): the learned
    head wins the event-grouped CV and is the one returned, refitted."""
    from omegaconf import OmegaConf

    rng = np.random.default_rng(0)
    n = 240
    X = np.zeros((n, len(FEATURES)))
    y = np.array(STANCE_LABELS)[rng.integers(0, 4, size=n)]
    X[:, FEATURES.index("jaccard")] = [STANCE_LABELS.index(label) for label in y]
    X[:, FEATURES.index("similarity")] = rng.uniform(0, 1, size=n)
    groups = np.array([f"e{i % 6}" for i in range(n)])
    cfg = OmegaConf.create({"train": {"same_story": {"folds": 3}, "candidates": {
        "rule": {"_target_": "pipeline.stages.stance.rule.RuleStance"},
        "logreg": {"_target_": "pipeline.stages.stance.rule.StanceHead", "kind": "logreg"}}}})
    best, scores, head = train.select_head(cfg, np.zeros((0, len(FEATURES))), np.array([]), X, y, groups,
                                           np.ones(n, dtype=bool))
    assert best == "logreg" and scores["logreg"]["macro_f1"] > scores["rule"]["macro_f1"] + 0.3
    assert set(scores) == {"rule", "logreg", train.UNTRAINED}
    assert (head.predict(X) == y).mean() > 0.9
    assert scores["logreg"]["win_rate"] >= 0.99  # a 0.3 gain on 240 pairs wins in nearly every resample


def test_head_selection_keeps_the_untrained_rule_unless_a_gain_is_sure(monkeypatch):
    """A fitted head whose CV gain over the untrained rule is not sure under the claim bootstrap
    (`train.same_story.min_win_rate`) does not replace it: `make train` then cannot make `make eval` worse by noise.
    The head's held-out predictions are set here (the rule's, with one cell fixed and one broken: a small gain that
    the resamples do not confirm), so the case does not hang on what a head happens to learn from random rows."""
    from omegaconf import OmegaConf

    from pipeline.stages.stance.rule import RuleStance

    rng = np.random.default_rng(1)
    n = 240
    X = rng.uniform(0, 1, size=(n, 64))[:, :len(FEATURES)]  # a fixed draw, whatever the number of features
    baseline = RuleStance().fit().predict(X)
    y = baseline.copy()
    flip = rng.random(n) < 0.3
    y[flip] = np.array(STANCE_LABELS)[rng.integers(0, 4, size=int(flip.sum()))]
    wrong, right = np.flatnonzero(y != baseline), np.flatnonzero(y == baseline)
    head_pred = baseline.copy()
    head_pred[wrong[:1]] = y[wrong[:1]]  # one cell fixed
    head_pred[right[:1]] = [next(lab for lab in STANCE_LABELS if lab != y[i]) for i in right[:1]]  # one broken
    monkeypatch.setattr(train, "grouped_predictions", lambda *args, **kwargs: head_pred.copy())
    groups = np.array([f"e{i % 6}" for i in range(n)])
    claims = np.array([f"c{i // 3}" for i in range(n)])
    cfg = OmegaConf.create({"seed": 13, "train": {"same_story": {"folds": 3, "min_win_rate": 0.9}, "candidates": {
        "logreg": {"_target_": "pipeline.stages.stance.rule.StanceHead", "kind": "logreg"}}}})
    best, scores, head = train.select_head(cfg, np.zeros((0, len(FEATURES))), np.array([]), X, y, groups,
                                           np.ones(n, dtype=bool), claims)
    assert scores["logreg"]["macro_f1"] > scores[train.UNTRAINED]["macro_f1"]  # a gain ...
    assert scores["logreg"]["win_rate"] < 0.9  # ... that is not sure
    assert best == train.UNTRAINED and isinstance(head, RuleStance)
    # the same gain passes a bar that asks for less
    cfg.train.same_story.min_win_rate = min(0.5, scores["logreg"]["win_rate"])
    assert train.select_head(cfg, np.zeros((0, len(FEATURES))), np.array([]), X, y, groups,
                             np.ones(n, dtype=bool), claims)[0] == "logreg"
    # an impossible bar keeps the rule even against a head that is right everywhere
    cfg.train.same_story.min_win_rate = 1.01
    monkeypatch.setattr(train, "grouped_predictions", lambda *args, **kwargs: y.copy())
    assert train.select_head(cfg, np.zeros((0, len(FEATURES))), np.array([]), X, y, groups,
                             np.ones(n, dtype=bool), claims)[0] == train.UNTRAINED


def test_head_selection_fits_on_the_fit_sets_rows_but_scores_only_the_selection_set():
    """`fit_rows` (e.g. basil-train) are on the training side of every fold and of the final fit, never scored.
    Toy: the selection set's labels are noise with respect to the feature, the fit rows carry a clean
    feature-label link. Only with the fit rows does the head learn that link; the scores count the selection
    set's rows only."""
    from omegaconf import OmegaConf

    rng = np.random.default_rng(1)
    n, m = 120, 480
    col = FEATURES.index("jaccard")
    truth = rng.integers(0, 4, size=n)
    X = np.zeros((n, len(FEATURES)))
    X[:, col] = truth
    y_noise = np.array(STANCE_LABELS)[rng.integers(0, 4, size=n)]
    groups = np.array([f"e{i % 4}" for i in range(n)])
    fit_X = np.zeros((m, len(FEATURES)))
    fit_X[:, col] = rng.integers(0, 4, size=m)
    fit_y = np.array(STANCE_LABELS)[fit_X[:, col].astype(int)]
    cfg = OmegaConf.create({"train": {"same_story": {"folds": 4}, "candidates": {
        "gbm": {"_target_": "pipeline.stages.stance.rule.StanceHead", "kind": "gbm", "max_iter": 30}}}})
    none = np.zeros((0, len(FEATURES))), np.array([])
    everything = np.ones(n, dtype=bool)
    _, alone, head_alone = train.select_head(cfg, *none, X, y_noise, groups, everything)
    _, with_fit, head_fit = train.select_head(cfg, *none, X, y_noise, groups, everything, fit_rows=(fit_X, fit_y))
    for scores in (alone, with_fit):  # only the selection set's rows are scored
        assert sum(c["support"] for c in scores["gbm"]["per_class"].values()) == n
    linked = np.array(STANCE_LABELS)[truth]
    assert (head_alone.predict(X) == linked).mean() < 0.5
    assert (head_fit.predict(X) == linked).mean() > 0.75


def test_make_train_selects_on_same_story_data_and_saves_the_winner(cfg_factory, tmp_path, tiny_nli_model):
    """The default `make train`: FNC-1 sample + basil-dev (with hard negatives), heads compared by event-grouped CV
    on basil-dev, the best saved with the comparison in its sidecar; basil-test is refused as training data."""
    write_fnc(tmp_path / "datasets")
    out = tmp_path / "head"
    base = [f"paths.datasets={tmp_path / 'datasets'}", f"train.split_file={tmp_path / 'split.csv'}",
            f"train.output_dir={out}", f"model.name={tiny_nli_model}", "train.same_story.fnc_pairs=32",
            "train.candidates.gbm.max_iter=10"]
    result = train.run(cfg_factory(*base, config_name="train"))
    sidecar = json.loads((out / "head.json").read_text())
    names = {"rule", "logreg", "gbm", "logreg+fnc", "gbm+fnc", train.UNTRAINED}
    assert set(sidecar["selection"]) == names and sidecar["selected"] in names
    assert result["selected"] == sidecar["selected"]
    best = sidecar["selection"][sidecar["selected"]]["macro_f1"]
    assert best == max(m["macro_f1"] for m in sidecar["selection"].values())
    assert sidecar["counts"]["same_story_pairs"] == 288 and sidecar["counts"]["hard_negatives"] == 96
    assert sidecar["counts"]["events"] == 8 and sidecar["counts"]["fnc_train_pairs"] == 32
    assert sidecar["counts"]["basil-train_events"] == 80 and sidecar["counts"]["basil-train_pairs"] >= 2880
    head, info = load_head(cfg_factory(f"stance.path={out}"))
    assert info["path"] == str(out)
    with pytest.raises(PipelineError, match="reporting only"):
        train.run(cfg_factory(*base, "train.same_story.set=basil-test", "train.overwrite=true", config_name="train"))
    with pytest.raises(PipelineError, match="reporting only"):
        train.run(cfg_factory(*base, "train.same_story.fit_sets=[basil-test]", "train.overwrite=true",
                              config_name="train"))


def test_untrained_baseline_is_the_configured_rule_candidate():
    """The untrained rule that a fitted head must beat is `train.candidates.rule` as configured (an override of its
    thresholds moves the baseline too), not the class defaults."""
    from omegaconf import OmegaConf

    rng = np.random.default_rng(1)
    n = 120
    X = np.zeros((n, len(FEATURES)))
    X[:, FEATURES.index("similarity")] = 0.9
    X[:, FEATURES.index("max_entailment")] = rng.uniform(0.4, 0.9, size=n)
    X[:, FEATURES.index("entailment_of_best")] = X[:, FEATURES.index("max_entailment")]
    X[:, FEATURES.index("name_coverage")] = 1.0
    y = np.where(X[:, FEATURES.index("max_entailment")] >= 0.75, "agree", "discuss")
    groups = np.array([f"e{i % 4}" for i in range(n)])
    rule = {"_target_": "pipeline.stages.stance.rule.RuleStance", "agree_threshold": 0.75}
    cfg = OmegaConf.create({"train": {"same_story": {"folds": 2}, "candidates": {"rule": rule}}})
    _, scores, head = train.select_head(cfg, np.zeros((0, len(FEATURES))), np.array([]), X, y, groups,
                                        np.ones(n, dtype=bool))
    expected = RuleStance(agree_threshold=0.75).fit()
    assert head.agree_threshold == 0.75
    assert list(head.predict(X)) == list(expected.predict(X))
    assert scores[train.UNTRAINED]["macro_f1"] == pytest.approx(
        train.stance_metrics(list(y), list(expected.predict(X)))["macro_f1"])
    assert scores[train.UNTRAINED]["macro_f1"] != pytest.approx(
        train.stance_metrics(list(y), list(RuleStance().fit().predict(X)))["macro_f1"])
