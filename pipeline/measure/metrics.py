"""Scores against gold: stance accuracy / macro-F1 / per-class P/R/F1 / confusion, the FNC-1 score, and
claim-sentence extraction recall and precision."""

from __future__ import annotations

import re
from collections.abc import Sequence

from pipeline.core.records import STANCE_LABELS
from pipeline.stages.ingest import normalise

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


def _class_f1(confusion):
    import numpy as np

    tp = np.diag(confusion).astype(float)
    pred, gold = confusion.sum(axis=0), confusion.sum(axis=1)
    denom = pred + gold
    return np.divide(2 * tp, denom, out=np.zeros_like(tp), where=denom > 0)


def _claim_resamples(gold: Sequence[str], preds: Sequence[Sequence[str]], groups: Sequence[str], resamples: int,
                     seed: int):
    """Confusion matrices of a cluster bootstrap over `groups` (claims), one per prediction list: shape
    `(len(preds), resamples, 4, 4)`. Each resample draws claims with replacement and keeps all of their pairs, so
    pairs of one claim, which are not independent, move together; every prediction list sees the same draws."""
    import numpy as np

    index = {lab: i for i, lab in enumerate(STANCE_LABELS)}
    g = np.array([index[x] for x in gold])
    names = sorted(set(groups))
    row = {name: k for k, name in enumerate(names)}
    claim = np.array([row[x] for x in groups])
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(names), size=(resamples, len(names)))
    counts = np.stack([np.bincount(d, minlength=len(names)) for d in draws])
    out = []
    for pred in preds:
        p = np.array([index[x] for x in pred])
        # per claim: its confusion counts, so a resample is a sum of drawn claims' matrices
        per_claim = np.zeros((len(names), len(STANCE_LABELS), len(STANCE_LABELS)))
        np.add.at(per_claim, (claim, g, p), 1)
        out.append(np.tensordot(counts, per_claim, axes=1))
    return np.stack(out)


def bootstrap_intervals(gold: Sequence[str], pred: Sequence[str], groups: Sequence[str], resamples: int = 1000,
                        seed: int = 13, level: float = 0.95) -> dict:
    """Percentile intervals of macro-F1, accuracy and per-class F1 under a cluster bootstrap over `groups`
    (claims): each resample draws claims with replacement and keeps all of their pairs, so pairs of one claim,
    which are not independent, move together. Returns {metric: [low, high]}."""
    import numpy as np

    labels = list(STANCE_LABELS)
    stats = {"macro_f1": [], "accuracy": [], **{f"f1_{lab}": [] for lab in labels}}
    for confusion in _claim_resamples(gold, [pred], groups, resamples, seed)[0]:
        f1 = _class_f1(confusion)
        stats["macro_f1"].append(float(f1.mean()))  # over all four classes, as stance_metrics (zero_division=0)
        stats["accuracy"].append(float(np.trace(confusion) / max(confusion.sum(), 1)))
        for i, lab in enumerate(labels):
            stats[f"f1_{lab}"].append(float(f1[i]))
    tail = (1 - level) / 2 * 100
    return {k: [round(float(np.percentile(v, tail)), 4), round(float(np.percentile(v, 100 - tail)), 4)]
            for k, v in stats.items()}


def paired_win_rate(gold: Sequence[str], pred: Sequence[str], baseline: Sequence[str], groups: Sequence[str],
                    resamples: int = 1000, seed: int = 13) -> float:
    """Share of claim-bootstrap resamples (the same draws for both, see `bootstrap_intervals`) in which `pred`
    has a higher macro-F1 than `baseline`: how sure a gain on these claims is, not just its size."""
    a, b = _claim_resamples(gold, [pred, baseline], groups, resamples, seed)
    f1 = lambda m: _class_f1(m).mean()  # noqa: E731
    return round(float(sum(f1(x) > f1(y) for x, y in zip(a, b)) / resamples), 4)


def calibration_error(gold: Sequence[str], probs, bins: int = 10) -> dict:
    """Top-label expected calibration error: pairs binned by the probability of the predicted label; the gap
    between that confidence and the share of right labels in each bin, weighted by the bin's size. Also the
    reliability rows (bin, pairs, mean confidence, accuracy) for a plot, and the log loss (mean negative log
    probability of the gold label, scikit-learn's, which clips at machine epsilon: a label given probability 0 that
    is the right one costs about 36)."""
    import numpy as np
    from sklearn.metrics import log_loss

    probs = np.asarray(probs, dtype=float)
    if len(gold) == 0:
        return {"ece": None, "log_loss": None, "bins": []}
    conf = probs.max(axis=1)
    right = np.array([STANCE_LABELS[i] == g for i, g in zip(probs.argmax(axis=1), gold)], dtype=float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, bins - 1)
    ece, rows = 0.0, []
    for b in range(bins):
        mask = which == b
        if not mask.any():
            continue
        gap = abs(conf[mask].mean() - right[mask].mean())
        ece += mask.mean() * gap
        rows.append([round(float(edges[b]), 2), int(mask.sum()), round(float(conf[mask].mean()), 4),
                     round(float(right[mask].mean()), 4)])
    loss = log_loss(list(gold), probs / probs.sum(axis=1, keepdims=True), labels=list(STANCE_LABELS))
    return {"ece": round(float(ece), 4), "log_loss": round(float(loss), 4), "bins": rows}


def grouping_metrics(clusters: Sequence[Sequence[tuple[str, str]]], gold_rows: Sequence[dict],
                     jaccard: float = 0.8) -> dict | None:
    """B-cubed precision / recall / F1 of claim grouping against gold claim groups.

    `clusters`: the canonical claims, each as its sources' (article_id, sentence). `gold_rows`: {article_id,
    sentence, group}. Items are the gold sentences that extraction found (a source matching the gold sentence in
    the same article, token Jaccard >= `jaccard`); each item's predicted cluster is the canonical claim of that
    source. For an item, precision is the share of its predicted cluster that shares its gold group, recall the
    share of its gold group (among found items) that shares its predicted cluster; both are averaged over items.
    None when the gold rows have no groups.
    """
    rows = [r for r in gold_rows if r.get("group")]
    if not rows:
        return None
    by_article: dict[str, list[tuple[int, str]]] = {}
    for i, r in enumerate(rows):
        by_article.setdefault(r["article_id"], []).append((i, _norm(r["sentence"])))
    pred_of: dict[int, int] = {}
    for k, sources in enumerate(clusters):
        for article_id, text in sources:
            t = _norm(text)
            hit = next((i for i, g in by_article.get(article_id, []) if i not in pred_of and _matches(g, t, jaccard)),
                       None)
            if hit is not None:
                pred_of[hit] = k
    items = sorted(pred_of)
    if not items:
        return {"b3_precision": 0.0, "b3_recall": 0.0, "b3_f1": 0.0, "items": 0, "gold_groups": len({r["group"]
                for r in rows}), "predicted_groups": 0}
    gold_of = {i: rows[i]["group"] for i in items}
    b3 = bcubed(pred_of, gold_of)
    multi = {g for g in {r["group"] for r in rows}
             if len({x["article_id"] for x in rows if x["group"] == g}) > 1}
    return {k: b3[k] for k in ("b3_precision", "b3_recall", "b3_f1")} | {
            "items": len(items), "gold_sentences": len(rows),
            "gold_groups": len({r["group"] for r in rows}), "gold_multi_outlet_groups": len(multi),
            "gold_groups_found": len({gold_of[i] for i in items}),
            "predicted_groups": len({pred_of[i] for i in items})}


def bcubed(pred: dict, gold: dict, over=None) -> dict[str, float]:
    """B-cubed precision, recall and F1 of a clustering `pred` (item -> cluster) against `gold` (item -> class).
    Clusters are formed by every item in both; the scores are averaged over the items in `over` (default: all), so
    a report set's item that was put with an item of another set is counted wrong."""
    items = [i for i in gold if i in pred]
    if not items:
        return {"b3_precision": 0.0, "b3_recall": 0.0, "b3_f1": 0.0, "clusters": 0, "gold_clusters": 0}
    by_pred: dict[str, set] = {}
    by_gold: dict[str, set] = {}
    for i in items:
        by_pred.setdefault(pred[i], set()).add(i)
        by_gold.setdefault(gold[i], set()).add(i)
    scored = items if over is None else [i for i in items if i in set(over)]
    p = r = 0.0
    for i in scored:
        same = by_pred[pred[i]] & by_gold[gold[i]]
        p += len(same) / len(by_pred[pred[i]])
        r += len(same) / len(by_gold[gold[i]])
    p, r = p / max(len(scored), 1), r / max(len(scored), 1)
    return {"b3_precision": round(p, 4), "b3_recall": round(r, 4), "b3_f1": round(2 * p * r / (p + r), 4) if p + r
            else 0.0, "clusters": len({pred[i] for i in scored}), "gold_clusters": len({gold[i] for i in scored})}
