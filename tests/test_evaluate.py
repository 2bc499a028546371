"""evaluate.py: stance metrics, the FNC-1 score and segmentation metrics on hand-computed examples."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.core.records import STANCE_LABELS
from pipeline.measure.metrics import calibration_error, fnc_score, segmentation_metrics, stance_metrics

GOLD = ["agree", "agree", "disagree", "discuss", "unrelated", "unrelated"]
PRED = ["agree", "discuss", "disagree", "discuss", "unrelated", "agree"]


def test_stance_metrics_hand_computed():
    m = stance_metrics(GOLD, PRED)

    assert m["n"] == 6
    assert m["accuracy"] == pytest.approx(4 / 6, abs=1e-4)
    # per-class F1: agree 1/2, disagree 1, discuss 2/3 (P 1/2, R 1), unrelated 2/3 (P 1, R 1/2)
    assert m["macro_f1"] == pytest.approx((0.5 + 1 + 2 / 3 + 2 / 3) / 4, abs=1e-4)
    assert m["per_class"]["discuss"] == pytest.approx(
        {"precision": 0.5, "recall": 1.0, "f1": 0.6667, "support": 1}, abs=1e-4
    )
    assert m["per_class"]["unrelated"] == pytest.approx(
        {"precision": 1.0, "recall": 0.5, "f1": 0.6667, "support": 2}, abs=1e-4
    )
    assert m["confusion"]["labels"] == list(STANCE_LABELS)
    # rows gold, columns predicted
    assert m["confusion"]["matrix"] == [[1, 0, 1, 0], [0, 1, 0, 0], [0, 0, 1, 0], [1, 0, 0, 1]]
    # FNC: best = 4 related + 2 * 0.25 = 4.5; earned 1 + 0.25 + 1 + 1 + 0.25 + 0 = 3.5
    assert m["fnc_relative_score"] == pytest.approx(3.5 / 4.5, abs=1e-4)


def test_stance_metrics_absent_class_scores_zero_not_error():
    m = stance_metrics(["agree", "agree"], ["agree", "agree"])
    assert m["accuracy"] == 1.0
    assert m["per_class"]["disagree"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    assert m["macro_f1"] == pytest.approx(0.25)  # sklearn averages over all four labels


@pytest.mark.parametrize(
    ("gold", "pred", "expected"),
    [
        (GOLD, GOLD, 1.0),
        (["unrelated"], ["unrelated"], 0.25 / 0.25),
        (["agree"], ["discuss"], 0.25 / 1.0),
        (["disagree"], ["agree"], 0.25 / 1.0),
        (["agree"], ["unrelated"], 0.0),
        (["unrelated"], ["discuss"], 0.0),
        (["agree", "unrelated"], ["disagree", "unrelated"], (0.25 + 0.25) / 1.25),
        ([], [], 0.0),
    ],
    ids=[
        "all-correct",
        "unrelated-right",
        "wrong-related-label",
        "disagree-as-agree",
        "related-missed",
        "unrelated-as-related",
        "mixed",
        "empty",
    ],
)
def test_fnc_score(gold, pred, expected):
    assert fnc_score(gold, pred) == pytest.approx(expected)


def test_segmentation_metrics_tiny_example():
    extracted = {
        "a1": [
            "The mayor opened the bridge on Monday.",
            "Officials said it cost $4 million!",  # boundary/punctuation differs: lenient match
            "Subscribe to our newsletter for daily news updates today.",
        ]
    }
    gold = {
        "a1": [
            "The mayor opened the bridge on Monday.",
            "Officials said it cost $4 million.",
            "The bridge connects the two halves of the town.",
        ]
    }
    boilerplate = {"a1": ["Subscribe to our newsletter for daily news updates today."]}

    m = segmentation_metrics(extracted, gold, boilerplate)

    assert (m["gold_sentences"], m["extracted_claims"]) == (3, 3)
    assert m["exact_recall"] == pytest.approx(1 / 3, abs=1e-4)
    assert m["recall"] == pytest.approx(2 / 3, abs=1e-4)
    assert m["precision"] == pytest.approx(2 / 3, abs=1e-4)
    assert m["boilerplate_claims"] == 1
    assert m["boilerplate_examples"] == ["Subscribe to our newsletter for daily news updates today."]


def test_segmentation_metrics_normalises_quotes_and_spaces():
    extracted = {"a1": ['"Russia is not helping us," Trump said.']}
    gold = {"a1": ["\u201cRussia is not helping  us,\u201d Trump said."]}
    m = segmentation_metrics(extracted, gold, {})
    assert (m["exact_recall"], m["recall"], m["precision"], m["boilerplate_claims"]) == (1.0, 1.0, 1.0, 0)


def test_segmentation_metrics_jaccard_threshold_and_missing_article():
    extracted = {"a1": ["The mayor opened the new bridge."], "a2": ["Rain is expected this weekend."]}
    gold = {
        "a1": ["The mayor opened the new bridge on Monday."],
        "a3": ["A bakery won an award for its bread."],
    }
    # tokens: 5 shared of 7 -> Jaccard 0.714
    strict = segmentation_metrics(extracted, gold, {}, jaccard=0.8)
    loose = segmentation_metrics(extracted, gold, {}, jaccard=0.7)
    assert (strict["recall"], loose["recall"]) == (0.0, 0.5)
    assert strict["exact_recall"] == 0.0
    # extracted claims of an article without gold count against precision
    assert loose["precision"] == 0.5


def test_the_trained_heads_fnc_dev_numbers_come_from_its_sidecar():
    from pipeline.evaluate import _fnc_dev

    dev = stance_metrics(GOLD, PRED)
    assert _fnc_dev({"stance_head": {"kind": "RuleStance", "fallback": True}}) == {}
    numbers = _fnc_dev({"stance_head": {"kind": "FinetunedStance", "trained": {"dev_metrics": dev}}})
    assert numbers["fnc_score"] == dev["fnc_relative_score"] and numbers["f1_disagree"] == 1.0
    assert set(numbers) == {"fnc_score", "macro_f1", "accuracy", "f1_agree", "f1_disagree", "f1_discuss",
                            "f1_unrelated"}


def test_grouping_metrics_b_cubed_by_hand():
    from pipeline.measure.metrics import grouping_metrics

    gold = [{"article_id": "a", "sentence": "Trump said Russia is not helping.", "group": "g1"},
            {"article_id": "b", "sentence": "Russia is not helping us, Trump said.", "group": "g1"},
            {"article_id": "a", "sentence": "Kim refused to meet the envoy.", "group": "g2"},
            {"article_id": "b", "sentence": "The envoy left Pyongyang on Friday.", "group": "g3"}]
    # one cluster merges g1's two sentences correctly; the other wrongly merges g2 and g3
    clusters = [[("a", "Trump said Russia is not helping."), ("b", "Russia is not helping us, Trump said.")],
                [("a", "Kim refused to meet the envoy."), ("b", "The envoy left Pyongyang on Friday.")]]
    m = grouping_metrics(clusters, gold)
    # precision: g1 items 1, 1; g2/g3 items 1/2, 1/2 -> 0.75; recall: all 1
    assert (m["b3_precision"], m["b3_recall"], m["items"], m["gold_groups"], m["predicted_groups"]) == \
        (0.75, 1.0, 4, 3, 2)
    assert m["b3_f1"] == round(2 * 0.75 / 1.75, 4)
    singletons = grouping_metrics([[x] for c in clusters for x in c], gold)
    assert singletons["b3_precision"] == 1.0 and singletons["b3_recall"] == 0.75
    assert grouping_metrics(clusters, [{"article_id": "a", "sentence": "x"}]) is None  # no gold groups


def test_calibration_error_and_log_loss_by_hand():
    import math

    # columns: agree, disagree, discuss, unrelated
    probs = [[0.9, 0.0, 0.1, 0.0],    # confidence 0.9, right
             [0.85, 0.05, 0.1, 0.0],  # 0.85, wrong (gold discuss)
             [0.1, 0.0, 0.3, 0.6],    # 0.6, right
             [0.0, 0.0, 0.4, 0.6]]    # 0.6, wrong (gold disagree, given probability 0)
    gold = ["agree", "discuss", "unrelated", "disagree"]
    out = calibration_error(gold, probs)
    # bins: (0.5, 0.6] holds the two 0.6s (accuracy 0.5), (0.8, 0.9] the 0.9 and the 0.85 (accuracy 0.5)
    assert out["ece"] == pytest.approx(0.5 * abs(0.6 - 0.5) + 0.5 * abs(0.875 - 0.5))
    assert [row[:2] for row in out["bins"]] == [[0.5, 2], [0.8, 2]]
    eps = float(np.finfo(float).eps)
    expected = -(math.log(0.9) + math.log(0.1) + math.log(0.6) + math.log(eps)) / 4
    assert out["log_loss"] == pytest.approx(expected, rel=1e-3)  # a right label given 0 costs -log(eps), about 36
    assert calibration_error([], []) == {"ece": None, "log_loss": None, "bins": []}
