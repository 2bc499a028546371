"""`make eval`: run the pipeline on the seed articles and measure it against the hand labels.

Inputs: `data.articles` (seeds), `data.claims`, `data.stance_labels`, `data.claim_sentences`, `data.boilerplate`.
Outputs, under `reports/eval/`: metrics.json, metrics.md, claims.jsonl (extracted, clustered), stances.jsonl
(labelled claims x articles), report.html, outlet_summary.png (claims per outlet, for slides); a table is printed.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import hydra
from omegaconf import DictConfig, OmegaConf

from pipeline.core import atomic, files
from pipeline.core.cli import guarded, quiet_libraries, set_seed
from pipeline.core.records import STANCE_LABELS, PipelineError
from pipeline.core.tables import markdown_table
from pipeline.core.tracking import execute
from pipeline.measure.labels import LabelledSet, load_labelled_set
from pipeline.measure.metrics import (
    _by_article,
    bootstrap_intervals,
    calibration_error,
    grouping_metrics,
    segmentation_metrics,
    stance_metrics,
)
from pipeline.stages.report import confusion_figure, outlet_summary_figure, render_html
from pipeline.stages.segment import SPLITTERS, split_sentences

log = logging.getLogger(__name__)


def score_set(lset: LabelledSet, cfg: DictConfig, scorer, head, boot) -> tuple[dict, dict]:
    """Stance, extraction and clustering metrics of one labelled set; and the runs, for the outputs."""
    from pipeline.predict import EvidenceOnly, predict

    gold_sentences = _by_article(lset.claim_sentences, "sentence")
    boilerplate = _by_article(lset.boilerplate, "line")
    splitters = {}
    for name in SPLITTERS:
        t0 = time.perf_counter()
        sents = {a.article_id: [s.text for s in split_sentences(a, name)] for a in lset.articles}
        splitters[name] = segmentation_metrics(sents, gold_sentences, {})
        splitters[name]["seconds"] = round(time.perf_counter() - t0, 4)
        for key in ("precision", "boilerplate_claims", "boilerplate_examples", "extracted_claims"):
            splitters[name].pop(key)
    # claims are extracted and clustered within each event (story), as a user runs one story at a time
    # (eval.score_extracted=false: group and retrieve evidence only, no NLI, for grouping sweeps)
    extract_scorer = scorer if cfg.eval.get("score_extracted", True) else EvidenceOnly()
    extracted_runs = [predict(e.articles, cfg, extract_scorer, head, events="one", merge_scorer=scorer)
                      for e in lset.events]
    extracted = _by_article([{"article_id": c.article_id, "text": c.text} for r in extracted_runs
                             for c in r.extracted], "text")
    seg = segmentation_metrics(extracted, gold_sentences, boilerplate)
    labelled_run = predict(lset.articles, cfg, scorer, head, claims=lset.claims)
    gold = [lset.labels[(p.claim_id, p.article_id)] for p in labelled_run.predictions]
    pred = [p.label for p in labelled_run.predictions]
    groups = [p.claim_id for p in labelled_run.predictions]
    stance = stance_metrics(gold, pred)
    stance["interval_95"] = bootstrap_intervals(gold, pred, groups, boot.resamples, boot.seed)
    stance["calibration"] = calibration_error(gold, [[p.scores[k] for k in STANCE_LABELS]
                                                     for p in labelled_run.predictions])
    stance["uncertain"] = sum(p.uncertain for p in labelled_run.predictions)
    canonical = [c for r in extracted_runs for c in r.claims]
    # a claim's own source article states it: its cell must be agree or discuss (NLI-scored runs only)
    source_cells = {(c.claim_id, s.article_id) for r in extracted_runs for c in r.claims for s in c.sources}
    off_source = [(p.claim_id, p.article_id, p.label) for r in extracted_runs for p in r.predictions
                  if (p.claim_id, p.article_id) in source_cells and p.label not in ("agree", "discuss")]
    scored_extracted = cfg.eval.get("score_extracted", True)
    grouping = grouping_metrics([[(s.article_id, s.text) for s in c.sources] for c in canonical],
                                lset.claim_sentences)
    metrics = {
        "stance": stance,
        "events": [e.event for e in lset.events],
        "segmentation": seg,
        "splitters": splitters,
        "clustering": {"extracted_claims": sum(len(r.extracted) for r in extracted_runs),
                       "canonical_claims": len(canonical),
                       "multi_outlet_claims": sum(len({s.article_id for s in c.sources}) > 1 for c in canonical),
                       "grouping": grouping,
                       "source_cells": len(source_cells) if scored_extracted else None,
                       "source_cells_not_agree_or_discuss": len(off_source) if scored_extracted else None,
                       "source_cells_not_agree_or_discuss_examples": off_source[:10] if scored_extracted else []},
        "timings": {"labelled": labelled_run.timings,
                    "extracted": {k: round(sum(r.timings.get(k) or 0 for r in extracted_runs), 3)
                                  for k, v in extracted_runs[0].timings.items()
                                  if k != "nli_pairs_per_s" and not isinstance(v, dict)}},
        "data_sha256": {f: files.sha256_file(f) for f in lset.files},
    }
    return metrics, {"labelled": labelled_run, "extracted": extracted_runs, "gold": gold, "pred": pred,
                     "groups": groups}


def run(cfg: DictConfig) -> dict:
    from pipeline.predict import build_scorer, claim_rows, stance_rows
    from pipeline.stages.stance.heads import load_head

    quiet_libraries()
    set_seed(cfg.seed)
    started = time.perf_counter()
    unknown = [name for name in cfg.eval.sets if name not in cfg.labelled]
    if unknown:
        raise PipelineError(None, f"eval.sets: unknown labelled set(s) {unknown}; known: {list(cfg.labelled)}")
    sets = [load_labelled_set(name, cfg.labelled[name], cfg.ingest) for name in cfg.eval.sets]
    scorer = build_scorer(cfg)
    head, head_info = load_head(cfg)
    per_set, runs = {}, {}
    for lset in sets:
        per_set[lset.name], runs[lset.name] = score_set(lset, cfg, scorer, head, cfg.eval.bootstrap)
    pooled_gold = [g for r in runs.values() for g in r["gold"]]
    pooled_pred = [p for r in runs.values() for p in r["pred"]]
    pooled_groups = [f"{name}/{g}" for name, r in runs.items() for g in r["groups"]]
    pooled = stance_metrics(pooled_gold, pooled_pred)
    pooled["interval_95"] = bootstrap_intervals(pooled_gold, pooled_pred, pooled_groups, cfg.eval.bootstrap.resamples,
                                                cfg.eval.bootstrap.seed)
    pooled["calibration"] = calibration_error(pooled_gold, [[p.scores[k] for k in STANCE_LABELS]
                                                            for r in runs.values() for p in r["labelled"].predictions])
    first = sets[0].name
    metrics = {
        **per_set[first],  # the first set (the seeds by default) at the top level, as before
        "set": first,
        "sets": per_set,
        "pooled": pooled,
        "stance_head": head_info,
        "model": scorer.identity,
        "config": OmegaConf.to_container(cfg, resolve=True),
    }
    metrics["timings"] = {**metrics["timings"], "total_s": round(time.perf_counter() - started, 2)}
    out = Path(cfg.paths.reports) / "eval"
    for lset in sets:
        where = out if lset.name == first else out / lset.name
        r = runs[lset.name]
        atomic.write_jsonl(where / "stances.jsonl", stance_rows(r["labelled"].predictions))
        atomic.write_jsonl(where / "claims.jsonl", claim_rows([c for x in r["extracted"] for c in x.claims]))
        atomic.write_text(where / "report.html", render_html(r["labelled"].claims, lset.articles,
                                                             r["labelled"].predictions,
                                                             f"{lset.name}: hand-labelled claims",
                                                             {"model": scorer.name, "stance head": head_info["kind"]},
                                                             sentences=r["labelled"].sentences))
        atomic.save_figure(outlet_summary_figure(r["labelled"].claims, r["labelled"].predictions,
                                                 f"{lset.name}: hand-labelled claims per outlet"),
                           where / "outlet_summary.png")
        if lset.name == first:
            ex = r["extracted"]
            atomic.write_text(where / "report_extracted.html",
                              render_html([c for x in ex for c in x.claims], lset.articles,
                                          [p for x in ex for p in x.predictions], f"{lset.name}: extracted claims",
                                          sentences={k: v for x in ex for k, v in x.sentences.items()}))
    stance = metrics["stance"]
    atomic.write_json(out / "metrics.json", metrics)
    atomic.write_text(out / "metrics.md", metrics_markdown(metrics))
    atomic.save_figure(confusion_figure(stance["confusion"]["matrix"], stance["confusion"]["labels"],
                                        f"{first}, {head_info['kind']}: macro-F1 {stance['macro_f1']:.3f}"),
                       out / "confusion.png")
    print(metrics_markdown(metrics))
    print(f"\nwritten: {out}/metrics.json, metrics.md, stances.jsonl, claims.jsonl, report.html, outlet_summary.png, "
          "confusion.png"
          + "".join(f"; {out}/{s.name}/" for s in sets[1:]))
    seg = metrics["segmentation"]
    labelled_timings = metrics["timings"]["labelled"]
    metrics["tracking"] = {
        "metrics": {"eval/macro_f1": stance["macro_f1"], "eval/accuracy": stance["accuracy"],
                    "eval/fnc_score": stance["fnc_relative_score"],
                    **{f"eval/f1_{k}": v["f1"] for k, v in stance["per_class"].items()},
                    **{f"eval/{name}/{k}": m["stance"][k] for name, m in per_set.items()
                       for k in ("macro_f1", "accuracy")},
                    **{f"eval/{name}/f1_{k}": v["f1"] for name, m in per_set.items()
                       for k, v in m["stance"]["per_class"].items()},
                    **{f"eval/{name}/{k}": m["stance"]["calibration"][k] for name, m in per_set.items()
                       for k in ("ece", "log_loss")},
                    **{f"cluster/{name}/{k}": m["clustering"]["grouping"][k] for name, m in per_set.items()
                       if m["clustering"]["grouping"] for k in ("b3_f1", "b3_precision", "b3_recall")},
                    **{f"cluster/{name}/canonical_claims": m["clustering"]["canonical_claims"]
                       for name, m in per_set.items()},
                    **{f"seg/{name}/{k}": m["segmentation"][k] for name, m in per_set.items()
                       for k in ("recall", "precision", "boilerplate_claims")},
                    "eval/pooled/macro_f1": pooled["macro_f1"], "eval/pooled/accuracy": pooled["accuracy"],
                    "seg/recall": seg["recall"], "seg/exact_recall": seg["exact_recall"],
                    "seg/precision": seg["precision"], "seg/boilerplate_claims": seg["boilerplate_claims"],
                    "nli/pairs_per_s": labelled_timings["nli_pairs_per_s"],
                    **{f"time/{k}": v for k, v in labelled_timings.items()
                       if k.endswith("_s") and not k.endswith("per_s")},
                    "time/total_s": metrics["timings"]["total_s"],
                    **{f"fnc_dev/{k}": v for k, v in _fnc_dev(metrics).items()}},
        "artifacts": [out / n for n in ("metrics.json", "metrics.md", "confusion.png", "report.html",
                                                "outlet_summary.png")],
        "tags": {"nli_model": scorer.identity, "stance_head": head_info["kind"],
                 "data_sha256": {n: m["data_sha256"] for n, m in per_set.items()}},
    }
    return metrics


def _fnc_dev(m: dict) -> dict:
    """The trained head's FNC-1 dev numbers (measured by `make train`, read from its sidecar), if any."""
    dev = m["stance_head"].get("trained", {}).get("dev_metrics")
    if not dev:
        return {}
    return {"fnc_score": dev["fnc_relative_score"], "macro_f1": dev["macro_f1"], "accuracy": dev["accuracy"],
            **{f"f1_{k}": v["f1"] for k, v in dev["per_class"].items()}}


def _with_interval(stance: dict, key: str) -> str:
    lo, hi = stance.get("interval_95", {}).get(key, (None, None))
    return f"{stance[key]:.3f} [{lo:.3f}, {hi:.3f}]" if lo is not None else f"{stance[key]:.3f}"


def sets_table(m: dict) -> str:
    rows = []
    for name, st in [*((n, x["stance"]) for n, x in m.get("sets", {}).items()), ("pooled", m.get("pooled"))]:
        if st is None:
            continue
        ev = len(m["sets"][name]["events"]) if name in m.get("sets", {}) else sum(len(x["events"])
                                                                                   for x in m["sets"].values())
        calibration = st.get("calibration", {})
        rows.append([name, ev, st["n"], _with_interval(st, "macro_f1"), _with_interval(st, "accuracy"),
                     *(_with_interval({**st, **{f"f1_{k}": v["f1"] for k, v in st["per_class"].items()}}, f"f1_{k}")
                       for k in st["per_class"]), calibration.get("ece", ""), calibration.get("log_loss", "")])
    return markdown_table(["set", "events", "pairs", "macro-F1", "accuracy", "F1 agree", "F1 disagree",
                           "F1 discuss", "F1 unrelated", "ECE", "log loss"], rows)


def grouping_table(m: dict) -> str:
    rows = []
    for name, x in m.get("sets", {}).items():
        seg, cl = x["segmentation"], x["clustering"]
        g = cl.get("grouping") or {}
        rows.append([name, seg["gold_sentences"], seg["recall"], seg["precision"], seg["boilerplate_claims"],
                     cl["canonical_claims"], cl["multi_outlet_claims"], g.get("gold_groups", "-"),
                     g.get("b3_precision", "-"), g.get("b3_recall", "-"), g.get("b3_f1", "-"),
                     "-" if cl.get("source_cells") is None else
                     f"{cl['source_cells_not_agree_or_discuss']} / {cl['source_cells']}"])
    return markdown_table(["set", "gold sentences", "recall", "precision", "boilerplate", "canonical claims",
                           "multi-outlet", "gold groups", "B3 P", "B3 R", "B3 F1",
                           "source cells not agree/discuss"], rows)


def metrics_markdown(m: dict) -> str:
    s, seg, nli = m["stance"], m["segmentation"], m["timings"]["labelled"]
    dev = _fnc_dev(m)
    trained = ([f"## The trained head on FNC-1 dev (measured by `make train`, {m['stance_head']['path']})",
                markdown_table(["FNC relative score", "macro-F1", "accuracy", "F1 agree", "F1 disagree",
                                "F1 discuss", "F1 unrelated"],
                               [[dev[k] for k in ("fnc_score", "macro_f1", "accuracy", "f1_agree", "f1_disagree",
                                                  "f1_discuss", "f1_unrelated")]]), ""] if dev else [])
    parts = [
        *trained,
        "## Stance per labelled set (95% interval: bootstrap over claims)",
        sets_table(m),
        "",
        "## Claim extraction and grouping per set",
        grouping_table(m),
        "",
        f"## Stance on {m.get('set', 'seeds')} ({s['n']} claim-article pairs, head: {m['stance_head']['kind']})",
        markdown_table(["accuracy", "macro-F1", "FNC relative score"],
                       [[s["accuracy"], s["macro_f1"], s["fnc_relative_score"]]]),
        "",
        markdown_table(["label", "precision", "recall", "F1", "support"],
                       [[k, v["precision"], v["recall"], v["f1"], v["support"]] for k, v in s["per_class"].items()]),
        "",
        "Confusion matrix (rows gold, columns predicted):",
        "",
        markdown_table(["gold \\ pred", *s["confusion"]["labels"]],
                       [[lab, *row] for lab, row in zip(s["confusion"]["labels"], s["confusion"]["matrix"])]),
        "",
        "## Claim extraction vs. gold claim sentences",
        markdown_table(["gold", "extracted", "exact recall", "recall (J>=0.8)", "precision", "boilerplate claims"],
                       [[seg["gold_sentences"], seg["extracted_claims"], seg["exact_recall"], seg["recall"],
                         seg["precision"], seg["boilerplate_claims"]]]),
        "",
        "## Sentence splitters (gold claim sentences recovered)",
        markdown_table(["splitter", "exact recall", "recall (J>=0.8)", "seconds"],
                       [[k, v["exact_recall"], v["recall"], v["seconds"]] for k, v in m["splitters"].items()]),
        "",
        f"Clustering: {m['clustering']['extracted_claims']} extracted claims -> "
        f"{m['clustering']['canonical_claims']} canonical claims "
        f"({m['clustering']['multi_outlet_claims']} made by more than one outlet).",
        f"NLI: {nli['nli_pairs']} pairs ({nli['nli_cached']} from the cache), "
        f"{nli['nli_pairs_per_s'] or '-'} pairs/s computed; "
        f"total {m['timings']['total_s']} s.",
    ]
    return "\n".join(parts) + "\n"


@hydra.main(config_path="../conf", config_name="config", version_base="1.3")
@guarded
def main(cfg: DictConfig) -> None:
    execute(cfg, "eval", run)


if __name__ == "__main__":
    main()
