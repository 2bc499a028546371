"""The committed NLI model (models/nli-mpnet-lora, v8): a small delta over the assembled MPNet base,
loaded as base + adapters, and a handful of news pairs it gets right (pinned when the v2/v4 soup was committed, and
still right with the v2/v6 and v2/v7 soups and v8; a regression guard, not an evaluation: that is news_test in its
eval.json). Runs the real model, so it also exercises peft loading in CI."""

from __future__ import annotations

import json

import pytest

from pipeline.core.records import NLI_LABELS
from pipeline.stages.nli.scorer import NliScorer
from tests.conftest import ROOT

MPNET = ROOT / "models" / "nli-mpnet-lora"

# (premise: an article sentence, hypothesis: a claim in other words, the label it gave when committed). The
# MiniLM model gets the first four wrong (contradiction, contradiction, neutral, and entailment 0.58 at best).
PINNED = [
    ("The president himself responded on Twitter late Friday, calling the special counsel's statement 'a very sad "
     "day for journalism, but a great day for our Country!'", "Mueller's office confirmed the BuzzFeed report.",
     "neutral"),
    ("But he said he might be willing to have a face-to-face meeting with the North Korean leader",
     "Trump said he would be willing to sit down with Kim Jong Un", "entailment"),
    ("'I'm not sure that talks will lead to anything meaningful,' Trump said.",
     "Trump said he is not sure that talks with North Korea will lead to anything meaningful.", "entailment"),
    ("Kim Jong-un refused to meet with the Chinese envoy.", "Kim Jong Un met the Chinese envoy.", "contradiction"),
    ("Trump declined to say whether he had communicated with Kim.",
     "Trump confirmed that he had communicated with Kim Jong Un.", "contradiction"),
    ("Russia is not helping us at all with North Korea, Trump told Reuters.",
     "Trump said Russia is not helping the United States at all with North Korea.", "entailment"),
]


@pytest.fixture(scope="module")
def mpnet():
    if not (MPNET / "adapter_model.safetensors").is_file():
        pytest.fail(f"committed NLI delta missing at {MPNET}")
    return NliScorer(str(MPNET), device="cpu")


def test_the_committed_delta_is_small_and_names_its_base():
    names = {p.name for p in MPNET.iterdir()}
    assert "model.safetensors" not in names and "adapter_model.safetensors" in names
    assert (MPNET / "adapter_model.safetensors").stat().st_size < 20e6  # the soup: rank 32 in fp16, 11.8 MB
    assert json.loads((MPNET / "adapter_config.json").read_text())["base_model_name_or_path"] == "mpnet"
    evaluation = json.loads((MPNET / "eval.json").read_text())
    assert {"mnli_dev_matched", "news_dev", "news_test"} <= set(evaluation)


def test_it_loads_as_base_plus_delta_with_both_checksums(mpnet):
    from pipeline.core.basemodels import MPNET_ZIP_SHA256

    assert mpnet.identity["base_sha256"] == MPNET_ZIP_SHA256 and len(mpnet.identity["weights_sha256"]) == 64
    assert mpnet.model.config.label2id == {"entailment": 0, "neutral": 1, "contradiction": 2}


def test_pinned_news_pairs(mpnet):
    probs = mpnet.score([(p, h) for p, h, _ in PINNED])
    got = [NLI_LABELS[i] for i in probs.argmax(axis=1)]
    assert got == [label for _, _, label in PINNED]
