"""Batch inference: `python -m pipeline.infer input=<dir or .jsonl> output=<dir> [claims=<.jsonl>]
[model.name=<hub id or path>] [overwrite=true] [strict=true] [debug=true]`.

Output directory (written to a temporary directory beside it, then renamed into place):
  claims.jsonl   canonical claims (extracted, or the given ones), most-covered first: coverage, contested, sources
  stances.jsonl  one line per (claim, article): claim_id, article_id, outlet, event_id, label, scores, evidence
  events.jsonl   the stories: event_id, label (most central title), articles, outlets, claims, contested claims
  report.html    claim x outlet matrix, colour-coded, evidence on click; works offline. With more than
                 `report.story_pages` stories (20), it is the index of stories and each story's matrix is a page
                 of its own: stories/story-<n>.html
  run.json       config, model identity, input hashes, timings, versions, notes (notes.duplicates: groups of
                 identical articles, each scored once as `scored_as` and reported for every id)
"""

from __future__ import annotations

import logging
import platform
import sys
import time
from pathlib import Path

import hydra
from omegaconf import DictConfig, OmegaConf

from pipeline.core import atomic, files
from pipeline.core.cli import guarded, quiet_libraries, set_seed
from pipeline.core.records import PipelineError, is_whole_number
from pipeline.core.tracking import execute
from pipeline.stages.ingest import load_articles, load_claims

log = logging.getLogger(__name__)


def input_hashes(path: Path) -> dict[str, str]:
    if path.is_dir():
        return {p.name: files.sha256_file(p) for p in sorted(path.iterdir()) if p.is_file()}
    return {path.name: files.sha256_file(path)}


def versions() -> dict[str, str]:
    import sklearn
    import torch
    import transformers

    import pipeline

    return {"pipeline": pipeline.__version__, "python": platform.python_version(), "torch": torch.__version__,
            "transformers": transformers.__version__, "scikit-learn": sklearn.__version__}


def story_pages_limit(cfg: DictConfig) -> int | None:
    """`report.story_pages`: null, or a whole number of stories >= 0; anything else is refused before any work."""
    limit = cfg.get("report", {}).get("story_pages")
    if limit is not None and not is_whole_number(limit):
        raise PipelineError(None, f"report.story_pages must be a whole number >= 0 or null, not {limit!r}")
    return limit


def story_pages(limit: int | None, stories: int, out: Path) -> Path | None:
    """`out/stories`, created, when a run has more than `limit` stories (report.story_pages; null: never): each
    story's matrix then gets a page of its own and report.html is the index."""
    if limit is None or stories <= max(limit, 1):
        return None
    (out / "stories").mkdir()
    return out / "stories"


def run(cfg: DictConfig) -> dict:
    from pipeline.predict import build_scorer, claim_rows, event_rows, predict_chunks, stance_rows
    from pipeline.stages.report import ReportWriter, split_stories
    from pipeline.stages.stance.heads import load_head

    if not cfg.input:
        raise PipelineError(None, "no input given: pass input=<directory of .txt files or .jsonl file>")
    if not cfg.output:
        raise PipelineError(None, "no output given: pass output=<new directory>")
    quiet_libraries()
    set_seed(cfg.seed)
    started = time.perf_counter()
    source, output = Path(cfg.input), Path(cfg.output)
    pages_limit = story_pages_limit(cfg)
    atomic.refuse_existing(output, cfg.overwrite)
    articles, notes = load_articles(source, cfg.ingest, strict=cfg.strict)
    claims = load_claims(cfg.claims, [a.article_id for a in articles]) if cfg.claims else None
    load_s = time.perf_counter() - started
    scorer = build_scorer(cfg)
    if scorer.name == "none":
        notes["no_nli"] = ("model=none: no NLI model ran, every evidence sentence is neutral; stories, claims, "
                           "evidence and pair counts are real, the stance labels are not")
        print(notes["no_nli"], file=sys.stderr)
    head, head_info = load_head(cfg)
    counts = {"articles": len(articles), "scored_articles": sum(not a.duplicate_of for a in articles),
              "events": 0, "claims": 0, "pairs": 0, "extracted_claims": 0}
    meta = {"model": scorer.name, "stance head": head_info["kind"]}
    with atomic.atomic_dir(output, overwrite=cfg.overwrite) as tmp, \
            open(tmp / "claims.jsonl", "w", encoding="utf-8") as claims_out, \
            open(tmp / "events.jsonl", "w", encoding="utf-8") as events_out, \
            open(tmp / "stances.jsonl", "w", encoding="utf-8") as stances_out, \
            open(tmp / "report.html", "w", encoding="utf-8") as report_out:
        # written a chunk of stories at a time (`stream.chunk_pairs`): memory stays bounded as the input grows
        report = timings = None
        for chunk in predict_chunks(articles, cfg, scorer, head, claims=claims):
            ids = {aid for e in chunk.events for aid in e.article_ids}
            mine = articles if claims is not None else [a for a in articles if a.article_id in ids]
            stories = split_stories(chunk.claims, mine, chunk.predictions, chunk.events)
            if report is None:
                pages = story_pages(pages_limit, chunk.story_count, tmp)
                report = ReportWriter(report_out, f"Claim stance: {source.name}", meta,
                                      multi=chunk.story_count > 1 or len(stories) > 1, pages=pages)
            report.add(stories, chunk.sentences)
            for out, rows in ((claims_out, claim_rows(chunk.claims, chunk.predictions)),
                              (events_out, event_rows(chunk.events, chunk.claims, chunk.predictions)),
                              (stances_out, stance_rows(chunk.predictions))):
                out.writelines(map(atomic.jsonl_line, rows))
            counts["events"] += len(chunk.events)
            counts["claims"] += len(chunk.claims)
            counts["pairs"] += len(chunk.predictions)
            counts["extracted_claims"] = len(chunk.extracted)
            timings = chunk.timings
        report.close()
        run_info = {
            "command": "pipeline.infer",
            "config": OmegaConf.to_container(cfg, resolve=True),
            "model": scorer.identity,
            "stance_head": head_info,
            "inputs_sha256": input_hashes(source) | (input_hashes(Path(cfg.claims)) if cfg.claims else {}),
            "counts": counts,
            "timings": {"load_s": round(load_s, 3), **timings, "total_s": round(time.perf_counter() - started, 3)},
            "versions": versions(),
            "notes": notes,
        }
        atomic.write_json(tmp / "run.json", run_info)
    run_info["tracking"] = {
        "metrics": {"nli/pairs_per_s": run_info["timings"]["nli_pairs_per_s"],
                    **{f"time/{k}": v for k, v in run_info["timings"].items()
                       if k.endswith("_s") and not k.endswith("per_s")},
                    **{f"count/{k}": v for k, v in run_info["counts"].items()}},
        "artifacts": [output / "run.json", output / "report.html"],
        "tags": {"nli_model": scorer.identity, "stance_head": head_info["kind"], "input": str(source),
                 "inputs_sha256": run_info["inputs_sha256"]},
    }
    counts = run_info["counts"]
    print(f"{counts['claims']} claims x {counts['articles']} articles -> {counts['pairs']} stances in "
          f"{run_info['timings']['total_s']:.1f} s; written to {output}")
    return run_info


@hydra.main(config_path="../conf", config_name="config", version_base="1.3")
@guarded
def main(cfg: DictConfig) -> None:
    execute(cfg, "infer", run)


if __name__ == "__main__":
    main()
