"""ONNX Runtime int8 backend for NliScorer: export once per model identity, quantize (dynamic, per channel),
cache under `models/.onnx/<identity hash>/`, and run with ONNX Runtime on the CPU."""

from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path

import torch

from pipeline.core import atomic, files
from pipeline.core.records import PipelineError

log = logging.getLogger(__name__)
INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def export_int8(model, tokenizer, folder: Path) -> Path:
    """Export `model` to ONNX (dynamic batch and sequence axes) and quantize its weights to int8."""
    sample = tokenizer(["A premise sentence."], ["A claim."], return_tensors="pt")
    names = [n for n in INPUTS if n in sample]
    with atomic.atomic_dir(folder, overwrite=True) as tmp:
        fp32 = tmp / "model.fp32.onnx"
        wrapped = _LogitsOnly(model.float().eval())
        quiet = logging.getLogger()
        level, quiet.level = quiet.level, logging.ERROR  # onnxruntime's "consider pre-processing" notice
        try:
            _export(wrapped, sample, names, fp32, tmp / "model.int8.onnx")
        finally:
            quiet.level = level
        fp32.unlink()
    return folder / "model.int8.onnx"


def _export(wrapped, sample, names, fp32: Path, int8: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(wrapped, tuple(sample[n] for n in names), str(fp32), input_names=names,
                          output_names=["logits"], opset_version=17, dynamo=False,
                          dynamic_axes={**{n: {0: "batch", 1: "sequence"} for n in names}, "logits": {0: "batch"}})
        quantize_dynamic(str(fp32), str(int8), per_channel=True, weight_type=QuantType.QInt8)


class _LogitsOnly(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, token_type_ids=None):
        # MPNet, RoBERTa and BART take no token types: pass them only when the tokenizer makes them
        extra = {} if token_type_ids is None else {"token_type_ids": token_type_ids}
        return self.model(input_ids=input_ids, attention_mask=attention_mask, **extra).logits


def onnx_session(model, tokenizer, identity: dict, cache_dir: str | None, threads: int):
    try:
        import onnxruntime as ort
    except ImportError:
        raise PipelineError(None, "model.backend=onnx needs onnxruntime (pip install onnxruntime)") from None
    if cache_dir is None:
        raise PipelineError(None, "model.backend=onnx needs model.onnx_cache (a directory for the export)")
    key = files.sha256_text(json.dumps(identity, sort_keys=True))[:16]
    path = Path(cache_dir) / key / "model.int8.onnx"
    if not path.is_file():
        log.info("exporting %s to ONNX int8 at %s (once per model)", identity.get("name"), path.parent)
        export_int8(model, tokenizer, path.parent)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
