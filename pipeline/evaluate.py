"""`make eval`: run the pipeline on the seed articles and measure it against the hand labels.

Inputs: `data.articles` (seeds), `data.claims`, `data.stance_labels`, `data.claim_sentences`, `data.boilerplate`.
Outputs, under `reports/eval/`: metrics.json, metrics.md, claims.jsonl (extracted, clustered), stances.jsonl
(labelled claims x articles), report.html; a table is printed.
"""

from __future__ import annotations

import csv
import logging
import re
import time
from collections.abc import Sequence
from pathlib import Path

import hydra
from omegaconf import DictConfig, OmegaConf

from pipeline import io
from pipeline.cli import guarded, quiet_libraries, set_seed
from pipeline.ingest import load_articles, load_claims, normalise
from pipeline.records import STANCE_LABELS, PipelineError
from pipeline.report import confusion_figure, markdown_table, render_html
from pipeline.segment import SPLITTERS, split_sentences
from pipeline.tracking import execute

log = logging.getLogger(__name__)
RELATED = ("agree", "disagree", "discuss")


def stance_metrics(gold: Sequence[str], pred: Sequence[str]) -> dict:
    """Accuracy, macro-F1, per-class precision/recall/F1, confusion matrix (rows gold), and the FNC-1 score."""
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

    labels = list(STANCE_LABELS)
    p, r, f, s = precision_recall_fscore_support(gold, pred, labels=labels, zero_division=0)
    return {
        "n": len(gold),
        "accuracy": round(float(accuracy_score(gold, pred)), 4),
        "macro_f1": round(float(f1_score(gold, pred, labels=labels, average="macro", zero_division=0)), 4),
        "per_class": {lab: {"precision": round(float(p[i]), 4), "recall": round(float(r[i]), 4),
                            "f1": round(float(f[i]), 4), "support": int(s[i])} for i, lab in enumerate(labels)},
        "confusion": {"labels": labels, "matrix": confusion_matrix(gold, pred, labels=labels).tolist()},
        "fnc_relative_score": round(fnc_score(gold, pred), 4),
    }


def fnc_score(gold: Sequence[str], pred: Sequence[str]) -> float:
    """FNC-1 score relative to the best possible: +0.25 for a right related/unrelated call, +0.75 more for the
    exact label of a related pair."""
    score = best = 0.0
    for g, p in zip(gold, pred, strict=True):
        g_rel, p_rel = g in RELATED, p in RELATED
        best += 1.0 if g_rel else 0.25
        if g_rel == p_rel:
            score += 0.25
        if g_rel and g == p:
            score += 0.75
    return score / best if best else 0.0


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", normalise(text)).strip()


def _tokens(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def _matches(a: str, b: str, jaccard: float) -> bool:
    if a == b:
        return True
    ta, tb = _tokens(a), _tokens(b)
    return bool(ta and tb) and len(ta & tb) / len(ta | tb) >= jaccard


def segmentation_metrics(extracted: dict[str, list[str]], gold: dict[str, list[str]],
                         boilerplate: dict[str, list[str]], jaccard: float = 0.8) -> dict:
    """Claim extraction vs. the gold claim sentences.

    exact_recall: gold sentences extracted verbatim (after normalisation); recall / precision: the same with a
    token-Jaccard >= `jaccard` match (a boundary off by a quote mark still counts). boilerplate_claims: extracted
    claims that match a boilerplate line (must be 0).
    """
    n_gold = sum(len(v) for v in gold.values())
    n_ext = sum(len(v) for v in extracted.values())
    exact = lenient = precise = 0
    leaked = []
    for aid, golds in gold.items():
        ext = [_norm(x) for x in extracted.get(aid, [])]
        exact += sum(_norm(g) in ext for g in golds)
        lenient += sum(any(_matches(_norm(g), e, jaccard) for e in ext) for g in golds)
        precise += sum(any(_matches(e, _norm(g), jaccard) for g in golds) for e in ext)
    for aid, lines in boilerplate.items():
        for line in lines:
            bl = _norm(line)
            leaked += [e for e in extracted.get(aid, []) if _norm(e) == bl or (len(bl) > 30 and bl in _norm(e))]
    return {"gold_sentences": n_gold, "extracted_claims": n_ext,
            "exact_recall": round(exact / max(n_gold, 1), 4), "recall": round(lenient / max(n_gold, 1), 4),
            "precision": round(precise / max(n_ext, 1), 4), "boilerplate_claims": len(leaked),
            "boilerplate_examples": leaked[:5]}


def _by_article(rows: list[dict], key: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for row in rows:
        out.setdefault(row["article_id"], []).append(row[key])
    return out


def read_stance_labels(path: str | Path) -> dict[tuple[str, str], str]:
    text, _ = io.read_text(path)
    labels = {}
    for lineno, row in enumerate(csv.DictReader(text.splitlines()), start=2):
        if row.get("label") not in STANCE_LABELS:
            raise PipelineError(path, f"line {lineno}: label {row.get('label')!r} is not one of {STANCE_LABELS}")
        labels[(row["claim_id"], row["article_id"])] = row["label"]
    return labels


def _jsonl_rows(path: str | Path) -> list[dict]:
    rows = []
    for lineno, obj, error in io.iter_jsonl(path):
        if obj is None:
            raise PipelineError(path, f"line {lineno}: malformed JSONL ({error})")
        rows.append(obj)
    return rows


def labelled_set(data, ingest_cfg) -> tuple[list, list, dict[tuple[str, str], str]]:
    """The labelled articles, claims and (claim_id, article_id) -> gold label; every pair must have a label."""
    articles, _ = load_articles(data.articles, ingest_cfg)
    labels = read_stance_labels(data.stance_labels)
    claims = load_claims(data.claims, [a.article_id for a in articles])
    missing = [(c.claim_id, a.article_id) for c in claims for a in articles if (c.claim_id, a.article_id) not in labels]
    if missing:
        raise PipelineError(data.stance_labels, f"no label for {len(missing)} (claim, article) pairs, "
                                                f"e.g. {missing[0]}")
    return articles, claims, labels


def run(cfg: DictConfig) -> dict:
    from pipeline.predict import build_scorer, claim_rows, predict, stance_rows
    from pipeline.stance_io import load_head

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
        "data_sha256": {Path(p).name: io.sha256_file(p) for p in (cfg.data.claims, cfg.data.stance_labels,
                                                                  cfg.data.claim_sentences, cfg.data.boilerplate)},
    }
    out = Path(cfg.paths.reports) / "eval"
    io.write_json(out / "metrics.json", metrics)
    io.write_text(out / "metrics.md", metrics_markdown(metrics))
    io.write_jsonl(out / "stances.jsonl", stance_rows(labelled_run.predictions))
    io.write_jsonl(out / "claims.jsonl", claim_rows(extracted_run.claims))
    io.write_text(out / "report.html", render_html(labelled_run.claims, articles, labelled_run.predictions,
                                                   "Seed articles: hand-labelled claims",
                                                   {"model": scorer.name, "stance head": head_info["kind"]}))
    io.write_text(out / "report_extracted.html", render_html(extracted_run.claims, articles,
                                                             extracted_run.predictions,
                                                             "Seed articles: extracted claims"))
    io.save_figure(confusion_figure(stance["confusion"]["matrix"], stance["confusion"]["labels"],
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
