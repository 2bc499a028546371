"""`make bench`: speed, memory and accuracy of the NLI backends and of the pipeline against the naive way, in one
process (the machines are noisy; ratios are only meaningful within one run).

The naive way is what transformers' zero-shot-classification pipeline does: score every sentence of every article
against every claim, fp32, batches in input order. Ours: top-k evidence, similarity gating, length-bucketed
batches, the best backend. Both feed the same stance head.

Workload: the seeds with the hand-labelled claims, plus a fixed sample of FNC-1 dev pairs (split by body).
Output: a printed table and `reports/bench/bench.json`.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import random
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import hydra
import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf

from pipeline.core import atomic
from pipeline.core.cli import guarded, quiet_libraries, set_seed
from pipeline.core.records import StancePair
from pipeline.core.tables import markdown_table
from pipeline.learn import fnc
from pipeline.measure.labels import labelled_set
from pipeline.measure.metrics import stance_metrics
from pipeline.predict import EvidenceOnly, Timer, score_pairs
from pipeline.stages.ingest import clean_with, normalise
from pipeline.stages.nli.scorer import NliScorer
from pipeline.stages.segment import split_sentences
from pipeline.stages.stance.heads import load_head, stance_labels

log = logging.getLogger(__name__)


# FLOP per cycle per core, by instruction set: FMA = 2 FLOP per lane, and server cores have two FMA units.
# AVX-512: 2 units x 16 fp32 lanes x 2; AVX2: 2 x 8 x 2. AVX512-BF16 (VDPBF16PS): 2 units x 32 bf16 pairs x 2.
# AMX (TMUL): 1,024 bf16 / 2,048 int8 operations per cycle; VNNI int8: 2 units x 64 x 2.
PER_CYCLE = {
    "fp32": [("avx512f", 64), ("avx2", 32)],
    "bf16": [("amx_bf16", 1024), ("avx512_bf16", 128), ("avx512f", 64), ("avx2", 32)],
    "int8": [("amx_int8", 2048), ("avx512_vnni", 256), ("avx2", 64)],
}


def _max_ghz(cpuinfo: str) -> float:
    """The highest clock the cores may run at: cpufreq's maximum when the kernel exposes it, else the largest
    `cpu MHz` in /proc/cpuinfo (the current clock, which under-states turbo)."""
    try:
        return int(Path("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq").read_text()) / 1e6
    except (OSError, ValueError):
        mhz = [float(line.split(":")[1]) for line in cpuinfo.splitlines() if line.lower().startswith("cpu mhz")]
        return max(mhz) / 1000 if mhz else 2.5


def peak_flops(dtype: str, cpuinfo: str | None = None, cores: int | None = None) -> tuple[float, str]:
    """Rough peak FLOP/s of this machine for `dtype` ("fp32"/"bf16"/"int8"), and how it was estimated."""
    if torch.cuda.is_available() and cpuinfo is None:
        name = torch.cuda.get_device_name()
        tflops = {"H100": 989e12, "H200": 989e12, "A100": 312e12}.get(next((k for k in ("H100", "H200", "A100")
                                                                            if k in name), ""), 100e12)
        return tflops, f"{name}, dense bf16 tensor-core peak"
    if cpuinfo is None:
        cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    cores = cores or os.cpu_count() or 1
    flags = set(next((line.split(":", 1)[1].split() for line in cpuinfo.splitlines()
                      if line.startswith("flags")), []))
    unit, per_cycle = next(((f, n) for f, n in PER_CYCLE[dtype] if f in flags), ("scalar", 4))
    ghz = _max_ghz(cpuinfo)
    return cores * ghz * 1e9 * per_cycle, (f"{cores} cores x {ghz:.2f} GHz x {per_cycle} {dtype} FLOP/cycle "
                                           f"({unit}; an upper bound)")


def nonembedding_params(model) -> int:
    return sum(p.numel() for n, p in model.named_parameters() if "embeddings" not in n)


def token_count(scorer: NliScorer, pairs, batch_size: int) -> int:
    """Tokens actually pushed through the model, padding included, with the length-bucketed plan."""
    from pipeline.stages.nli.scorer import length_batches

    total = 0
    for batch in length_batches(pairs, batch_size):
        enc = scorer._encode([pairs[i][0] for i in batch], [pairs[i][1] for i in batch])
        total += int(enc["input_ids"].numel())
    return total


def time_scoring(scorer: NliScorer, pairs, batch_size: int) -> tuple[np.ndarray, float]:
    scorer.score(pairs[:batch_size], batch_size=batch_size)  # warm-up (allocations, ONNX graph)
    start = time.perf_counter()
    probs = scorer.score(pairs, batch_size=batch_size)
    return probs, time.perf_counter() - start


def pick_pairs(candidates, scorer: NliScorer, n: int, lo: int = 48, hi: int = 80):
    """Up to n distinct real NLI pairs of about 64 tokens (between lo and hi)."""
    unique = list(dict.fromkeys(candidates))
    lengths = [len(ids) for ids in scorer.tokenizer([p for p, _ in unique], [h for _, h in unique])["input_ids"]]
    inside = [pair for pair, length in zip(unique, lengths) if lo <= length <= hi]
    if len(inside) >= n:
        return inside[:n]
    # a small workload: take the pairs closest to 64 tokens
    closest = sorted(range(len(unique)), key=lambda i: (abs(lengths[i] - 64), i))
    return [unique[i] for i in closest[:n]]


def naive_score(scorer: NliScorer, pairs: list[StancePair], batch_size: int) -> tuple[list[StancePair], int]:
    """Score every (sentence, claim) in input order with fixed-size batches, fp32, no cache, no gating."""
    inputs = [(ev.sentence, p.claim_text) for p in pairs for ev in p.evidence]
    probs = np.zeros((len(inputs), 3))
    for start in range(0, len(inputs), batch_size):
        chunk = inputs[start:start + batch_size]
        probs[start:start + len(chunk)] = scorer._decode(scorer._forward(scorer._encode(*zip(*chunk))))
    out, row = [], 0
    for p in pairs:
        scored = []
        for ev in p.evidence:
            e, n, c = probs[row]
            scored.append(replace(ev, entailment=float(e), neutral=float(n), contradiction=float(c)))
            row += 1
        out.append(replace(p, evidence=tuple(scored)))
    return out, len(inputs)


def workload(cfg, rng: random.Random):
    """(articles, claims, gold labels by (claim id, article id)) for the seeds + an FNC-1 dev sample."""
    articles, seed_claims, gold = labelled_set(cfg.data, cfg.ingest)
    seed_ids = tuple(a.article_id for a in articles)
    claims = [replace(c, article_ids=c.article_ids or seed_ids) for c in seed_claims]
    bodies, pairs = fnc.load_fnc(cfg.paths.datasets)
    split = fnc.read_split(cfg.bench.fnc_split_file, bodies)
    dev = [p for p in pairs if split[p.body_id] == "dev"]
    sample = rng.sample(dev, min(cfg.bench.fnc_pairs, len(dev)))
    fnc_articles, fnc_claims, claim_of = fnc.as_pipeline_inputs(
        bodies, sample, lambda t: clean_with(cfg.ingest, t).text, normalise)
    gold.update({(claim_of[p.headline], f"fnc{p.body_id}"): p.stance for p in sample})
    return articles + fnc_articles, claims + fnc_claims, gold


def run(cfg: DictConfig) -> dict:
    quiet_libraries()
    set_seed(cfg.seed)
    b = cfg.bench
    if b.scale.enabled and b.scale.only:
        return _with_scale(cfg, {})
    rng = random.Random(cfg.seed)
    articles, claims, gold = workload(cfg, rng)
    head, head_info = load_head(cfg)
    model_cfg = {k: v for k, v in OmegaConf.to_container(cfg.model, resolve=True).items() if k != "_target_"}
    scorers = {
        "torch_fp32": NliScorer(**{**model_cfg, "autocast": False, "backend": "torch"}),
        "torch_bf16": NliScorer(**{**model_cfg, "autocast": True, "backend": "torch"}),
        "onnx_int8": NliScorer(**{**model_cfg, "autocast": False, "backend": "onnx"}),
    }
    fp32 = scorers["torch_fp32"]

    # 1. ours, end to end, best backend chosen below; first compute evidence with the fp32 scorer's tokenizer
    sentences = {a.article_id: split_sentences(a, cfg.segment.splitter) for a in articles}
    texts = {a.article_id: a.text for a in articles}

    # 2. NLI backends on ~64-token real pairs from this workload
    timer = Timer()
    probe = score_pairs(articles, claims, sentences, cfg, EvidenceOnly(), timer, progress=False)
    candidates = [(ev.sentence, p.claim_text) for p in probe for ev in p.evidence]
    rng.shuffle(candidates)
    pairs64 = pick_pairs(candidates, fp32, b.nli_pairs)
    tokens = token_count(fp32, pairs64, b.batch_size)
    flop_per_token = 2 * nonembedding_params(fp32.model)
    backends, reference = {}, None
    for name, scorer in scorers.items():
        probs, seconds = time_scoring(scorer, pairs64, b.batch_size)
        if reference is None:
            reference = probs
        dtype = {"torch_fp32": "fp32", "torch_bf16": "bf16", "onnx_int8": "int8"}[name]
        peak, how = peak_flops(dtype)
        backends[name] = {
            "pairs_per_s": round(len(pairs64) / seconds, 1),
            "argmax_agreement_vs_fp32": round(float((probs.argmax(1) == reference.argmax(1)).mean()), 4),
            "max_abs_prob_diff_vs_fp32": round(float(np.abs(probs - reference).max()), 4),
            "flops_utilisation": round(tokens * flop_per_token / seconds / peak, 4),
            "peak_flops_estimate": how,
        }
    # the NLI models side by side (bf16 where supported), on the same ~64-token pairs
    models = {}
    for name in b.get("compare_models") or []:
        if not Path(name).is_dir():
            models[Path(name).name] = {"missing": True}
            continue
        scorer = NliScorer(**{**model_cfg, "name": name, "backend": "torch"})
        subset = pairs64[:b.model_pairs]
        _, seconds = time_scoring(scorer, subset, b.batch_size)
        models[Path(name).name] = {"pairs_per_s": round(len(subset) / seconds, 1), "pairs": len(subset),
                                   "bf16": scorer.autocast, "parameters": sum(p.numel() for p in
                                                                              scorer.model.parameters())}
        del scorer
    # oneDNN's kernel cache against ragged calls (pipeline/__init__.py sets its capacity), fresh processes
    kernels = {}
    if b.kernel_cache.calls:
        kernels = kernel_cache({k: v for k, v in model_cfg.items() if k != "onnx_cache"}, candidates[:5000],
                               list(b.kernel_cache.capacities), b.kernel_cache.calls, cfg.seed,
                               Path(cfg.paths.reports) / "bench")
    eligible = {k: v for k, v in backends.items() if v["argmax_agreement_vs_fp32"] >= b.min_agreement}
    best = max(eligible, key=lambda k: eligible[k]["pairs_per_s"])

    # 3. end to end: ours (top-k, gate, buckets, best backend) vs naive (all sentences, fp32, input order)
    ours_cfg = OmegaConf.merge(cfg, {"evidence": {"gate_similarity": b.gate_similarity}})
    t0 = time.perf_counter()
    timer = Timer()
    ours_sentences = {a.article_id: split_sentences(a, cfg.segment.splitter) for a in articles}
    ours_pairs = score_pairs(articles, claims, ours_sentences, ours_cfg, scorers[best], timer, progress=True)
    ours_pred = stance_labels(head, ours_pairs, texts)
    ours_s = time.perf_counter() - t0
    keys = [(p.claim_id, p.article_id) for p in ours_pairs]
    gold_list = [gold[k] for k in keys]
    ours_metrics = stance_metrics(gold_list, list(ours_pred))

    t0 = time.perf_counter()
    naive_sentences = {a.article_id: split_sentences(a, cfg.segment.splitter) for a in articles}
    # every sentence as evidence (ordered by similarity, so the head sees the same kind of features)
    every = OmegaConf.merge(cfg, {"evidence": {"top_k": 1_000_000, "gate_similarity": None}})
    base = score_pairs(articles, claims, naive_sentences, every, EvidenceOnly(), Timer(), progress=False)
    naive, naive_nli = naive_score(fp32, base, b.naive_batch_size)
    naive_pred = stance_labels(head, naive, texts)
    naive_s = time.perf_counter() - t0
    naive_metrics = stance_metrics([gold[(p.claim_id, p.article_id)] for p in naive], list(naive_pred))

    related = [k for k, g in zip(keys, gold_list) if g != "unrelated"]
    gated = {(p.claim_id, p.article_id) for p in ours_pairs if b.gate_similarity is not None
             and p.similarity < b.gate_similarity}
    fnc_keys = [k for k in keys if k[1].startswith("fnc")]
    fnc_s_per_pair = ours_s / max(len(keys), 1)
    rss = inference_peak_rss_mb(cfg)
    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}",
        "workload": {"pairs": len(keys), "seed_pairs": len(keys) - len(fnc_keys), "fnc_dev_pairs": len(fnc_keys),
                     "articles": len(articles), "claims": len(claims)},
        "nli_pairs_per_s": {k: v["pairs_per_s"] for k, v in backends.items()},
        "best_backend": best,
        "models": models,
        "backends": backends,
        "probe_pairs": len(pairs64), "probe_mean_tokens": round(tokens / max(len(pairs64), 1), 1),
        "flops_utilisation": backends[best]["flops_utilisation"],
        "e2e_seconds": {"ours": round(ours_s, 2), "naive": round(naive_s, 2)},
        "e2e_speedup_vs_naive": round(naive_s / ours_s, 2),
        "nli_calls": {"ours": timer.timings.get("nli_pairs"), "naive": naive_nli},
        "macro_f1": ours_metrics["macro_f1"], "naive_macro_f1": naive_metrics["macro_f1"],
        "fnc_score": ours_metrics["fnc_relative_score"], "naive_fnc_score": naive_metrics["fnc_relative_score"],
        "gate": {"similarity": b.gate_similarity, "gated_pairs": len(gated),
                 "related_pairs_gated": sum(k in gated for k in related), "related_pairs": len(related),
                 "related_recall_lost": round(sum(k in gated for k in related) / max(len(related), 1), 4)},
        "peak_rss_mb": rss,
        "kernel_cache": kernels,
        "projection_25k_pairs_min": round(25_000 * fnc_s_per_pair / 60, 1),
        "stance_head": head_info["kind"],
        "targets": {"nli_pairs_per_s>=450": backends[best]["pairs_per_s"] >= 450,
                    "e2e_speedup>=5": naive_s / ours_s >= 5,
                    "macro_f1>=naive": ours_metrics["macro_f1"] >= naive_metrics["macro_f1"],
                    "peak_rss_mb<=1500": rss is not None and rss <= 1500,
                    "25k_pairs<=15min": 25_000 * fnc_s_per_pair / 60 <= 15},
    }
    out = Path(cfg.paths.reports) / "bench"
    atomic.write_json(out / "bench.json", result)
    print(markdown_table(["backend", "pairs/s", "argmax agree vs fp32", "max |Δp|", "FLOP util."],
                         [[k, v["pairs_per_s"], v["argmax_agreement_vs_fp32"], v["max_abs_prob_diff_vs_fp32"],
                           v["flops_utilisation"]] for k, v in backends.items()]))
    if models:
        print()
        print(markdown_table(["NLI model", "pairs/s (~64 tokens)", "bf16", "parameters"],
                             [[k, v.get("pairs_per_s", "missing"), v.get("bf16", ""), v.get("parameters", "")]
                              for k, v in models.items()]))
    if kernels:
        print(f"\noneDNN kernel cache, {b.kernel_cache.calls} ragged NLI calls in a fresh process each:")
        print(markdown_table(["ONEDNN_PRIMITIVE_CACHE_CAPACITY", "peak RSS MB", "scoring s", "RSS ratio", "time ratio"],
                             [[k, v["peak_rss_mb"], v["seconds"], v["rss_vs_first"], v["time_vs_first"]]
                              for k, v in kernels.items()]))
    print()
    print(markdown_table(["", "wall s", "NLI calls", "macro-F1", "FNC score"],
                         [["ours", round(ours_s, 2), result["nli_calls"]["ours"], ours_metrics["macro_f1"],
                           ours_metrics["fnc_relative_score"]],
                          ["naive", round(naive_s, 2), naive_nli, naive_metrics["macro_f1"],
                           naive_metrics["fnc_relative_score"]]]))
    print(f"\nspeed-up {result['e2e_speedup_vs_naive']}x; best backend {best}; peak RSS during inference "
          f"{rss} MB; gate recall lost {result['gate']['related_recall_lost']:.2%} of related pairs; "
          f"25,000 FNC-style pairs projected at {result['projection_25k_pairs_min']} min "
          f"({fnc_s_per_pair * 1000:.1f} ms/pair measured)")
    print(f"targets: {result['targets']}\nwritten {out / 'bench.json'}")
    return _with_scale(cfg, result) if b.scale.enabled else result


def _with_scale(cfg, result: dict) -> dict:
    """Add the scale section (`pipeline.bench_scale`) to `result`, print its table and rewrite bench.json."""
    from pipeline.bench_scale import run_scale

    out = Path(cfg.paths.reports) / "bench"
    scale = run_scale(cfg, out, peak_rss_mb, _job_overrides())
    columns = [("NLI calls (stance)", "nli_calls"), ("computed (rest cached)", "nli_calls_computed"),
               ("merge NLI calls", "merge_nli_calls"), ("perfect-grouping calls", "perfect_grouping_nli_calls"),
               ("ratio", "calls_vs_perfect_grouping"), ("ratio with merge", "calls_with_merge_vs_perfect_grouping"),
               ("one-story calls", "one_story_nli_calls"), ("ratio", "calls_vs_one_story"), ("wall s", "wall_s"),
               ("peak RSS MB", "peak_rss_mb"), ("caches", "caches"), ("report pages", "report_pages"),
               ("largest page MB", "largest_report_page_mb")]
    rows = [[name, r["nli"].split(" ")[0], r["articles"], f"{r['stories_found']} / {r['gold_stories']}",
             r["grouping"]["b3_f1"], *(r[key] for _, key in columns)]
            for name, r in scale.items() if name != "backends"]
    print("\nscale (events=auto; one-story calls counted, not run):")
    print(markdown_table(["input", "NLI", "articles", "stories found / gold", "story B3 F1",
                          *(header for header, _ in columns)], rows))
    print(f"backends on the seeds: {scale['backends']}")
    basil = scale.get("basil", {})
    feed = scale.get("basil+fnc", basil)
    result["scale"] = scale
    result.setdefault("targets", {}).update({
        "story_b3_f1_2016_2019>=0.95": basil.get("grouping", {}).get("b3_f1", 0) >= 0.95,
        "nli_calls<=1.5x_perfect_grouping": all(r["calls_vs_perfect_grouping"] <= 1.5 for n, r in scale.items()
                                                if n != "backends"),
        "nli_calls_with_merge<=1.5x_perfect_grouping": all(r["calls_with_merge_vs_perfect_grouping"] <= 1.5
                                                           for n, r in scale.items() if n != "backends"),
        # a feed run with the NLI model stubbed does not decide the memory target: it says so instead
        "peak_rss_mb<=2048_on_feed": (feed.get("peak_rss_mb") is not None and feed["peak_rss_mb"] <= 2048)
        if feed.get("nli") == "run" else f"not measured with the NLI model ({feed.get('nli')})",
        "ray_identical": scale["backends"].get("identical_output", None)})
    atomic.write_json(out / "bench.json", result)
    print(f"targets: {result['targets']}\nwritten {out / 'bench.json'}")
    return result


# Linux keeps the old address space's high-water mark in ru_maxrss across exec, and a forked child starts with a
# copy of its parent's pages: a probe started straight from this (large) process would report this process's RSS.
# So a small wrapper process forks the probe (its stdout discarded) and prints the probe's own peak in KB.
_PEAK_RSS_WRAPPER = """import os, sys
pid = os.fork()
if pid == 0:
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    os.execv(sys.executable, [sys.executable] + sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
print(usage.ru_maxrss)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def peak_rss_mb(args: list[str], cwd: str | Path | None = None, env: dict[str, str] | None = None) -> float:
    """Peak RSS in MB of `python <args>` run in a fresh process (with `env` added to this one's environment);
    raises RuntimeError with its stderr if it fails."""
    proc = subprocess.run([sys.executable, "-c", _PEAK_RSS_WRAPPER, *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **env} if env else None)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-500:])
    try:
        return round(int(proc.stdout) / 1024, 1)
    except ValueError:
        raise RuntimeError(f"unexpected output from the RSS probe: {proc.stdout[-200:]!r}") from None


def kernel_cache(model_cfg: dict, pairs: list[tuple[str, str]], capacities: Sequence[int], calls: int, seed: int,
                 out: Path) -> dict[str, dict]:
    """Peak RSS and scoring seconds of `pipeline.bench_kernels` (ragged NLI calls) in a fresh process per oneDNN
    primitive-cache capacity, the first capacity as the reference of the ratios."""
    job, result = out / "kernel_job.json", out / "kernel_result.json"
    atomic.write_json(job, {"model": model_cfg, "pairs": pairs, "calls": calls, "seed": seed})
    rows: dict[str, dict] = {}
    for capacity in capacities:
        rss = peak_rss_mb(["-m", "pipeline.bench_kernels", str(job), str(result)],
                          env={"ONEDNN_PRIMITIVE_CACHE_CAPACITY": str(capacity)})
        seconds = json.loads(result.read_text())["seconds"]
        rows[str(capacity)] = {"peak_rss_mb": rss, "seconds": seconds}
    ref = rows[str(capacities[0])]
    for row in rows.values():
        row["rss_vs_first"] = round(row["peak_rss_mb"] / ref["peak_rss_mb"], 3)
        row["time_vs_first"] = round(row["seconds"] / ref["seconds"], 3)
    job.unlink()
    result.unlink()
    return rows


def _job_overrides() -> list[str]:
    """This job's command-line overrides that `pipeline.infer` understands too (all but `bench.*`)."""
    from hydra.core.hydra_config import HydraConfig

    if not HydraConfig.initialized():
        return []
    return [o for o in HydraConfig.get().overrides.task if not o.lstrip("+~").startswith("bench.")]


def inference_probe_args(cfg, overrides: Sequence[str] = ()) -> list[str]:
    """`python` arguments of the RSS probe: `pipeline.infer` on the seeds with empty NLI and embedding caches, so
    every model an inference run needs is loaded, plus `overrides` (the bench's own) on keys the probe does not set."""
    bench_dir = Path(cfg.paths.reports) / "bench"
    caches = {"cache.path": bench_dir / "rss_cache.sqlite", "cache.embeddings": bench_dir / "rss_embeddings.sqlite"}
    for path in caches.values():
        path.unlink(missing_ok=True)
    ours = {"input": cfg.data.articles, "output": bench_dir / "rss_run", "claims": cfg.data.claims, "overwrite": "true",
            "tracking.enabled": "false", "model.name": cfg.model.name, **caches}
    kept = [o for o in overrides if o.split("=", 1)[0].lstrip("+~") not in ours]
    return ["-m", "pipeline.infer", *kept, *(f"{key}={value}" for key, value in ours.items())]


def inference_peak_rss_mb(cfg) -> float | None:
    """Peak RSS of a separate `pipeline.infer` process on the seeds (cold caches), in MB."""
    if not cfg.bench.measure_rss:
        return None
    try:
        return peak_rss_mb(inference_probe_args(cfg, _job_overrides()), cwd=cfg.paths.root)
    except RuntimeError as err:
        log.warning("RSS probe failed: %s", err)
        return None


@hydra.main(config_path="../conf", config_name="bench", version_base="1.3")
@guarded
def main(cfg: DictConfig) -> None:
    run(cfg)


if __name__ == "__main__":
    main()
