"""Fine-tuning a sequence-pair classifier: the training loop shared by the NLI model (`make nli-model`) and the
fine-tuned stance head (`make train ARGS="stance=finetuned"`). Pure: no file I/O, no config objects."""

from __future__ import annotations

import hashlib
import json
import os
import random
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
from tqdm.auto import tqdm


def length_grouped_batches(lengths: Sequence[int], batch_size: int, rng: random.Random,
                           group: int = 64) -> list[list[int]]:
    """Shuffle, sort by length within chunks of `group` batches, split into batches, shuffle the batches.

    Batches then pad little (a large speed-up on CPU) while the order stays random.
    """
    order = list(range(len(lengths)))
    rng.shuffle(order)
    batches = []
    chunk = batch_size * group
    for start in range(0, len(order), chunk):
        part = sorted(order[start:start + chunk], key=lambda i: lengths[i])
        batches += [part[i:i + batch_size] for i in range(0, len(part), batch_size)]
    rng.shuffle(batches)
    return batches


def encode_pairs(tokenizer, premises: Sequence[str], hypotheses: Sequence[str],
                 max_length: int) -> list[tuple[list[int], list[int] | None]]:
    """(token ids, token-type ids) of each (premise, hypothesis), the longer side truncated first. Token types are
    None for tokenizers that have none (RoBERTa, BART), whose models must not be given any."""
    enc = tokenizer(list(premises), list(hypotheses), truncation="longest_first", max_length=max_length)
    types = enc.get("token_type_ids") or [None] * len(enc["input_ids"])
    return list(zip(enc["input_ids"], types))


def collate(ids: Sequence[Sequence[int]], types: Sequence[Sequence[int] | None],
            pad_id: int) -> dict[str, torch.Tensor]:
    """Pad a batch; `token_type_ids` only when the examples have token types."""
    width = max(len(x) for x in ids)
    input_ids = torch.full((len(ids), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(ids), width), dtype=torch.long)
    for row, x in enumerate(ids):
        input_ids[row, :len(x)] = torch.tensor(x)
        mask[row, :len(x)] = 1
    batch = {"input_ids": input_ids, "attention_mask": mask}
    if types[0] is not None:
        token_type = torch.zeros((len(ids), width), dtype=torch.long)
        for row, t in enumerate(types):
            token_type[row, :len(t)] = torch.tensor(t)
        batch["token_type_ids"] = token_type
    return batch


def train_loop(model, encoded: Sequence[tuple[list[int], list[int]]], labels: torch.Tensor,
               plans: Sequence[Sequence[Sequence[int]]], *, learning_rate: float, weight_decay: float,
               warmup_ratio: float, pad_id: int, device: torch.device, autocast: bool,
               max_steps: int | None = None, class_weight: torch.Tensor | None = None,
               on_epoch: Callable[[int], dict] | None = None, desc: str = "train",
               checkpoint_dir: str | Path | None = None, checkpoint_every: int = 0, resume: bool = False,
               stop_after: int | None = None) -> dict:
    """Fine-tune `model` in place with AdamW and a linear warm-up/decay schedule.

    Args:
        encoded: `(input_ids, token_type_ids)` of every example; `labels[i]` is example i's class index.
        plans: per epoch, the batches of example indices to train on, in order.
        class_weight: optional per-class weight of the cross-entropy loss.
        on_epoch: called after each epoch with its number; returns a dict of dev metrics. With it, the weights of
            the epoch whose `score` is highest are kept (otherwise the last epoch's).
        checkpoint_dir, checkpoint_every: every `checkpoint_every` steps (and after each epoch) the trainable
            weights, optimizer, schedule, RNG state and log are saved to `checkpoint_dir/last.pt` (atomically).
            Only parameters with `requires_grad` are trained and saved (all of them, or LoRA adapters + head).
        resume: continue from `checkpoint_dir/last.pt` when it exists. The batches are fixed by `plans`, so a
            resumed run takes exactly the steps the uninterrupted run would have; a checkpoint of another plan
            or learning rate is refused.
        stop_after: stop after this many steps although the schedule (and the plan) is for `max_steps`: a run cut
            short for time that a resumed run can later complete.
    """
    from transformers import get_linear_schedule_with_warmup

    total_steps = sum(len(p) for p in plans)
    if max_steps:
        total_steps = min(total_steps, int(max_steps))
    no_decay = ("bias", "LayerNorm.weight")
    trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    trainable_names = {n for n, _ in trainable}
    groups = [
        {"params": [p for n, p in trainable if not n.endswith(no_decay)], "weight_decay": weight_decay},
        {"params": [p for n, p in trainable if n.endswith(no_decay)], "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(groups, lr=learning_rate)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(warmup_ratio * total_steps), total_steps)
    weight = None if class_weight is None else class_weight.to(device)

    def trained_state() -> dict:
        return {k: v.detach().clone() for k, v in model.state_dict().items() if k in trainable_names}

    history, best, best_state, step, seen, elapsed = [], float("-inf"), None, 0, 0, 0.0
    fingerprint = plan_fingerprint(plans, learning_rate, weight_decay, warmup_ratio, total_steps)
    ckpt = Path(checkpoint_dir) / "last.pt" if checkpoint_dir else None
    if resume and ckpt is not None and ckpt.is_file():
        saved = torch.load(ckpt, map_location="cpu", weights_only=False)
        if saved["fingerprint"] != fingerprint:
            raise ValueError(f"{ckpt}: checkpoint of another training plan (data, steps or learning rate differ); "
                             "delete it or run without resume")
        model.load_state_dict(saved["weights"], strict=False)
        optimizer.load_state_dict(saved["optimizer"])
        scheduler.load_state_dict(saved["scheduler"])
        torch.set_rng_state(saved["rng"])
        history, best, best_state = saved["history"], saved["best"], saved["best_state"]
        step, seen, elapsed = saved["step"], saved["seen"], saved["elapsed"]

    def save_checkpoint() -> None:
        ckpt.parent.mkdir(parents=True, exist_ok=True)
        tmp = ckpt.with_suffix(".tmp")
        torch.save({"fingerprint": fingerprint, "weights": trained_state(), "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(), "rng": torch.get_rng_state(), "history": history,
                    "best": best, "best_state": best_state, "step": step, "seen": seen,
                    "elapsed": elapsed + time.perf_counter() - started}, tmp)
        os.replace(tmp, ckpt)

    started = time.perf_counter()
    done_before = step  # steps already taken by an interrupted run
    bar = tqdm(total=total_steps, initial=step, desc=desc, unit="step", dynamic_ncols=True)
    position = 0  # steps planned so far, over epochs
    stop = min(int(stop_after), total_steps) if stop_after else total_steps
    for epoch, plan in enumerate(plans, start=1):
        if position + len(plan) <= done_before and any(h["epoch"] == epoch for h in history):
            position += len(plan)
            continue  # this epoch finished (and was evaluated) before the interruption
        model.train()
        for rows in plan:
            if step >= stop:
                break
            position += 1
            if position <= done_before:
                continue
            batch = collate([encoded[r][0] for r in rows], [encoded[r][1] for r in rows], pad_id)
            batch = {k: v.to(device) for k, v in batch.items()}
            target = labels[list(rows)].to(device)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=autocast):
                logits = model(**batch).logits
            loss = torch.nn.functional.cross_entropy(logits.float(), target, weight=weight)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            seen += len(rows)
            bar.update(1)
            if step % 20 == 0:
                bar.set_postfix(epoch=epoch, loss=f"{loss.item():.3f}",
                                pairs_s=f"{seen / (elapsed + time.perf_counter() - started):.0f}")
            if ckpt is not None and checkpoint_every and step % checkpoint_every == 0:
                save_checkpoint()
        entry: dict = {"epoch": epoch, "step": step}
        if on_epoch is not None:
            model.eval()
            entry["dev"] = on_epoch(epoch)
            if entry["dev"]["score"] > best:
                best = entry["dev"]["score"]
                best_state = trained_state()
                entry["selected"] = True
        history.append(entry)
        if ckpt is not None:
            save_checkpoint()
        if step >= stop:
            break
    bar.close()
    seconds = elapsed + time.perf_counter() - started
    if best_state is not None:
        model.load_state_dict(best_state, strict=False)
    model.eval()
    return {"history": history, "steps": step, "pairs_seen": seen, "train_seconds": round(seconds, 1),
            "train_pairs_per_s": round(seen / max(seconds, 1e-9), 1), "autocast_bf16": autocast}


def plan_fingerprint(plans: Sequence[Sequence[Sequence[int]]], *numbers) -> str:
    """SHA-256 of the batch plan and the optimiser settings, so a checkpoint resumes only the run that wrote it."""
    digest = hashlib.sha256(json.dumps([[list(b) for b in plan] for plan in plans]).encode())
    digest.update(json.dumps([float(x) for x in numbers]).encode())
    return digest.hexdigest()
