"""Human-readable outputs: the claim x outlet HTML report (`page`, with its CSS and JS in `assets`), and matplotlib
figures for slides (`figures`).

The report is one self-contained HTML file (inline CSS, a little inline vanilla JS, no CDN or network; a
Content-Security-Policy forbids loading anything) that works from `file://`, on a laptop screen and on paper:

- a story index (only when the run has more than one story, `events`); for a feed, `ReportWriter(pages=...)`
  makes the index a page of its own and gives each story its own page;
- per story, a summary: for each outlet how many claims it agrees with, disagrees with, discusses or leaves out
  (an inline-SVG stacked bar), the **contested** claims (some outlet agrees, another disagrees) and the
  **omissions** (claims that most outlets report and an outlet leaves out; see `is_omission`);
- the matrix: one row per claim (sorted by coverage, contested first: `coverage.sort_claims`), one compact cell per
  article, labelled with a symbol and a word (never colour alone), the probabilities on hover, uncertain calls
  with a dashed border and a "?"; filters by label and outlet and a text search over the claims;
- evidence on click: a side panel with the evidence sentences and their NLI scores, each inside its paragraph
  with the sentence highlighted (when `sentences` are given), and a link to the article's URL when it has one.
"""

from pipeline.stages.report.figures import confusion_figure, outlet_summary_figure
from pipeline.stages.report.page import (
    COLOURS,
    SYMBOLS,
    ReportWriter,
    Story,
    is_omission,
    outlet_counts,
    render_html,
    split_stories,
)

__all__ = ["COLOURS", "SYMBOLS", "ReportWriter", "Story", "confusion_figure", "is_omission", "outlet_counts",
           "outlet_summary_figure", "render_html", "split_stories"]
