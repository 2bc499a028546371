"""NliScorer: (premise, hypothesis) pairs -> probability rows (n_pairs, 3) in `NLI_LABELS` order.

Accepts any Hugging Face sequence-pair classifier with entailment / neutral / contradiction labels: a local path
or a hub id. The label order is read from the model's `config.label2id`, never assumed.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from pipeline.core.records import NLI_LABELS, PipelineError

_LABEL_PREFIXES = {"entailment": "entail", "neutral": "neutral", "contradiction": "contradict"}


def resolve_device(device: str = "auto") -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def bf16_supported(device: torch.device) -> bool:
    """bf16 autocast pays off on GPUs with bf16 and on CPUs with AVX512-BF16 or AMX; elsewhere it is slower."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        checks = ("_is_amx_tile_supported", "_is_avx512_bf16_supported")
        return any(getattr(torch.cpu, name, lambda: False)() for name in checks)
    return False


def use_autocast(autocast: str | bool, device: torch.device) -> bool:
    if autocast in ("auto", None):
        return bf16_supported(device)
    return bool(autocast) and autocast != "off"


def label_columns(label2id: dict[str, int], where: object, labels: Sequence[str] = NLI_LABELS) -> list[int]:
    """Model output column for each of `labels`, matched case-insensitively (NLI labels by prefix, so that
    ENTAILMENT, entails and Entailment all count).

    Raises PipelineError naming `where` if the model lacks any of them.
    """
    found: dict[str, int] = {}
    for name, idx in label2id.items():
        for label in labels:
            prefix = _LABEL_PREFIXES.get(label, label)
            if str(name).strip().lower().startswith(prefix) and not str(name).lower().startswith("not"):
                found[label] = int(idx)
    missing = [label for label in labels if label not in found]
    if missing:
        kind = "an NLI" if tuple(labels) == NLI_LABELS else "a stance"
        raise PipelineError(
            where,
            f"not {kind} classifier: its labels are {sorted(label2id)}, missing {', '.join(missing)} "
            f"(need {', '.join(labels)} in config.label2id)",
        )
    return [found[label] for label in labels]


ADAPTER_CONFIG = "adapter_config.json"
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin", "adapter_model.safetensors")


def is_delta(folder: str | Path) -> bool:
    """A model folder shipped as LoRA adapters + head over a base (`adapter_config.json`), not as full weights."""
    return (Path(folder) / ADAPTER_CONFIG).is_file()


def weights_file(folder: str | Path) -> Path | None:
    """The weights of a local model folder (full weights or a delta's adapters); None for a hub id."""
    return next((Path(folder) / f for f in WEIGHT_FILES if (Path(folder) / f).is_file()), None)


def load_adapter_model(folder: Path):
    """A model shipped as a delta: the base named in `adapter_config.json` (`mpnet`, a local path or a hub id),
    with this folder's config (labels) and its LoRA adapters and classification head, merged for inference."""
    from peft import PeftModel
    from transformers import AutoConfig, AutoModelForSequenceClassification

    from pipeline.core.basemodels import resolve_base

    base_name = json.loads((folder / ADAPTER_CONFIG).read_text())["base_model_name_or_path"]
    config = AutoConfig.from_pretrained(folder)
    base = AutoModelForSequenceClassification.from_pretrained(resolve_base(base_name), config=config)
    return PeftModel.from_pretrained(base, folder).merge_and_unload()


def set_threads(n_threads: int | None = None) -> None:
    torch.set_num_threads(n_threads or os.cpu_count() or 1)


class NliScorer:
    """Scores (premise, hypothesis) pairs with a sequence-pair NLI classifier.

    Args:
        name: local directory or hub id of an AutoModelForSequenceClassification checkpoint.
        revision: hub revision (ignored for local paths).
        max_length: token budget per pair; only the premise is truncated, so the claim is never cut.
        batch_size: pairs per forward pass.
        device: "auto" (CUDA if present, else CPU), "cpu" or "cuda".
        autocast: "auto" (bf16 where the hardware has it), true or false.
        backend: "torch", or "onnx" (ONNX Runtime, int8 dynamic per-channel quantization, CPU); the export is
            cached under `onnx_cache`, keyed by the model's identity.
        threads: torch / ONNX Runtime threads; null = all cores.
        labels: the classes to read from the model's `label2id`, in output column order (default: NLI_LABELS;
            the fine-tuned stance head passes STANCE_LABELS).
        pad_to_multiple_of: pad each batch's length up to a multiple of this (null: to the longest pair). On the
            CPU, oneDNN keeps compiled kernels per input shape; with free lengths a long run accumulates hundreds
            of MB of them (measured: +200 MB on 3,000 pairs), with lengths in steps of 32 their number is bounded.
    """

    def __init__(self, name: str, revision: str | None = None, max_length: int = 256, batch_size: int = 32,
                 device: str = "auto", autocast: str | bool = "auto", backend: str = "torch",
                 onnx_cache: str | None = None, threads: int | None = None, model=None, tokenizer=None,
                 labels: Sequence[str] = NLI_LABELS, pad_to_multiple_of: int | None = None):
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        self.name = str(name)
        self.revision = revision
        self.max_length = max_length
        self.batch_size = batch_size
        self.pad_to_multiple_of = int(pad_to_multiple_of) if pad_to_multiple_of else None
        self.device = resolve_device(device)
        if model is None:
            local = Path(self.name).expanduser()
            if self.name.startswith((".", "/", "~")) and not local.exists():
                raise PipelineError(self.name, "model directory not found")
            if local.is_dir() and not (local / "config.json").is_file():
                raise PipelineError(self.name, "not a Hugging Face model directory (no config.json)")
            try:
                tokenizer = AutoTokenizer.from_pretrained(self.name, revision=revision)
                if is_delta(local):
                    model = load_adapter_model(local)
                else:
                    model = AutoModelForSequenceClassification.from_pretrained(self.name, revision=revision)
            except (OSError, ValueError) as err:
                first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
                raise PipelineError(self.name, f"could not load the NLI model ({first})") from None
        self.tokenizer = tokenizer
        self.model = model.to(self.device).eval()
        self.labels = tuple(labels)
        self.columns = label_columns(self.model.config.label2id, self.name, self.labels)
        self.autocast = use_autocast(autocast, self.device)
        self.backend = backend
        self.threads = threads or os.cpu_count() or 1
        torch.set_num_threads(self.threads)
        self.session = None
        if backend == "onnx":
            from pipeline.stages.nli.onnx import onnx_session

            self.session = onnx_session(self.model, self.tokenizer, self.identity, onnx_cache, self.threads)
            self.autocast = False
        elif backend != "torch":
            raise PipelineError(None, f"unknown model.backend {backend!r}; use torch or onnx")

    @functools.cached_property
    def identity(self) -> dict[str, str]:
        """What identifies the weights: name, revision and, for local files, the weights' size and mtime-free hash."""
        ident = {"name": self.name, "revision": str(self.revision or getattr(self.model.config, "_commit_hash", "")
                                                     or "")}
        local = Path(self.name)
        weights = weights_file(local)
        if weights is not None:
            from pipeline.core.files import sha256_file

            ident["weights_sha256"] = sha256_file(weights)
        if is_delta(local):  # base + committed delta: both checksums identify the weights
            from pipeline.core.basemodels import base_identity

            ident.update(base_identity(json.loads((local / ADAPTER_CONFIG).read_text())["base_model_name_or_path"]))
        if self.pad_to_multiple_of:  # padding changes the last digits of the scores: keep such scores apart in caches
            ident["pad_to_multiple_of"] = str(self.pad_to_multiple_of)
        return ident

    def _encode(self, premises: Sequence[str], hypotheses: Sequence[str]) -> dict[str, torch.Tensor]:
        kwargs = {"padding": True, "max_length": self.max_length, "return_tensors": "pt",
                  "pad_to_multiple_of": self.pad_to_multiple_of}
        try:
            return self.tokenizer(list(premises), list(hypotheses), truncation="only_first", **kwargs)
        except Exception:  # a hypothesis longer than the budget by itself: cut both, longest first
            return self.tokenizer(list(premises), list(hypotheses), truncation="longest_first", **kwargs)

    def _forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        if self.session is not None:
            feeds = {i.name: batch[i.name].numpy() for i in self.session.get_inputs()}
            return torch.from_numpy(self.session.run(None, feeds)[0])
        batch = {k: v.to(self.device) for k, v in batch.items()}
        with torch.inference_mode(), torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.autocast):
            return self.model(**batch).logits.float()

    def _decode(self, logits: torch.Tensor) -> np.ndarray:
        probs = torch.softmax(logits, dim=-1)[:, self.columns]
        return probs.cpu().numpy().astype(np.float64)

    def score(self, pairs: Sequence[tuple[str, str]], batch_size: int | None = None,
              progress: bool = False) -> np.ndarray:
        """Probabilities `(n_pairs, len(labels))`, columns in `labels` order (by default entailment, neutral,
        contradiction).

        Pairs are sorted by length before batching, so each batch pads little, then put back in input order.
        """
        batch_size = batch_size or self.batch_size
        out = np.zeros((len(pairs), len(self.labels)))
        if not pairs:
            return out
        bar = tqdm(total=len(pairs), desc="NLI", unit="pair", disable=not progress, leave=False)
        for idx in length_batches(pairs, batch_size):
            batch = self._encode([pairs[i][0] for i in idx], [pairs[i][1] for i in idx])
            out[idx] = self._decode(self._forward(batch))
            bar.update(len(idx))
        bar.close()
        return out


def length_batches(pairs: Sequence[tuple[str, str]], batch_size: int) -> list[list[int]]:
    """Indices of `pairs` sorted by length and cut into batches: the one batch plan every scorer uses, so a
    resumed or cached run computes each pair in the same batch as an uninterrupted one (identical floats)."""
    order = sorted(range(len(pairs)), key=lambda i: (len(pairs[i][0]) + len(pairs[i][1]), i))
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]


def cache_identity(identity: dict[str, str]) -> str:
    """The NLI cache's model key: the weights' checksums where the model is local files, so the same weights under
    another path (a copy, `models/` vs a candidate folder) reuse their scores; the name and revision otherwise."""
    if "weights_sha256" in identity:
        identity = {k: v for k, v in identity.items() if k not in ("name", "revision")}
    return json.dumps(identity, sort_keys=True)


class CachedScorer:
    """An NliScorer whose results are read from / written to an `io.NliCache`, a chunk of batches at a time, so a
    killed run loses at most one chunk of work (`chunk_batches` batches; the backend's when it has one)."""

    def __init__(self, scorer: NliScorer, cache, chunk_batches: int | None = None):
        self.scorer = scorer
        self.cache = cache
        self.name = scorer.name
        self.identity = scorer.identity
        self.model_key = cache_identity(self.identity)
        self.chunk_batches = chunk_batches or getattr(scorer, "chunk_batches", 1)
        self.hits = self.computed = 0  # of the last score() call: pairs read from the cache / run through the model

    def score(self, pairs: Sequence[tuple[str, str]], batch_size: int | None = None,
              progress: bool = False) -> np.ndarray:
        batch_size = batch_size or self.scorer.batch_size
        position: dict[tuple[str, str], int] = {}
        for pair in pairs:
            position.setdefault(tuple(pair), len(position))
        unique = list(position)
        keys = [self.cache.key(self.model_key, p, h) for p, h in unique]
        cached = self.cache.get_many(keys)
        self.hits = sum(k in cached for k in keys)
        values = np.zeros((len(unique), len(NLI_LABELS)))
        todo = self.computed = len(unique) - self.hits
        bar = tqdm(total=todo, desc="NLI", unit="pair", disable=not progress or todo == 0, leave=False)
        missing = []
        for batch in length_batches(unique, batch_size):
            if all(keys[i] in cached for i in batch):
                values[batch] = [cached[keys[i]] for i in batch]
            else:
                missing.append(batch)
        # Whole batches of the plan, concatenated in plan order: the scorer's own length sort keeps that order and
        # cuts the same batches again, so every pair is computed in the batch an uncached run computes it in.
        for start in range(0, len(missing), self.chunk_batches):
            idx = [i for batch in missing[start:start + self.chunk_batches] for i in batch]
            probs = self.scorer.score([unique[i] for i in idx], batch_size=batch_size)
            values[idx] = probs
            self.cache.put_many([(keys[i], *map(float, row)) for i, row in zip(idx, probs)])
            bar.update(sum(keys[i] not in cached for i in idx))
        bar.close()
        if not pairs:
            return np.zeros((0, len(NLI_LABELS)))
        return values[[position[tuple(pair)] for pair in pairs]]


def nli_worker(model_cfg: dict, threads: int | None = None):
    """Build the configured NLI scorer in this process (a backend actor) and return its batch function."""
    from hydra.utils import instantiate

    cfg = dict(model_cfg)
    if threads:
        cfg["threads"] = threads
    scorer = instantiate(cfg)
    return lambda batch: scorer.score(batch, batch_size=len(batch))


class BackendScorer:
    """An NliScorer whose batches run on a backend (`pipeline.core.backend`): the same length-sorted batch plan as
    `NliScorer.score`, each batch scored by one of the backend's workers. `scorer` is a local copy that gives the
    name, identity and batch size."""

    def __init__(self, scorer: NliScorer, backend, factory):
        self.scorer = scorer
        self.backend = backend
        self.factory = factory
        self.name = scorer.name
        self.identity = scorer.identity
        self.batch_size = scorer.batch_size
        self.chunk_batches = getattr(backend, "chunk_batches", 1)

    def score(self, pairs: Sequence[tuple[str, str]], batch_size: int | None = None,
              progress: bool = False) -> np.ndarray:
        plan = length_batches(pairs, batch_size or self.batch_size)
        out = np.zeros((len(pairs), len(NLI_LABELS)))
        results = self.backend.map(self.factory, [[tuple(pairs[i]) for i in idx] for idx in plan])
        for idx, probs in zip(plan, results):
            out[idx] = probs
        return out
