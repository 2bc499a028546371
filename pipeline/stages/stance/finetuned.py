"""The fine-tuned stance head (`stance=finetuned`): the NLI cross-encoder, fine-tuned on FNC-1 as a 4-way classifier.

Input per (claim, article): premise = the pair's top `n_evidence` evidence sentences joined, most similar first;
hypothesis = the claim, as for NLI. Only the premise is truncated. The 4-way output layer starts from the NLI
layer (agree <- entailment, disagree <- contradiction, discuss and unrelated <- neutral), so training starts from
what the NLI model already knows.

`fit_pairs(pairs, y)` / `predict_pairs(pairs)` take `StancePair` records, not feature rows: the head reads text.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from sklearn.base import BaseEstimator

from pipeline.core.records import STANCE_LABELS, PipelineError, StancePair
from pipeline.learn.finetune import encode_pairs, length_grouped_batches, train_loop
from pipeline.stages.nli.scorer import NliScorer, label_columns, resolve_device, use_autocast

# NLI class whose output row initialises each stance class's row
_INIT_FROM = {"agree": "entailment", "disagree": "contradiction", "discuss": "neutral", "unrelated": "neutral"}


def stance_inputs(pairs: Sequence[StancePair], n_evidence: int) -> list[tuple[str, str]]:
    """(premise, hypothesis) per pair: its top evidence sentences joined, and the claim."""
    return [(" ".join(e.sentence for e in p.evidence[:n_evidence]), p.claim_text) for p in pairs]


def stance_model_from_nli(name: str, device: torch.device):
    """(model, tokenizer): the NLI classifier at `name` with a 4-way stance output layer initialised from its NLI
    rows. A model whose output layer is not a plain `classifier` Linear gets a fresh 4-way layer."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(name)
        nli = AutoModelForSequenceClassification.from_pretrained(name).float()  # fp16 on disk: train in fp32
    except (OSError, ValueError) as err:
        raise PipelineError(name, f"could not load the NLI model to fine-tune ({str(err).splitlines()[0]})") from None
    columns = dict(zip(("entailment", "neutral", "contradiction"), label_columns(nli.config.label2id, name)))
    stance_config = {"num_labels": len(STANCE_LABELS), "id2label": dict(enumerate(STANCE_LABELS)),
                     "label2id": {label: i for i, label in enumerate(STANCE_LABELS)}}
    head = getattr(nli, "classifier", None)
    if isinstance(head, torch.nn.Linear):
        new = torch.nn.Linear(head.in_features, len(STANCE_LABELS))
        with torch.no_grad():
            rows = [columns[_INIT_FROM[label]] for label in STANCE_LABELS]
            new.weight.copy_(head.weight[rows])
            new.bias.copy_(head.bias[rows])
        nli.classifier = new
        nli.num_labels = len(STANCE_LABELS)
        for key, value in stance_config.items():
            setattr(nli.config, key, value)
        model = nli
    else:
        model = AutoModelForSequenceClassification.from_pretrained(name, ignore_mismatched_sizes=True, **stance_config)
    return model.to(device), tokenizer


class FinetunedStance(BaseEstimator):
    """A cross-encoder stance head with the scikit-learn-style contract over `StancePair`s.

    Args:
        base_model: the NLI model to start from (local path or hub id); `conf/stance/finetuned.yaml` passes the
            configured `model.name`.
        n_evidence: evidence sentences per pair in the input.
        unrelated_fraction: share of `unrelated` training pairs used per epoch (a fresh sample each epoch):
            FNC-1 is 73% unrelated, and those are the easy ones.
        class_weight: "balanced" (inverse class frequency of the sampled data), "sqrt" (its square root) or null.
    """

    def __init__(self, base_model: str = "models/nli-minilm-l6", n_evidence: int = 3, max_length: int = 128,
                 epochs: int = 2, learning_rate: float = 3e-5, batch_size: int = 32, warmup_ratio: float = 0.1,
                 weight_decay: float = 0.01, unrelated_fraction: float = 0.3, class_weight: str | None = "sqrt",
                 eval_batch_size: int = 64, device: str = "auto", autocast: str | bool = "auto",
                 max_steps: int | None = None, random_state: int = 13):
        self.base_model = base_model
        self.n_evidence = n_evidence
        self.max_length = max_length
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.warmup_ratio = warmup_ratio
        self.weight_decay = weight_decay
        self.unrelated_fraction = unrelated_fraction
        self.class_weight = class_weight
        self.eval_batch_size = eval_batch_size
        self.device = device
        self.autocast = autocast
        self.max_steps = max_steps
        self.random_state = random_state

    def _epoch_examples(self, y: Sequence[str], rng: random.Random) -> list[int]:
        keep = [i for i, label in enumerate(y) if label != "unrelated"]
        unrelated = [i for i, label in enumerate(y) if label == "unrelated"]
        return keep + rng.sample(unrelated, round(self.unrelated_fraction * len(unrelated)))

    def _class_weight(self, y: Sequence[str], epochs: Sequence[Sequence[int]]) -> torch.Tensor | None:
        if not self.class_weight:
            return None
        counts = np.bincount([STANCE_LABELS.index(y[i]) for ep in epochs for i in ep], minlength=len(STANCE_LABELS))
        weight = counts.sum() / (len(STANCE_LABELS) * np.maximum(counts, 1))
        if self.class_weight == "sqrt":
            weight = np.sqrt(weight)
        elif self.class_weight != "balanced":
            raise PipelineError(None, f"unknown stance.class_weight {self.class_weight!r}; use balanced, sqrt or null")
        return torch.tensor(weight / weight.mean(), dtype=torch.float32)

    def fit_pairs(self, pairs: Sequence[StancePair], y: Sequence[str]) -> FinetunedStance:
        if len(pairs) != len(y) or not len(y):
            raise ValueError(f"need as many labels as pairs, and at least one ({len(pairs)} pairs, {len(y)} labels)")
        unknown = sorted(set(y) - set(STANCE_LABELS))
        if unknown:
            raise ValueError(f"unknown stance labels {unknown}")
        rng = random.Random(self.random_state)
        torch.manual_seed(self.random_state)
        device = resolve_device(self.device)
        model, tokenizer = stance_model_from_nli(str(self.base_model), device)
        inputs = stance_inputs(pairs, self.n_evidence)
        encoded = encode_pairs(tokenizer, [p for p, _ in inputs], [h for _, h in inputs], self.max_length)
        labels = torch.tensor([STANCE_LABELS.index(label) for label in y])
        epochs = [self._epoch_examples(y, rng) for _ in range(self.epochs)]
        plans = [[[ep[i] for i in batch] for batch in
                  length_grouped_batches([len(encoded[i][0]) for i in ep], self.batch_size, rng)] for ep in epochs]
        self.training_log_ = train_loop(
            model, encoded, labels, plans, learning_rate=self.learning_rate, weight_decay=self.weight_decay,
            warmup_ratio=self.warmup_ratio, pad_id=tokenizer.pad_token_id, device=device,
            autocast=use_autocast(self.autocast, device), max_steps=self.max_steps,
            class_weight=self._class_weight(y, epochs), desc="fine-tune stance")
        self.training_log_["examples_per_epoch"] = [len(ep) for ep in epochs]
        self._use("<stance head>", model=model, tokenizer=tokenizer)
        return self

    def _use(self, name: str, **loaded) -> None:
        """Score with the model at `name` (or the given in-memory `model`/`tokenizer`)."""
        self.scorer_ = NliScorer(name, max_length=self.max_length, batch_size=self.eval_batch_size,
                                 device=self.device, autocast=self.autocast, labels=STANCE_LABELS, **loaded)
        self.classes_ = np.array(STANCE_LABELS)

    def predict_pairs(self, pairs: Sequence[StancePair], progress: bool | None = None) -> np.ndarray:
        """Probabilities `(n_pairs, 4)` in STANCE_LABELS order; a pair without evidence is unrelated."""
        if not hasattr(self, "scorer_"):
            raise RuntimeError("FinetunedStance is not fitted: call fit_pairs() or load()")
        probs = np.zeros((len(pairs), len(STANCE_LABELS)))
        probs[:, STANCE_LABELS.index("unrelated")] = 1.0
        idx = [i for i, p in enumerate(pairs) if p.evidence]
        if idx:
            probs[idx] = self.scorer_.score(stance_inputs([pairs[i] for i in idx], self.n_evidence),
                                            progress=len(idx) > 2000 if progress is None else progress)
        return probs

    def save_pretrained(self, path: str | Path, dtype: str = "float16") -> None:
        model = self.scorer_.model
        model.to(getattr(torch, dtype)).save_pretrained(path, safe_serialization=True)
        model.float()
        self.scorer_.tokenizer.save_pretrained(path)

    @classmethod
    def load(cls, path: str | Path, params: dict) -> FinetunedStance:
        head = cls(**params)
        head._use(str(path))
        return head
