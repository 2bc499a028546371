"""Matplotlib figures: the per-outlet summary (for slides) and the confusion matrix."""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.core.records import STANCE_LABELS, CanonicalClaim, StancePrediction
from pipeline.stages.coverage import claim_coverage
from pipeline.stages.report.page import COLOURS, SUMMARY_WORDS, outlet_counts, unique


def outlet_summary_figure(claims: Sequence[CanonicalClaim], predictions: Sequence[StancePrediction],
                          title: str = "Claims per outlet"):
    """The per-outlet summary as a horizontal stacked bar chart (matplotlib Figure), for slides."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    counts = outlet_counts(claim_coverage(claims, predictions), unique(p.outlet for p in predictions))
    outlets = list(counts)
    fig, ax = plt.subplots(figsize=(7.2, max(1.8, 0.45 * len(outlets) + 1.2)), dpi=130)
    left = [0] * len(outlets)
    for label in STANCE_LABELS:
        values = [counts[o].get(label, 0) for o in outlets]
        bars = ax.barh(outlets, values, left=left, color=COLOURS[label], label=SUMMARY_WORDS[label],
                       edgecolor="white", linewidth=0.6)
        for bar, v in zip(bars, values):
            if v:
                ax.text(bar.get_x() + bar.get_width() / 2, bar.get_y() + bar.get_height() / 2, str(v),
                        ha="center", va="center", fontsize=8, color="white" if label != "unrelated" else "black")
        left = [a + b for a, b in zip(left, values)]
    ax.invert_yaxis()
    ax.set_xlabel("claims")
    ax.set_xlim(0, max(left + [1]))
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_title(title, fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(ncol=4, fontsize=8, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.25 if outlets else 0))
    fig.tight_layout()
    return fig


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
