"""report.py: the self-contained claim x outlet HTML report and Markdown tables."""

from __future__ import annotations

import html as html_lib
import re

import pytest

from pipeline.core.records import STANCE_LABELS, Article, CanonicalClaim, Claim, Evidence, StancePrediction
from pipeline.core.tables import markdown_table
from pipeline.stages.report import render_html

NASTY = 'Taxes <b>rose</b> & fell after the "reform", officials said.'


@pytest.fixture
def report_inputs(articles):
    articles = [*articles, Article("a4", "Smith & Sons <Gazette>", "text")]
    claims = [
        CanonicalClaim(
            "k001",
            "The mayor opened the new bridge on Monday.",
            sources=(Claim("a1:s000", "a1", "Daily One", "The mayor opened the new bridge on Monday."),),
        ),
        CanonicalClaim("k002", NASTY),
    ]
    predictions = []
    for ci, claim in enumerate(claims):
        for ai, article in enumerate(articles):
            label = STANCE_LABELS[(ci + ai) % len(STANCE_LABELS)]
            scores = {lab: (0.7 if lab == label else 0.1) for lab in STANCE_LABELS}
            evidence = (Evidence(f"Evidence <i>{ci}-{ai}</i> & more.", 0, 0.8, 0.6, 0.3, 0.1),)
            predictions.append(
                StancePrediction(claim.claim_id, article.article_id, article.outlet, label, scores, evidence)
            )
    return claims, articles, predictions


def test_report_contains_every_claim_and_outlet_escaped(report_inputs):
    claims, articles, predictions = report_inputs
    page = render_html(claims, articles, predictions, title="Bridge & <bakery>", meta={"model": "stub <1>"})

    for claim in claims:
        assert html_lib.escape(claim.text) in page
    assert "Taxes &lt;b&gt;rose&lt;/b&gt; &amp; fell" in page
    assert "<b>rose</b>" not in page
    for article in articles:
        assert html_lib.escape(article.outlet) in page
        assert article.article_id in page
    assert "Smith &amp; Sons &lt;Gazette&gt;" in page and "<Gazette>" not in page
    assert "Evidence &lt;i&gt;1-3&lt;/i&gt; &amp; more." in page and "<i>" not in page
    assert "Bridge &amp; &lt;bakery&gt;" in page
    assert "stub &lt;1&gt;" in page
    assert "from: Daily One" in page  # the outlets a canonical claim came from


def test_report_has_a_details_per_cell_and_every_label(report_inputs):
    claims, articles, predictions = report_inputs
    page = render_html(claims, articles, predictions)

    assert page.count("<details>") == page.count("</details>") == len(claims) * len(articles)
    assert page.count('<tr><td class="claim">') == len(claims)
    for label in STANCE_LABELS:
        assert f'>{label}</span> <span class="sc">' in page


def test_report_marks_unscored_cells(report_inputs):
    claims, articles, predictions = report_inputs
    page = render_html(claims, articles, predictions[1:])
    assert page.count("not scored") == 1
    assert page.count("<details>") == len(predictions) - 1


def test_report_works_offline(report_inputs):
    page = render_html(*report_inputs)
    assert "<script" not in page.lower()
    assert "http" not in page.lower()
    assert not re.search(r"""(src|href)\s*=""", page, re.I)  # no external images, fonts or stylesheets
    assert page.startswith("<!doctype html>") and page.rstrip().endswith("</html>")


def test_markdown_table():
    table = markdown_table(["name", "score", "n"], [["agree", 0.5, 3], ["discuss", 1 / 3, 0]])
    assert table.splitlines() == [
        "| name | score | n |",
        "|---|---|---|",
        "| agree | 0.5000 | 3 |",
        "| discuss | 0.3333 | 0 |",
    ]
