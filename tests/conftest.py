"""Shared fixtures: tiny in-memory articles, a composed config on tmp_path, a stub NLI scorer and a tiny
randomly initialised NLI model (real transformers plumbing, no training)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hydra import compose, initialize_config_dir

from pipeline.core.records import NLI_LABELS, Article

ROOT = Path(__file__).resolve().parents[1]
CONF = ROOT / "conf"
SEEDS = ROOT / "data" / "raw" / "seeds"
REAL_MODEL = ROOT / "models" / "nli-minilm-l6"
LABELS = ROOT / "data" / "labels"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def make_config(*overrides: str, config_name: str = "config"):
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return compose(config_name=config_name, overrides=list(overrides))


@pytest.fixture
def cfg_factory(tmp_path):
    """compose(overrides) with paths pointing under tmp_path (reports) and the repo (data, models)."""

    def factory(*overrides: str, config_name: str = "config"):
        base = [f"paths.root={ROOT}", f"paths.reports={tmp_path / 'reports'}"]
        if config_name in ("config", "train", "bench", "headroom"):
            base += [f"cache.path={tmp_path / 'cache' / 'nli.sqlite'}",
                     f"cache.embeddings={tmp_path / 'cache' / 'embeddings.sqlite'}"]
        return make_config(*base, *overrides, config_name=config_name)

    return factory


@pytest.fixture
def articles() -> list[Article]:
    return [
        Article("a1", "Daily One", "The mayor opened the new bridge on Monday. Officials said it cost $4 million. "
                "The bridge connects the two halves of the town."),
        Article("a2", "Evening Two", "The mayor did not open the bridge; it remains closed. Critics say the "
                "project ran over budget. Rain is expected this weekend across the region."),
        Article("a3", "Weekly Three", "A local bakery won a national award for its sourdough bread. The owner "
                "thanked her staff at a ceremony in the capital."),
    ]


class StubScorer:
    """Returns fixed NLI probabilities: contradiction when the premise negates ('not', 'never'), entailment when
    the premise shares most of the hypothesis's words, else neutral."""

    name = "stub"
    identity = {"name": "stub"}

    def score(self, pairs, batch_size=None, progress=False):
        out = np.zeros((len(pairs), len(NLI_LABELS)))
        for i, (premise, hypothesis) in enumerate(pairs):
            p, h = set(premise.lower().split()), set(hypothesis.lower().split())
            if {"not", "never"} & p:
                out[i] = (0.05, 0.15, 0.80)
            elif len(p & h) / max(len(h), 1) > 0.6:
                out[i] = (0.85, 0.10, 0.05)
            else:
                out[i] = (0.10, 0.80, 0.10)
        return out


@pytest.fixture
def stub_scorer():
    return StubScorer()


@pytest.fixture(scope="session")
def tiny_nli_model(tmp_path_factory) -> Path:
    """A 2-layer, 32-wide BERT sequence classifier with the MiniLM tokenizer, randomly initialised.

    Label order is deliberately not entailment-first, so code that assumes an order fails.
    """
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    from pipeline.core.encoder import bundled_encoder_path

    path = tmp_path_factory.mktemp("tiny_nli")
    tokenizer = AutoTokenizer.from_pretrained(bundled_encoder_path())
    labels = ["contradiction", "entailment", "neutral"]
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=512, num_labels=3,
                        id2label=dict(enumerate(labels)), label2id={k: i for i, k in enumerate(labels)})
    torch.manual_seed(0)
    BertForSequenceClassification(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def seeds_run(tmp_path_factory) -> Path:
    """`pipeline.infer` on the seed articles with the hand-labelled claims and the real (small) offline NLI model,
    run once per session: the end-to-end contract tests and the browser test of its report share it."""
    if not (REAL_MODEL / "model.safetensors").is_file():
        pytest.fail(f"committed NLI model missing at {REAL_MODEL}")
    tmp = tmp_path_factory.mktemp("e2e")
    out = tmp / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline.infer", f"input={SEEDS}", f"output={out}", f"claims={LABELS / 'claims.jsonl'}",
         f"cache.path={tmp / 'cache.sqlite'}", "tracking.enabled=false", "stance=rule", "model=minilm"],
        cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return out
