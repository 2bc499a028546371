"""`make nli-model` plumbing: a tiny training run (a few steps, a few pairs) end to end, deduplication, mixing."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from pipeline import nli_train
from pipeline.learn import nli_data
from pipeline.learn.nli_data import NliPair
from pipeline.stages.nli.scorer import NliScorer

TRAIN = [("A man plays a guitar .", "A man plays music .", "entailment"),
         ("A dog runs in the snow .", "A cat sleeps .", "contradiction"),
         ("Two kids eat lunch .", "The kids are at school .", "neutral"),
         ("A woman is n't smiling .", "A woman frowns .", "entailment"),
         ("People walk on a beach .", "Nobody is outside .", "contradiction"),
         ("A chef cooks pasta .", "A meal is being made .", "entailment")]
HELD_OUT = ("A dog runs in the snow.", "A cat sleeps.")  # the same pair as TRAIN[1], detokenized


def write_datasets(root):
    (root / "snli_esnli").mkdir(parents=True)
    (root / "snli_esnli" / "snli_dev.tsv").write_text(
        "premise\thypothesis\tlabel\n" + "".join(f"{p}\t{h}\t{lab}\n" for p, h, lab in TRAIN))
    (root / "ppft_glue_pretrain" / "MNLI").mkdir(parents=True)
    dev_pairs = [("A girl rides a bike.", "A child is cycling.", "entailment"),
                 ("The room is empty.", "Ten people sit in the room.", "contradiction"),
                 ("A man reads.", "A man reads a novel.", "neutral")]
    dev = {str(i): {"text_a": p, "text_b": h, "label": lab} for i, (p, h, lab) in enumerate(dev_pairs)}
    (root / "ppft_glue_pretrain" / "MNLI" / "dev.json").write_text(json.dumps(dev))
    (root / "sick").mkdir()
    header = ("pair_ID\tsentence_A\tsentence_B\tentailment_label\trelatedness_score\tentailment_AB\tentailment_BA\t"
              "sentence_A_original\tsentence_B_original\tsentence_A_dataset\tsentence_B_dataset\tSemEval_set\n")
    rows = [f"{i}\t{p}\t{h}\t{lab.upper()}\t3\tx\tx\tx\tx\tx\tx\tTEST\n"
            for i, (p, h, lab) in enumerate([(*HELD_OUT, "contradiction"), ("A bird sings .", "A bird is quiet .",
                                                                              "contradiction")])]
    (root / "sick" / "SICK.txt").write_text(header + "".join(rows))


def test_detokenize_and_pair_key():
    assert nli_data.detokenize("A woman is n't smiling , she 's sad .") == "A woman isn't smiling, she's sad."
    assert nli_data.pair_key("A dog runs .", "A cat sleeps .") == nli_data.pair_key("a dog runs.", "A cat  sleeps")


def test_dedupe_drops_held_out_overlaps_and_repeats():
    train = [NliPair("s", str(i), p, h, lab) for i, (p, h, lab) in enumerate(TRAIN + TRAIN[:1])]
    kept, stats = nli_data.dedupe(train, [NliPair("t", "0", *HELD_OUT, "contradiction")])
    assert len(kept) == len(TRAIN) - 1
    assert stats["held_out_overlap"] == 1 and stats["duplicates"] == 1


def test_sample_mix_repeats_and_subsamples():
    pools = {"a": [NliPair("a", str(i), "p", "h", "neutral") for i in range(10)],
             "b": [NliPair("b", str(i), "p", "h", "neutral") for i in range(10)]}
    epoch = nli_train.sample_mix(pools, {"a": 2.0, "b": 0.3}, random.Random(0))
    assert sum(p.source == "a" for p in epoch) == 20 and sum(p.source == "b" for p in epoch) == 3


def test_length_grouped_batches_cover_everything_once():
    lengths = [random.Random(i).randint(5, 60) for i in range(103)]
    batches = nli_train.length_grouped_batches(lengths, 8, random.Random(0), group=4)
    flat = sorted(i for b in batches for i in b)
    assert flat == list(range(103)) and max(len(b) for b in batches) == 8


def test_tiny_training_run_end_to_end(cfg_factory, tmp_path, tiny_nli_model):
    write_datasets(tmp_path / "datasets")
    out = tmp_path / "model"
    cfg = cfg_factory(f"paths.datasets={tmp_path / 'datasets'}", f"nli_train.base_model={tiny_nli_model}",
                      f"nli_train.output_dir={out}", f"nli_train.dev_split_file={tmp_path / 'dev_split.tsv'}",
                      "~nli_train.mix", "+nli_train.mix={snli_dev: 2.0}", "nli_train.dev_sets=[mnli_ppft_dev]",
                      "nli_train.test_sets=[sick_test]", "nli_train.max_steps=3", "nli_train.batch_size=4",
                      "nli_train.epochs=2", config_name="nli_model")
    result = nli_train.run(cfg)
    assert {p.name for p in out.iterdir()} >= {"config.json", "model.safetensors", "tokenizer.json", "eval.json",
                                               "training.json", "README.md"}
    training = json.loads((out / "training.json").read_text())
    assert training["steps"] == 3 and training["pairs_seen"] == 10  # 5 pairs x 2 copies -> batches of 4, 4, 2
    assert training["dedup"]["held_out_overlap"] == 1          # TRAIN[1] is a SICK test pair
    assert training["pairs_per_source"] == {"snli_dev": len(TRAIN) - 1}
    evaluation = json.loads((out / "eval.json").read_text())
    assert evaluation["sick_test"]["n"] == 2 and 0 <= result["accuracy"]["sick_test"] <= 1
    scorer = NliScorer(str(out), device="cpu")                 # loads as a user would, label order from config
    assert scorer.model.config.label2id == {"entailment": 0, "neutral": 1, "contradiction": 2}
    assert scorer.score([("A man plays a guitar.", "A man plays music.")]).shape == (1, 3)
    assert (tmp_path / "dev_split.tsv").read_text().count("\n") == 1 + 3
    assert "sick_test" in (out / "README.md").read_text()


def test_taxinli_is_refused_for_training(cfg_factory):
    from pipeline.core.records import PipelineError

    cfg = cfg_factory("+nli_train.mix.taxinli=1.0", config_name="nli_model")
    with pytest.raises(PipelineError, match="taxinli may not be trained on"):
        nli_train.run(cfg)


def test_tiny_lora_run_ships_only_the_delta_and_reloads_to_the_same_outputs(cfg_factory, tmp_path, tiny_nli_model,
                                                                            monkeypatch):
    import torch

    write_datasets(tmp_path / "datasets")
    out = tmp_path / "lora"
    trained = {}
    real_save = nli_train.save_model

    def keep(model, tokenizer, folder, save_dtype):  # the in-memory model as training left it
        import copy

        trained["model"] = copy.deepcopy(model).float().eval()
        return real_save(model, tokenizer, folder, save_dtype)

    monkeypatch.setattr(nli_train, "save_model", keep)
    train_lora(cfg_factory, tmp_path, tiny_nli_model, out, "nli_train.learning_rate=0.01")
    names = {p.name for p in out.iterdir()}
    assert {"adapter_config.json", "adapter_model.safetensors", "config.json", "tokenizer.json"} <= names
    assert "model.safetensors" not in names  # the base is not shipped
    assert json.loads((out / "adapter_config.json").read_text())["base_model_name_or_path"] == str(tiny_nli_model)
    training = json.loads((out / "training.json").read_text())
    assert 0 < training["trainable_parameters"] < sum(p.numel() for p in trained["model"].parameters())
    scorer = NliScorer(str(out), device="cpu", autocast=False)
    assert scorer.identity["weights_sha256"] and scorer.identity["base"] == str(tiny_nli_model)
    pairs = [("A man plays a guitar.", "A man plays music."), ("The room is empty.", "Ten people sit there.")]
    enc = scorer.tokenizer([p for p, _ in pairs], [h for _, h in pairs], padding=True, return_tensors="pt")
    with torch.inference_mode():
        expected = torch.softmax(trained["model"](**enc).logits, -1).numpy()
    got = scorer.score(pairs)  # columns in entailment, neutral, contradiction order; the tiny model's are c, e, n
    order = [trained["model"].config.label2id[k] for k in ("entailment", "neutral", "contradiction")]
    assert np.allclose(got, expected[:, order], atol=2e-3)  # fp16 delta merged into the base


def lora_args(tmp_path, tiny_nli_model, out, *extra):
    return (f"paths.datasets={tmp_path / 'datasets'}", f"nli_train.base_model={tiny_nli_model}",
            f"nli_train.output_dir={out}", f"nli_train.dev_split_file={tmp_path / 'dev_split.tsv'}",
            "~nli_train.mix", "+nli_train.mix={snli_dev: 2.0}", "nli_train.dev_sets=[mnli_ppft_dev]",
            "nli_train.test_sets=[sick_test]", "nli_train.max_steps=3", "nli_train.batch_size=4",
            "nli_train.lora.enabled=true", "nli_train.lora.target_modules=[query,value]",
            "nli_train.checkpoint_every=0", f"nli_train.checkpoint_dir={tmp_path / 'ckpt' / out.name}", *extra)


def train_lora(cfg_factory, tmp_path, tiny_nli_model, out, *extra, soup=None):
    """`make nli-model` with the tiny LoRA recipe (`lora_args`) into `out`; `soup` = "{models: [..], weights: [..]}"."""
    soup_arg = (f"nli_train.soup={soup}",) if soup else ()
    return nli_train.run(cfg_factory(*lora_args(tmp_path, tiny_nli_model, out, *extra), *soup_arg,
                                     config_name="nli_model"))


def test_init_from_continues_a_delta_instead_of_a_fresh_head(cfg_factory, tmp_path, tiny_nli_model):
    from pipeline.core.records import PipelineError

    write_datasets(tmp_path / "datasets")
    first, same, fresh = tmp_path / "first", tmp_path / "same", tmp_path / "fresh"
    train_lora(cfg_factory, tmp_path, tiny_nli_model, first, "nli_train.learning_rate=0.05")
    # learning rate 0: a continued run must ship exactly the delta it started from (adapters and head)
    train_lora(cfg_factory, tmp_path, tiny_nli_model, same, "nli_train.learning_rate=0", f"nli_train.init_from={first}")
    train_lora(cfg_factory, tmp_path, tiny_nli_model, fresh, "nli_train.learning_rate=0")
    pairs = [("A man plays a guitar.", "A man plays music."), ("The room is empty.", "Ten people sit there.")]
    score = {p: NliScorer(str(p), device="cpu", autocast=False).score(pairs) for p in (first, same, fresh)}
    assert np.allclose(score[same], score[first], atol=1e-3)
    assert not np.allclose(score[fresh], score[first], atol=1e-3)  # a fresh head: what init_from avoids
    training = json.loads((same / "training.json").read_text())
    assert training["init_from"]["path"] == str(first) and len(training["init_from"]["weights_sha256"]) == 64
    assert f"Continued from the delta at `{first}`" in (same / "README.md").read_text()
    with pytest.raises(PipelineError, match="lora.enabled is false"):
        train_lora(cfg_factory, tmp_path, tiny_nli_model, tmp_path / "full", f"nli_train.init_from={first}",
                   "nli_train.lora.enabled=false")


def test_resume_gives_the_same_weights_as_an_uninterrupted_run(tiny_nli_model, tmp_path, monkeypatch):
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from pipeline.learn import finetune

    tok = AutoTokenizer.from_pretrained(tiny_nli_model)
    encoded = finetune.encode_pairs(tok, [p for p, _, _ in TRAIN], [h for _, h, _ in TRAIN], 64)
    labels = torch.tensor([nli_train.LABEL2ID[lab] for _, _, lab in TRAIN])
    plans = [[[0, 1], [2, 3], [4, 5]], [[5, 4], [3, 2], [1, 0]]]
    kwargs = dict(learning_rate=1e-3, weight_decay=0.01, warmup_ratio=0.1, pad_id=tok.pad_token_id,
                  device=torch.device("cpu"), autocast=False, checkpoint_every=2)

    def fresh():
        torch.manual_seed(0)
        return AutoModelForSequenceClassification.from_pretrained(tiny_nli_model)

    whole = fresh()
    finetune.train_loop(whole, encoded, labels, plans, checkpoint_dir=tmp_path / "a", **kwargs)

    broken = fresh()
    calls = {"n": 0}
    real_step = torch.optim.AdamW.step

    def step_then_die(self, *a, **k):
        calls["n"] += 1
        if calls["n"] == 5:  # after the checkpoint at step 4, in the second epoch
            raise KeyboardInterrupt
        return real_step(self, *a, **k)

    monkeypatch.setattr(torch.optim.AdamW, "step", step_then_die)
    with pytest.raises(KeyboardInterrupt):
        finetune.train_loop(broken, encoded, labels, plans, checkpoint_dir=tmp_path / "b", **kwargs)
    monkeypatch.setattr(torch.optim.AdamW, "step", real_step)
    resumed = fresh()
    log = finetune.train_loop(resumed, encoded, labels, plans, checkpoint_dir=tmp_path / "b", resume=True, **kwargs)
    assert log["steps"] == 6
    for (name, a), (_, b) in zip(whole.state_dict().items(), resumed.state_dict().items()):
        assert torch.equal(a, b), name
    other = [[[0, 1]], [[2, 3]]]
    with pytest.raises(ValueError, match="another training plan"):
        finetune.train_loop(fresh(), encoded, labels, other, checkpoint_dir=tmp_path / "b", resume=True, **kwargs)


def test_soup_is_the_weighted_average_of_the_deltas_and_refuses_unlike_ones(cfg_factory, tmp_path, tiny_nli_model):
    from pipeline.core.records import PipelineError

    write_datasets(tmp_path / "datasets")
    first, second, odd = tmp_path / "first", tmp_path / "second", tmp_path / "odd"
    train_lora(cfg_factory, tmp_path, tiny_nli_model, first, "nli_train.learning_rate=0.05")
    train_lora(cfg_factory, tmp_path, tiny_nli_model, second, "nli_train.learning_rate=0.05",
               f"nli_train.init_from={first}")

    def souped(out, weights):
        train_lora(cfg_factory, tmp_path, tiny_nli_model, out,
                   soup=f"{{models: [{first}, {second}], weights: {weights}}}")
        return NliScorer(str(out), device="cpu", autocast=False)

    def merged(folder):
        model = NliScorer(str(folder), device="cpu", autocast=False).model
        return {k: v.float() for k, v in model.state_dict().items()}

    ends, mid = merged(first), merged(second)
    half = souped(tmp_path / "half", [0.3, 0.7])
    got = {k: v.float() for k, v in half.model.state_dict().items()}
    # merged weights are linear in the delta, so the soup's merged model is the same average of the merged models
    assert set(got) == set(ends)
    assert all(np.allclose(got[k], 0.3 * ends[k] + 0.7 * mid[k], atol=2e-3) for k in got)
    assert any(not np.allclose(ends[k], mid[k], atol=1e-2) for k in got)  # the two deltas do differ
    pairs = [("A man plays a guitar.", "A man plays music."), ("The room is empty.", "Ten people sit there.")]
    only_first = souped(tmp_path / "ends", [1.0, 0.0])
    assert np.allclose(only_first.score(pairs), NliScorer(str(first), device="cpu", autocast=False).score(pairs),
                       atol=1e-3)
    training = json.loads((tmp_path / "half" / "training.json").read_text())
    assert [m["weight"] for m in training["soup"]["models"]] == [0.3, 0.7] and training["soup"]["rank"] == 2 * 16
    assert "weight-space average" in (tmp_path / "half" / "README.md").read_text()
    assert {"sick_test", "dev (selection)"} <= set(json.loads((tmp_path / "half" / "eval.json").read_text()))
    with pytest.raises(PipelineError, match="sum to 1"):
        souped(tmp_path / "bad", [0.5, 0.6])
    train_lora(cfg_factory, tmp_path, tiny_nli_model, odd, "nli_train.lora.alpha=4")
    with pytest.raises(PipelineError, match="LoRA scaling differs"):
        train_lora(cfg_factory, tmp_path, tiny_nli_model, tmp_path / "mixed",
                   soup=f"{{models: [{first}, {odd}], weights: [0.5, 0.5]}}")
    assert not (tmp_path / "bad").exists() and not (tmp_path / "mixed").exists()
