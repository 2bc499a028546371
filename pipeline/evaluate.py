"""`make eval`: run the pipeline on the seed articles and measure it against the hand labels.

Inputs: `data.articles` (seeds), `data.claims`, `data.stance_labels`, `data.claim_sentences`, `data.boilerplate`.
Outputs, under `reports/eval/`: metrics.json, metrics.md, claims.jsonl (extracted, clustered), stances.jsonl
(labelled claims x articles), report.html; a table is printed.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import hydra
from omegaconf import DictConfig, OmegaConf

from pipeline.core import atomic, files
from pipeline.core.cli import guarded, quiet_libraries, set_seed
from pipeline.core.tables import markdown_table
from pipeline.core.tracking import execute
from pipeline.measure.labels import _jsonl_rows, labelled_set
from pipeline.measure.metrics import _by_article, segmentation_metrics, stance_metrics
from pipeline.stages.report import confusion_figure, render_html
from pipeline.stages.segment import SPLITTERS, split_sentences

log = logging.getLogger(__name__)


def run(cfg: DictConfig) -> dict:
    from pipeline.predict import build_scorer, claim_rows, predict, stance_rows
    from pipeline.stages.stance.heads import load_head

    quiet_libraries()
    set_seed(cfg.seed)
    started = time.perf_counter()
    articles, claims, labels = labelled_set(cfg.data, cfg.ingest)
    gold_sentences = _by_article(_jsonl_rows(cfg.data.claim_sentences), "sentence")
    boilerplate = _by_article(_jsonl_rows(cfg.data.boilerplate), "line")

    # segmentation: each splitter's sentences, then the configured splitter's claims
    splitters = {}
    for name in SPLITTERS:
        t0 = time.perf_counter()
        sents = {a.article_id: [s.text for s in split_sentences(a, name)] for a in articles}
        splitters[name] = segmentation_metrics(sents, gold_sentences, {})
        splitters[name]["seconds"] = round(time.perf_counter() - t0, 4)
        for key in ("precision", "boilerplate_claims", "boilerplate_examples", "extracted_claims"):
            splitters[name].pop(key)

    scorer = build_scorer(cfg)
    head, head_info = load_head(cfg)
    extracted_run = predict(articles, cfg, scorer, head)
    extracted = _by_article([{"article_id": c.article_id, "text": c.text} for c in extracted_run.extracted], "text")
    seg = segmentation_metrics(extracted, gold_sentences, boilerplate)
    labelled_run = predict(articles, cfg, scorer, head, claims=claims)
    gold = [labels[(p.claim_id, p.article_id)] for p in labelled_run.predictions]
    pred = [p.label for p in labelled_run.predictions]
    stance = stance_metrics(gold, pred)

    metrics = {
        "stance": stance,
        "segmentation": seg,
        "splitters": splitters,
        "clustering": {"extracted_claims": len(extracted_run.extracted),
                       "canonical_claims": len(extracted_run.claims),
                       "multi_outlet_claims": sum(len({s.article_id for s in c.sources}) > 1
                                                  for c in extracted_run.claims)},
        "stance_head": head_info,
        "model": scorer.identity,
        "timings": {"labelled": labelled_run.timings, "extracted": extracted_run.timings,
                    "total_s": round(time.perf_counter() - started, 2)},
        "config": OmegaConf.to_container(cfg, resolve=True),
        "data_sha256": {Path(p).name: files.sha256_file(p) for p in (cfg.data.claims, cfg.data.stance_labels,
                                                                  cfg.data.claim_sentences, cfg.data.boilerplate)},
    }
    out = Path(cfg.paths.reports) / "eval"
    atomic.write_json(out / "metrics.json", metrics)
    atomic.write_text(out / "metrics.md", metrics_markdown(metrics))
    atomic.write_jsonl(out / "stances.jsonl", stance_rows(labelled_run.predictions))
    atomic.write_jsonl(out / "claims.jsonl", claim_rows(extracted_run.claims))
    atomic.write_text(out / "report.html", render_html(labelled_run.claims, articles, labelled_run.predictions,
                                                   "Seed articles: hand-labelled claims",
                                                   {"model": scorer.name, "stance head": head_info["kind"]}))
    atomic.write_text(out / "report_extracted.html", render_html(extracted_run.claims, articles,
                                                             extracted_run.predictions,
                                                             "Seed articles: extracted claims"))
    atomic.save_figure(confusion_figure(stance["confusion"]["matrix"], stance["confusion"]["labels"],
                                    f"seeds, {head_info['kind']}: macro-F1 {stance['macro_f1']:.3f}"),
                   out / "confusion.png")
    print(metrics_markdown(metrics))
    print(f"\nwritten: {out}/metrics.json, metrics.md, stances.jsonl, claims.jsonl, report.html, confusion.png")
    metrics["tracking"] = {
        "metrics": {"eval/macro_f1": stance["macro_f1"], "eval/accuracy": stance["accuracy"],
                    "eval/fnc_score": stance["fnc_relative_score"],
                    **{f"eval/f1_{k}": v["f1"] for k, v in stance["per_class"].items()},
                    "seg/recall": seg["recall"], "seg/exact_recall": seg["exact_recall"],
                    "seg/precision": seg["precision"], "seg/boilerplate_claims": seg["boilerplate_claims"],
                    "nli/pairs_per_s": labelled_run.timings["nli_pairs_per_s"],
                    **{f"time/{k}": v for k, v in labelled_run.timings.items()
                       if k.endswith("_s") and not k.endswith("per_s")},
                    "time/total_s": metrics["timings"]["total_s"],
                    **{f"fnc_dev/{k}": v for k, v in _fnc_dev(metrics).items()}},
        "artifacts": [out / n for n in ("metrics.json", "metrics.md", "confusion.png", "report.html")],
        "tags": {"nli_model": scorer.identity, "stance_head": head_info["kind"], "data_sha256": metrics["data_sha256"]},
    }
    return metrics


def _fnc_dev(m: dict) -> dict:
    """The trained head's FNC-1 dev numbers (measured by `make train`, read from its sidecar), if any."""
    dev = m["stance_head"].get("trained", {}).get("dev_metrics")
    if not dev:
        return {}
    return {"fnc_score": dev["fnc_relative_score"], "macro_f1": dev["macro_f1"], "accuracy": dev["accuracy"],
            **{f"f1_{k}": v["f1"] for k, v in dev["per_class"].items()}}


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
        f"## Stance on the hand-labelled seeds ({s['n']} claim-article pairs, head: {m['stance_head']['kind']})",
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
