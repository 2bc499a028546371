"""Human-readable outputs: the claim x outlet HTML report (self-contained, no scripts or CDN) and Markdown tables."""

from __future__ import annotations

import html
from collections.abc import Sequence

from pipeline.core.records import STANCE_DEFINITIONS, STANCE_LABELS, Article, CanonicalClaim, StancePrediction

COLOURS = {"agree": "#2e7d32", "disagree": "#c62828", "discuss": "#ef6c00", "unrelated": "#9e9e9e"}

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#222}
h1{font-size:20px} table{border-collapse:collapse;width:100%} th,td{border:1px solid #ddd;padding:6px;
vertical-align:top} th{background:#f5f5f5;position:sticky;top:0} td.claim{width:32%}
.lab{display:inline-block;color:#fff;border-radius:3px;padding:1px 6px;font-weight:600;cursor:pointer}
details summary{list-style:none} details summary::-webkit-details-marker{display:none}
.ev{font-size:12px;margin:6px 0 0 0;padding-left:16px} .ev li{margin-bottom:4px}
.sc{color:#555;font-variant-numeric:tabular-nums} .legend span{margin-right:12px} .muted{color:#777}
"""


def _cell(pred: StancePrediction | None) -> str:
    if pred is None:
        return '<td class="muted">not scored</td>'
    scores = " ".join(f"{k[:3]} {v:.2f}" for k, v in pred.scores.items())
    items = "".join(
        f'<li>{html.escape(e.sentence)} <span class="sc">(ent {e.entailment:.2f}, neu {e.neutral:.2f}, '
        f"con {e.contradiction:.2f})</span></li>" for e in pred.evidence)
    return (f'<td><details><summary><span class="lab" style="background:{COLOURS[pred.label]}">'
            f'{pred.label}</span> <span class="sc">{scores}</span></summary><ol class="ev">{items}</ol>'
            "</details></td>")


def render_html(claims: Sequence[CanonicalClaim], articles: Sequence[Article],
                predictions: Sequence[StancePrediction], title: str = "Claim stance report",
                meta: dict | None = None) -> str:
    """A claim x outlet matrix, colour-coded by label; click a label to see its evidence sentences."""
    by_pair = {(p.claim_id, p.article_id): p for p in predictions}
    head = "".join(f"<th>{html.escape(a.outlet)}<br><span class='muted'>{html.escape(a.article_id)}</span></th>"
                   for a in articles)
    rows = []
    for c in claims:
        sources = ", ".join(sorted({s.outlet for s in c.sources}))
        src = f'<br><span class="muted">from: {html.escape(sources)}</span>' if sources else ""
        cells = "".join(_cell(by_pair.get((c.claim_id, a.article_id))) for a in articles)
        rows.append(f'<tr><td class="claim"><b>{html.escape(c.claim_id)}</b> {html.escape(c.text)}{src}</td>'
                    f"{cells}</tr>")
    legend = "".join(f'<span><span class="lab" style="background:{COLOURS[k]}">{k}</span> '
                     f"{html.escape(STANCE_DEFINITIONS[k])}</span><br>" for k in STANCE_LABELS)
    meta_html = "".join(f"<li><b>{html.escape(str(k))}</b>: {html.escape(str(v))}</li>"
                        for k, v in (meta or {}).items())
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>"
            f"<p class='legend'>{legend}</p><ul class='muted'>{meta_html}</ul>"
            f"<table><thead><tr><th>claim</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
            "</body></html>\n")


def confusion_figure(matrix: Sequence[Sequence[int]], labels: Sequence[str], title: str):
    """A labelled confusion-matrix heat map (rows gold, columns predicted) as a matplotlib Figure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    m = np.asarray(matrix)
    fig, ax = plt.subplots(figsize=(4.8, 4.2), dpi=120)
    ax.imshow(m, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title(title, fontsize=10)
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            ax.text(j, i, str(m[i, j]), ha="center", va="center", color="white" if m[i, j] > m.max() / 2 else "black")
    fig.tight_layout()
    return fig
