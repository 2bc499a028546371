"""The scale section of `make bench` (`bench.scale`): many stories in one input, as a news feed arrives.

Inputs, each run as one `pipeline.infer` process (`events=auto`, fresh caches unless `bench.scale.cache_dir` keeps
them, peak RSS measured):
  basil       all 276 BASIL articles (`data/raw/basil_feed.jsonl`, no event field);
  basil+fnc   the same plus the 1,683 FNC-1 train bodies (no titles, no dates).
Reported per input: story-grouping B-cubed against the gold stories (BASIL's triplets, scored on the 2016-2019
articles; FNC-1 bodies: linked when one headline is related to both), NLI calls, wall time, peak RSS; and, on the same
input, the NLI calls of the one-story way (every extracted claim against every article: counted from its own
extraction and grouping, not run, since it would take hours) and of perfect story grouping (each gold story's
claims x its articles). Then `backend=ray` against `backend=local` on the seeds (wall time, identical output).

Inputs named in `bench.scale.stub_nli` run with `model=none` (no NLI model; every other stage real): their NLI calls
are counted, not computed, so their wall time and peak RSS are those of everything but the model's own work. That
is how the 1,959-article input fits a session: its ~860,000 NLI calls would take hours on 2 cores.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

from omegaconf import OmegaConf

from pipeline.core import atomic
from pipeline.learn import fnc
from pipeline.measure.labels import read_gold_stories
from pipeline.measure.metrics import bcubed
from pipeline.predict import embedding_cache, segment_articles
from pipeline.stages.cluster import cluster_claims, connected_components_of
from pipeline.stages.ingest import load_articles


def fnc_gold_stories(bodies: dict[str, str], pairs) -> dict[str, str]:
    """Body ID -> story: bodies joined when one headline is related (agree/disagree/discuss) to both."""
    ids = list(bodies)
    index = {b: i for i, b in enumerate(ids)}
    first: dict[str, str] = {}
    links = [(index[p.body_id], index[first.setdefault(p.headline, p.body_id)]) for p in pairs
             if p.stance != "unrelated"]
    component = connected_components_of(len(ids), links)
    return {b: f"fnc-{component[i]}" for i, b in enumerate(ids)}


def write_inputs(cfg, out: Path) -> dict[str, tuple[Path, dict[str, str], set[str]]]:
    """The scale inputs as JSONL files under `out`: name -> (path, gold story by article id, ids to score)."""
    s = cfg.bench.scale
    gold_rows = read_gold_stories(s.basil_gold)
    basil_gold = {aid: r["event"] for aid, r in gold_rows.items()}
    report = {aid for aid, r in gold_rows.items() if r["split"] == "report"}
    feed = Path(s.basil_feed)
    inputs = {"basil": (feed, basil_gold, report)}
    if s.fnc_bodies:
        bodies, pairs = fnc.load_fnc(cfg.paths.datasets)
        chosen = sorted(bodies, key=int)[:int(s.fnc_bodies)]
        story = fnc_gold_stories(bodies, pairs)
        path = out / "basil_fnc.jsonl"
        rows = [json.loads(line) for line in feed.read_text(encoding="utf-8").splitlines()]
        rows += [{"id": f"fnc{b}", "outlet": "FNC-1", "text": bodies[b]} for b in chosen]
        atomic.write_jsonl(path, rows)
        gold = basil_gold | {f"fnc{b}": story[b] for b in chosen}
        inputs["basil+fnc"] = (path, gold, report | {f"fnc{b}" for b in chosen})
    return inputs


def one_story_calls(cfg, source: Path, gold: dict[str, str]) -> dict:
    """NLI calls of the one-story way on `source` (all claims x all articles x top_k, no gate) and of perfect
    story grouping (per gold story: its claims x its articles x top_k), from extraction and grouping alone."""
    from pipeline.core.encoder import embed_texts

    articles, _ = load_articles(source, cfg.ingest)
    scored = [a for a in articles if not a.duplicate_of]
    _, extracted = segment_articles(scored, cfg.segment)
    cache = embedding_cache(cfg)
    vectors = embed_texts([c.text for c in extracted], cfg.cluster.encoder, cache=cache)
    if cache is not None:
        cache.close()
    k = int(cfg.evidence.top_k)
    one = cluster_claims(extracted, vectors, cfg.cluster.similarity_threshold, cfg.cluster.linkage)
    per_story: dict[str, list[int]] = {}
    for i, c in enumerate(extracted):
        per_story.setdefault(gold.get(c.article_id, c.article_id), []).append(i)
    size = Counter(gold.get(a.article_id, a.article_id) for a in scored)
    perfect = 0
    for story, idx in per_story.items():
        claims = cluster_claims([extracted[i] for i in idx], vectors[idx], cfg.cluster.similarity_threshold,
                                cfg.cluster.linkage)
        perfect += len(claims) * size[story] * k
    return {"one_story_claims": len(one), "one_story_nli_calls": len(one) * len(scored) * k,
            "perfect_grouping_nli_calls": perfect, "extracted_claims": len(extracted)}


def report_sizes(out: Path) -> dict:
    """What a reader of `out`'s report opens: report.html and, for a feed, the story pages (`report.story_pages`)."""
    pages = [p.stat().st_size for p in (out / "stories").glob("story-*.html")]
    index = (out / "report.html").stat().st_size
    return {"report_pages": 1 + len(pages), "report_mb": round((index + sum(pages)) / 1e6, 1),
            "largest_report_page_mb": round(max([index, *pages]) / 1e6, 1)}


def run_scale(cfg, bench_dir: Path, peak_rss_mb, job_overrides: list[str] = ()) -> dict:
    """Run each scale input through `pipeline.infer` in its own process, with the bench's own overrides
    (`job_overrides`) and then `bench.scale.overrides`; returns the scale table's rows."""
    s = cfg.bench.scale
    work = bench_dir / "scale"
    work.mkdir(parents=True, exist_ok=True)
    common = [*job_overrides, *(s.overrides or [])]
    kept = Path(s.cache_dir) if s.get("cache_dir") else None  # caches kept and reused there, else fresh in `work`
    if kept is not None:
        kept.mkdir(parents=True, exist_ok=True)
    results = {}
    for name, (source, gold, scored_ids) in write_inputs(cfg, work).items():
        out = work / name.replace("+", "_")
        files = {key: (kept or work) / f"{out.name}_{suffix}.sqlite"
                 for key, suffix in (("cache.path", "nli"), ("cache.embeddings", "emb"))}
        reused = kept is not None and any(f.exists() for f in files.values())
        if kept is None:  # fresh caches: the run is timed from cold
            for f in files.values():
                f.unlink(missing_ok=True)
        caches = [f"{key}={f}" for key, f in files.items()]
        stub = name in (s.get("stub_nli") or [])
        args = ["-m", "pipeline.infer", f"input={source}", f"output={out}", "overwrite=true", "events=auto",
                "tracking.enabled=false", *caches, *common, *(["model=none"] if stub else [])]
        t0 = time.perf_counter()
        rss = peak_rss_mb(args, cwd=cfg.paths.root)
        wall = time.perf_counter() - t0
        run = json.loads((out / "run.json").read_text())
        pred = {a: e["event_id"] for line in (out / "events.jsonl").read_text().splitlines()
                for e in [json.loads(line)] for a in e["articles"]}
        grouping = bcubed(pred, gold, sorted(scored_ids))
        sub = OmegaConf.merge(cfg, OmegaConf.from_dotlist(caches))
        counted = one_story_calls(sub, source, gold)
        calls, merge_calls = run["timings"]["nli_pairs"], run["timings"].get("merge_nli_pairs") or 0
        results[name] = {
            "nli": "stubbed (model=none): calls counted, not run" if stub else "run",
            "articles": run["counts"]["articles"], "stories_found": run["counts"]["events"],
            "gold_stories": len({gold[a] for a in scored_ids}), "scored_for_grouping": len(scored_ids),
            "grouping": grouping, "claims": run["counts"]["claims"], "pairs": run["counts"]["pairs"],
            "nli_calls": calls, "merge_nli_calls": merge_calls,
            "wall_s": round(wall, 1), "peak_rss_mb": rss, **counted,
            "calls_vs_perfect_grouping": round(calls / max(counted["perfect_grouping_nli_calls"], 1), 3),
            "calls_with_merge_vs_perfect_grouping": round(
                (calls + merge_calls) / max(counted["perfect_grouping_nli_calls"], 1), 3),
            "calls_vs_one_story": round(calls / max(counted["one_story_nli_calls"], 1), 5),
            "nli_pairs_per_s": run["timings"].get("nli_pairs_per_s"),
            "caches": f"reused from {kept}" if reused else "fresh",
            "nli_calls_computed": run["timings"].get("nli_computed"),  # the rest were read from the cache
            **report_sizes(out),
        }
        results[name]["one_story_hours_estimate"] = (
            round(counted["one_story_nli_calls"] / results[name]["nli_pairs_per_s"] / 3600, 1)
            if results[name]["nli_pairs_per_s"] else None)
    results["backends"] = ray_vs_local(cfg, work, common)
    return results


def ray_vs_local(cfg, work: Path, common: list[str]) -> dict:
    """`backend=ray` against `backend=local` on the seeds, uncached: wall time of each and whether the outputs match."""
    import subprocess
    import sys

    if not cfg.bench.scale.ray:
        return {"skipped": "bench.scale.ray=false"}
    out, seconds = {}, {}
    for backend in ("local", "ray"):
        out[backend] = work / f"seeds_{backend}"
        args = [sys.executable, "-m", "pipeline.infer", f"input={cfg.data.articles}", f"output={out[backend]}",
                "overwrite=true", "cache.enabled=false", "tracking.enabled=false", f"backend={backend}", *common]
        t0 = time.perf_counter()
        proc = subprocess.run(args, cwd=cfg.paths.root, capture_output=True, text=True)
        seconds[backend] = round(time.perf_counter() - t0, 1)
        if proc.returncode != 0:
            return {"failed": backend, "error": proc.stderr.strip().splitlines()[-1:]}
    same = all((out["ray"] / n).read_bytes() == (out["local"] / n).read_bytes()
               for n in ("stances.jsonl", "claims.jsonl", "events.jsonl"))
    return {"local_s": seconds["local"], "ray_s": seconds["ray"],
            "ray_vs_local": round(seconds["ray"] / seconds["local"], 2), "identical_output": same}
