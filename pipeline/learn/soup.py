"""A weighted average of LoRA deltas over one base: WiSE-FT (Wortsman et al., 2022) for our adapters.

Interpolating a fine-tuned model with the one it started from keeps much of the in-domain gain and gives back the
robustness the last fine-tuning cost (here: v3, trained on one labelling's claims, against v2). For LoRA the average is
exact and stays a LoRA delta: sum_i w_i * s * B_i A_i = s * [B_1 .. B_n] [w_1 A_1; ..; w_n A_n], a rank-(sum r_i)
adapter with the same scaling s = lora_alpha / r. Every other saved tensor (the classification head) is averaged with
the same weights. Pure file work: no model is loaded.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from pipeline.core.records import PipelineError

ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHTS = "adapter_model.safetensors"
# config keys that may differ between the deltas being averaged (the rest must match)
_FREE = {"r", "lora_alpha", "revision", "peft_version"}


def _read(folder: Path) -> tuple[dict, dict[str, torch.Tensor]]:
    config, weights = folder / ADAPTER_CONFIG, folder / ADAPTER_WEIGHTS
    for path in (config, weights):
        if not path.is_file():
            raise PipelineError(path, "not a LoRA delta (adapter_config.json and adapter_model.safetensors expected)")
    settings = json.loads(config.read_text(encoding="utf-8"))
    # peft appends its task's head names again each time a delta is loaded and saved: the same modules, in order
    settings["modules_to_save"] = list(dict.fromkeys(settings.get("modules_to_save") or [])) or None
    return settings, load_file(weights)


def soup(folders: Sequence[str | Path], weights: Sequence[float]) -> tuple[dict, dict[str, torch.Tensor]]:
    """The adapter config and tensors of sum_i weights[i] * delta_i. The deltas must share base, targets and the LoRA
    scaling (lora_alpha / r) and have the same tensors; the weights must be non-negative and sum to 1."""
    if len(folders) < 2 or len(folders) != len(weights):
        raise PipelineError(None, f"a soup needs two or more deltas and one weight each, got {len(folders)} deltas "
                                  f"and {len(weights)} weights")
    if min(weights) < 0 or abs(sum(weights) - 1) > 1e-6:
        raise PipelineError(None, f"soup weights must be >= 0 and sum to 1, got {list(weights)}")
    read = [(Path(f), *_read(Path(f))) for f in folders]
    first_dir, first, first_tensors = read[0]
    scaling = first["lora_alpha"] / first["r"]
    for folder, config, tensors in read[1:]:
        differ = sorted(k for k in set(config) | set(first) if k not in _FREE and config.get(k) != first.get(k))
        if differ:
            raise PipelineError(folder / ADAPTER_CONFIG, f"cannot average with {first_dir}: config differs in {differ}")
        if abs(config["lora_alpha"] / config["r"] - scaling) > 1e-9:
            raise PipelineError(folder / ADAPTER_CONFIG, f"cannot average with {first_dir}: LoRA scaling differs")
        if set(tensors) != set(first_tensors):
            raise PipelineError(folder / ADAPTER_WEIGHTS, f"cannot average with {first_dir}: different tensors")
    out: dict[str, torch.Tensor] = {}
    for key, ref in first_tensors.items():
        parts = [(w, t[key].float()) for w, (_, _, t) in zip(weights, read)]
        if ".lora_A." in key:      # (r, in): weighted rows, stacked
            out[key] = torch.cat([w * a for w, a in parts], dim=0)
        elif ".lora_B." in key:    # (out, r): columns side by side
            out[key] = torch.cat([b for _, b in parts], dim=1)
        else:                      # head and any other saved module: the weighted mean
            out[key] = sum(w * t for w, t in parts)
        out[key] = out[key].to(ref.dtype).contiguous()
    rank = sum(config["r"] for _, config, _ in read)
    return {**first, "r": rank, "lora_alpha": scaling * rank}, out


def write_soup(folders: Sequence[str | Path], weights: Sequence[float], out: str | Path) -> Path:
    """Write the averaged delta's adapter files into `out` (an existing folder, e.g. an atomic_dir's temporary one);
    config.json and the tokenizer files are the caller's (copy them from one of the deltas). Returns the weights."""
    config, tensors = soup(folders, weights)
    out = Path(out)
    (out / ADAPTER_CONFIG).write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    save_file(tensors, str(out / ADAPTER_WEIGHTS), metadata={"format": "pt"})
    return out / ADAPTER_WEIGHTS


def parameter_count(weights: str | Path) -> int:
    """Parameters in a delta's weights file (its adapters and head)."""
    return sum(t.numel() for t in load_file(str(weights)).values())
