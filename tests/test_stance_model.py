"""stages/stance/finetuned.py and `make train ARGS="stance=finetuned"`: the fine-tuned cross-encoder stance head."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from pipeline import train
from pipeline.core.records import STANCE_LABELS, Article, CanonicalClaim, Evidence, PipelineError, StancePair
from pipeline.predict import predict
from pipeline.stages.nli.scorer import NliScorer
from pipeline.stages.stance.finetuned import FinetunedStance, stance_inputs, stance_model_from_nli
from pipeline.stages.stance.heads import load_head, stance_proba
from tests.test_train import write_fnc


def pair(claim: str, *sentences: str) -> StancePair:
    return StancePair("c1", claim, "a1", "Outlet", 0.5, tuple(Evidence(s, i, 0.5) for i, s in enumerate(sentences)))


def test_inputs_join_the_top_evidence_most_similar_first():
    p = pair("The bridge opened.", "It opened on Monday.", "Crowds came.", "It rained.")
    assert stance_inputs([p], 2) == [("It opened on Monday. Crowds came.", "The bridge opened.")]


def test_stance_layer_starts_from_the_nli_rows(tiny_nli_model):
    """agree starts as entailment, disagree as contradiction, discuss and unrelated as neutral, whatever the NLI
    model's own column order (the tiny model's is contradiction, entailment, neutral)."""
    nli = NliScorer(str(tiny_nli_model), device="cpu", autocast=False)
    model, tokenizer = stance_model_from_nli(str(tiny_nli_model), torch.device("cpu"))
    assert model.config.id2label == dict(enumerate(STANCE_LABELS))
    batch = tokenizer(["The sky is blue."], ["It is blue."], return_tensors="pt")
    with torch.inference_mode():
        stance_logits = model(**batch).logits[0]
        nli_logits = nli.model(**batch).logits[0]
    ent, neu, con = (nli_logits[i] for i in nli.columns)
    assert torch.allclose(stance_logits, torch.stack([ent, con, neu, neu]), atol=1e-5)


def test_a_model_without_nli_labels_is_refused(tmp_path, tiny_nli_model):
    config = json.loads((tiny_nli_model / "config.json").read_text())
    broken = tmp_path / "m"
    broken.mkdir()
    for f in tiny_nli_model.iterdir():
        (broken / f.name).write_bytes(f.read_bytes())
    config["id2label"] = {"0": "A", "1": "B", "2": "C"}
    config["label2id"] = {"A": 0, "B": 1, "C": 2}
    (broken / "config.json").write_text(json.dumps(config))
    with pytest.raises(PipelineError, match="not an NLI classifier"):
        stance_model_from_nli(str(broken), torch.device("cpu"))


def test_fit_learns_from_the_labels_and_pairs_without_evidence_are_unrelated(tiny_nli_model):
    words = {"agree": "confirmed", "disagree": "denied", "discuss": "alleged", "unrelated": "weather"}
    pairs, y = [], []
    for i in range(48):
        label = STANCE_LABELS[i % 4]
        pairs.append(pair(f"Claim number {i}.", " ".join([words[label]] * 4)))
        y.append(label)
    gold = [STANCE_LABELS.index(label) for label in y]

    def gold_log_prob(head) -> float:
        return float(np.mean(np.log(head.predict_pairs(pairs)[np.arange(len(y)), gold])))

    params = dict(base_model=str(tiny_nli_model), learning_rate=5e-3, batch_size=8, warmup_ratio=0.0,
                  class_weight=None, unrelated_fraction=1.0, device="cpu", autocast=False, random_state=0)
    untrained = FinetunedStance(**params, max_steps=1, epochs=1).fit_pairs(pairs, y)
    head = FinetunedStance(**params, epochs=40).fit_pairs(pairs, y)
    probs = head.predict_pairs(pairs)
    assert probs.shape == (48, 4) and np.allclose(probs.sum(axis=1), 1)
    # the 32-wide random toy encoder reliably separates at least two groups of words: a fit that ignored the
    # labels would stay near log(1/4)
    assert gold_log_prob(head) > gold_log_prob(untrained) + 0.5
    assert (probs.argmax(1) == np.array(gold)).mean() >= 0.5
    assert head.training_log_["examples_per_epoch"] == [48] * 40
    empty = head.predict_pairs([pair("No evidence at all.")])
    assert empty.tolist() == [[0.0, 0.0, 0.0, 1.0]]


def test_unrelated_pairs_are_sampled_per_epoch():
    head = FinetunedStance(unrelated_fraction=0.25, epochs=3)
    y = ["agree"] * 5 + ["unrelated"] * 40
    import random

    rng = random.Random(0)
    epochs = [head._epoch_examples(y, rng) for _ in range(3)]
    assert all(len(ep) == 15 and set(range(5)) <= set(ep) for ep in epochs)
    assert len({tuple(sorted(ep)) for ep in epochs}) > 1  # a fresh sample each epoch


def test_train_finetuned_saves_a_model_that_eval_and_infer_load(cfg_factory, tmp_path, tiny_nli_model):
    write_fnc(tmp_path / "datasets")
    out = tmp_path / "head"
    overrides = [f"paths.datasets={tmp_path / 'datasets'}", f"train.split_file={tmp_path / 'split.csv'}",
                 f"train.output_dir={out}", f"model.name={tiny_nli_model}", "stance=finetuned", "stance.max_steps=3",
                 "stance.batch_size=8", "train.select=false"]
    result = train.run(cfg_factory(*overrides, config_name="train"))
    sidecar = json.loads((out / "head.json").read_text())
    assert sidecar["head"]["kind"] == "FinetunedStance" and sidecar["head"]["training"]["steps"] == 3
    assert sidecar["input"] == "top 3 evidence sentences + claim" and "features" not in sidecar
    assert (out / "model" / "model.safetensors").is_file() and not (out / "head.joblib").exists()
    assert "dev_metrics_rule" not in sidecar and 0.0 <= result["dev_metrics"]["macro_f1"] <= 1.0

    cfg = cfg_factory(f"stance.path={out}", f"model.name={tiny_nli_model}")
    head, info = load_head(cfg)
    assert info["kind"] == "FinetunedStance" and info["trained"]["nli_model"]["name"] == str(tiny_nli_model)
    articles = [Article("a1", "Outlet", "The mayor opened the bridge on Monday. Crowds cheered.")]
    claims = [CanonicalClaim("c1", "The mayor opened the bridge.")]
    run = predict(articles, cfg, NliScorer(str(tiny_nli_model), device="cpu"), head, claims=claims, progress=False)
    assert len(run.predictions) == 1 and set(run.predictions[0].scores) == set(STANCE_LABELS)
    direct = stance_proba(head, run.pairs, {"a1": articles[0].text})
    assert np.allclose([run.predictions[0].scores[k] for k in STANCE_LABELS], direct[0], atol=1e-4)


def test_a_saved_finetuned_head_without_its_model_is_an_error(cfg_factory, tmp_path):
    out = tmp_path / "head"
    out.mkdir()
    (out / "head.json").write_text(json.dumps({"head": {"kind": "FinetunedStance", "params": {}}}))
    with pytest.raises(PipelineError, match="fine-tuned stance model is missing"):
        load_head(cfg_factory(f"stance.path={out}"))


class _NoTokenTypes:
    """A tokenizer like RoBERTa's or BART's: no token_type_ids in its output."""

    def __call__(self, premises, hypotheses, truncation, max_length):
        ids = [[0] + [5] * (len(p.split()) + len(h.split())) + [2] for p, h in zip(premises, hypotheses)]
        return {"input_ids": ids, "attention_mask": [[1] * len(x) for x in ids]}


def test_models_without_token_types_get_none():
    """BART's forward() rejects token_type_ids, so fine-tuning must not pass any to such a model."""
    from pipeline.learn.finetune import collate, encode_pairs

    encoded = encode_pairs(_NoTokenTypes(), ["a b c", "d"], ["e", "f g"], max_length=16)
    batch = collate([ids for ids, _ in encoded], [types for _, types in encoded], pad_id=1)

    assert [types for _, types in encoded] == [None, None]
    assert set(batch) == {"input_ids", "attention_mask"}
    assert batch["input_ids"].tolist() == [[0, 5, 5, 5, 5, 2], [0, 5, 5, 5, 2, 1]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 0]]


def test_bert_tokenizers_keep_their_token_types(tiny_nli_model):
    from transformers import AutoTokenizer

    from pipeline.learn.finetune import collate, encode_pairs

    encoded = encode_pairs(AutoTokenizer.from_pretrained(tiny_nli_model), ["the cat sat"], ["a cat"], max_length=16)
    batch = collate([ids for ids, _ in encoded], [types for _, types in encoded], pad_id=0)

    types = batch["token_type_ids"].tolist()[0]
    assert types[0] == 0 and types[-1] == 1 and sorted(types) == types  # premise segment 0, then hypothesis 1
