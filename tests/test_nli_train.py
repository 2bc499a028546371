"""`make nli-model` plumbing: a tiny training run (a few steps, a few pairs) end to end, deduplication, mixing."""

from __future__ import annotations

import json
import random

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
