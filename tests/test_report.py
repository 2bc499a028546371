"""pipeline.stages.report: the self-contained claim x outlet HTML report (summary, matrix, filters, evidence), its
figure, and Markdown tables. The page in a real browser: tests/test_report_browser.py."""

from __future__ import annotations

import html as html_lib
import re

import pytest

from pipeline.core.records import (
    STANCE_LABELS,
    Article,
    CanonicalClaim,
    Claim,
    Event,
    Evidence,
    Sentence,
    StancePrediction,
)
from pipeline.core.tables import markdown_table
from pipeline.stages.report import outlet_summary_figure, render_html

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


# A tiny story: three outlets, four claims with known coverage.
#   k1: A agrees, B disagrees, C discusses -> coverage 2, contested
#   k2: A, B agree, C unrelated           -> coverage 2, omitted by C
#   k3: all agree                         -> coverage 3
#   k4: all unrelated                     -> coverage 0
PARA_1 = "City hall was busy on Monday."
SENT_2A = "The mayor opened the bridge."
SENT_2B = "Crowds cheered as she cut the ribbon."
STORY_TEXT = f"{PARA_1}\n{SENT_2A} {SENT_2B}"
TABLE = {"k1": ("agree", "disagree", "discuss"), "k2": ("agree", "agree", "unrelated"),
         "k3": ("agree", "agree", "agree"), "k4": ("unrelated", "unrelated", "unrelated")}


def _sentences(article_id: str) -> list[Sentence]:
    out, start = [], 0
    for i, text in enumerate((PARA_1, SENT_2A, SENT_2B)):
        start = STORY_TEXT.index(text, start)
        out.append(Sentence(article_id, i, start, start + len(text), text))
        start += len(text)
    return out


def _story(event_id: str = "", suffix: str = "", uncertain: tuple[str, str] | None = None):
    articles = [Article(f"{o.lower()}{suffix}", f"Outlet {o}", STORY_TEXT, url=f"https://news.example/{o.lower()}",
                        event_id=event_id) for o in "ABC"]
    claims = [CanonicalClaim(f"{k}{suffix}", f"Claim {k} about the bridge{suffix}.", event_id=event_id)
              for k in ("k4", "k2", "k1", "k3")]  # not in coverage order
    predictions = []
    for c in claims:
        for a, label in zip(articles, TABLE[c.claim_id[:2]]):
            scores = {lab: (0.55 if lab == label else 0.15) for lab in STANCE_LABELS}
            unc = uncertain == (c.claim_id, a.article_id)
            ev = (Evidence(SENT_2A, 1, 0.9, 0.81, 0.12, 0.07), Evidence(PARA_1, 0, 0.4, 0.05, 0.9, 0.05))
            predictions.append(StancePrediction(c.claim_id, a.article_id, a.outlet, label, scores, ev, unc,
                                                event_id))
    return claims, articles, predictions


def _rows(page: str) -> list[str]:
    return re.findall(r'<tr id="claim-[^"]+"[^>]*><td class="claim"><span class="cid">([^<]+)</span>', page)


def _card(page: str, name: str) -> str:
    start = page.index(f'class="card {name}"')
    ends = [page.find(m, start + 1) for m in ('<div class="card', '<h3 class="mh"', '<div class="evstore"')]
    return page[start:min(e for e in ends if e > 0)]


def _panel(page: str, ev_id: str) -> str:
    start = page.index(f'<div class="ev" id="{ev_id}"')
    return page[start:page.index("</ol></div>", start)]


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


def test_one_row_per_claim_and_one_cell_and_panel_per_prediction(report_inputs):
    claims, articles, predictions = report_inputs
    page = render_html(claims, articles, predictions)

    assert sorted(_rows(page)) == sorted(c.claim_id for c in claims)
    assert page.count('<td class="c ') == len(claims) * len(articles)
    assert page.count('<div class="ev" id="ev-') == len(predictions)
    for label in STANCE_LABELS:  # the label as a symbol and a word, not by colour alone
        assert re.search(rf'data-label="{label}"><a class="lab" [^>]*>. {label}</a>', page)


def test_no_abbreviated_or_duplicated_score_names(report_inputs):
    page = render_html(*report_inputs)
    # the old cells printed "agr 0.70 dis 0.10 dis 0.10 unr 0.10": two different labels both shown as "dis"
    assert not re.search(r"\b(agr|dis|unr|ent|neu|con)\b", page)
    assert "entailment 0.60 · neutral 0.30 · contradiction 0.10" in page
    assert "disagree 0.10, discuss 0.10" in page  # the other probabilities, in full words, on hover


def test_claims_sorted_by_coverage_contested_first():
    page = render_html(*_story())
    assert _rows(page) == ["k3", "k1", "k2", "k4"]  # 3 outlets; 2 (contested first); 2; 0
    assert "reported by 3 of 3 outlets" in page and "reported by 0 of 3 outlets" in page


def test_contested_list():
    page = render_html(*_story())
    contested = _card(page, "contested")
    assert "Contested (1)" in contested
    assert "Claim k1 about" in contested and "k2" not in contested and "k3" not in contested
    assert "✓ Outlet A</span> vs" in contested and "✗ Outlet B</span>" in contested
    assert page.count('class="tag contested-tag"') == 1


def test_omission_detected():
    page = render_html(*_story())
    omissions = _card(page, "omissions")
    assert "Omissions (1)" in omissions
    assert "Claim k2 about" in omissions and "left out by <b>Outlet C</b>" in omissions
    assert "k4" not in omissions  # nobody reports it: not an omission
    assert "k1" not in omissions  # no outlet leaves it out


def test_per_outlet_summary_counts():
    page = render_html(*_story())
    bars = page[page.index('<div class="bars">'):page.index('class="card contested"')]
    assert bars.count("<svg") == 3
    # Outlet C: k1 discuss, k2 unrelated, k3 agree, k4 unrelated
    c = bars[bars.index("Outlet C"):]
    assert re.search(r"1 agree</span> · <span[^>]*>0 disagree</span> · <span[^>]*>1 discuss</span> · "
                     r"<span[^>]*>2 leave out", c)


def test_evidence_is_shown_in_its_paragraph_with_the_sentence_highlighted():
    claims, articles, predictions = _story()
    page = render_html(claims, articles, predictions, sentences={a.article_id: _sentences(a.article_id)
                                                                 for a in articles})
    panel = _panel(page, "ev-0-0-0")  # first row (k3), first article
    assert f"<mark>{SENT_2A}</mark> {SENT_2B}</p>" in panel  # the sentence inside its paragraph
    assert f"<mark>{PARA_1}</mark></p>" in panel  # the other evidence sentence: a paragraph of its own
    assert "entailment 0.81 · neutral 0.12 · contradiction 0.07" in panel
    assert '<b class="dec">deciding</b> · entailment 0.81' in panel  # agree: the most entailing sentence
    assert 'href="https://news.example/a"' in panel and 'rel="noopener noreferrer"' in panel


def test_evidence_without_sentences_shows_the_sentence_alone():
    page = render_html(*_story())
    panel = _panel(page, "ev-0-0-0")
    assert re.search(rf'<p class="para"[^>]*><mark>{re.escape(SENT_2A)}</mark></p>', panel) and SENT_2B not in panel


def test_uncertain_cells_are_marked():
    claims, articles, predictions = _story(uncertain=("k3", "b"))
    page = render_html(claims, articles, predictions)
    cells = re.findall(r'<td class="c [^"]*unc"[^>]*><a class="lab" [^>]*title="([^"]*)"', page)
    assert len(cells) == 1 and cells[0].startswith("uncertain: agree, probability 0.55")
    assert page.count('<sup class="q"') >= 2  # the cell, and its evidence panel (the legend adds one more)


def test_unscored_cells_are_marked(report_inputs):
    claims, articles, predictions = report_inputs
    page = render_html(claims, articles, predictions[1:])
    assert page.count("not scored") == 1
    assert page.count('<div class="ev" id="ev-') == len(predictions) - 1


def test_story_index_only_for_several_events():
    one = _story("e1")
    two = _story("e2", suffix="x")
    events = [Event("e1", "Bridge opens", tuple(a.article_id for a in one[1]), ("Outlet A", "Outlet B", "Outlet C")),
              Event("e2", "Second & <story>", tuple(a.article_id for a in two[1]), ("Outlet A", "Outlet B"))]
    page = render_html(one[0] + two[0], one[1] + two[1], one[2] + two[2], events=events)
    index = page[page.index('<nav class="index'):page.index("</nav>")]
    assert 'href="#story-0">Bridge opens</a>' in index and 'href="#story-1">Second &amp; &lt;story&gt;</a>' in index
    assert "<td class='num'>4</td><td class='num'>1</td>" in index  # claims, contested
    assert page.count('<section class="story"') == 2 and 'id="story-1"' in page
    second = page[page.index('id="story-1"'):]
    head = second.split("<tbody>")[0]
    assert _rows(second) == ["k3x", "k1x", "k2x", "k4x"]
    assert '<span class="aid">ax</span>' in head and '<span class="aid">a</span>' not in head  # its own articles

    single = render_html(*one, events=events[:1])
    assert '<nav class="index' not in single and "<h2>Bridge opens</h2>" in single
    assert '<nav class="index' not in render_html(*one)


def test_report_is_self_contained_and_links_only_to_articles(report_inputs):
    claims, articles, predictions = _story()
    articles = [*articles[:2], Article("c", "Outlet C", STORY_TEXT, url="javascript:alert(1)")]
    page = render_html(claims, articles, predictions, sentences={a.article_id: _sentences(a.article_id)
                                                                 for a in articles})
    article_urls = {"https://news.example/a", "https://news.example/b"}
    for value in re.findall(r"""\b(?:src|href)\s*=\s*["']([^"']*)""", page, re.I):
        assert value.startswith(("#", "data:")) or value in article_urls, value
    assert set(re.findall(r"https?://[^\s\"'<>]+", page)) == article_urls
    assert "javascript:alert" not in page
    assert "<link rel='stylesheet'" not in page and "@import" not in page and "<iframe" not in page.lower()
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert page.startswith("<!doctype html>") and page.rstrip().endswith("</html>")
    assert page.count("<script>") == 1 and "<script src" not in page


def test_report_works_with_no_sentences_events_or_predictions(report_inputs):
    claims, articles, _ = report_inputs
    page = render_html(claims, articles, [])
    assert sorted(_rows(page)) == ["k001", "k002"] and page.count("not scored") == len(claims) * len(articles)
    assert "No stances scored." not in page  # outlets are known from the articles, with zero counts
    empty = render_html([], [], [])
    assert "No claims." in empty and "<table class=\"matrix\"" not in empty


def test_print_styles_show_everything_and_hide_the_controls():
    page = render_html(*_story())
    css = page[page.index("@media print"):]
    assert ".filters" in css.split("}")[0] and ".hide{display:table-row!important}" in css


def test_outlet_summary_figure():
    import matplotlib.pyplot as plt

    claims, _, predictions = _story()
    fig = outlet_summary_figure(claims, predictions)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Outlet A", "Outlet B", "Outlet C"]
    # the bars of each label, per outlet: A agrees with k1, k2, k3 and leaves out k4
    widths = [round(p.get_width()) for p in ax.patches]
    assert widths[:3] == [3, 2, 1] and sum(widths) == 12
    plt.close(fig)


def test_markdown_table():
    table = markdown_table(["name", "score", "n"], [["agree", 0.5, 3], ["discuss", 1 / 3, 0]])
    assert table.splitlines() == [
        "| name | score | n |",
        "|---|---|---|",
        "| agree | 0.5000 | 3 |",
        "| discuss | 0.3333 | 0 |",
    ]


def test_a_story_is_written_panel_by_panel_not_as_one_string(report_inputs):
    # a feed's largest story has tens of thousands of evidence panels: ReportWriter writes each piece as it is made
    import io

    from pipeline.stages.report import ReportWriter, split_stories

    claims, articles, predictions = report_inputs
    writes = []

    class Recorder(io.StringIO):
        def write(self, text):
            writes.append(len(text))
            return super().write(text)

    writer = ReportWriter(io.StringIO(), multi=False)
    writer.body.close()
    writer.body = Recorder()
    writer.add(split_stories(claims, articles, predictions, None))
    assert writer.body.getvalue().count('<div class="ev" id="ev-') == len(predictions)
    assert len(writes) >= len(predictions) + 2  # the section's head and tail, and one write per panel
    out = io.StringIO()
    writer.out = out
    writer.close()
    assert out.getvalue() == render_html(claims, articles, predictions)


def test_a_paragraph_is_written_once_per_story_and_referenced_after():
    """The story's 12 panels show the same two paragraphs: each is written once (with an id) and the other 22
    places refer to it (`data-same`), which the page's script fills when the panel opens; a second story writes
    its own copies, so each story's section (or page) stands alone."""
    claims, articles, predictions = _story()
    sentences = {a.article_id: _sentences(a.article_id) for a in articles}
    page = render_html(claims, articles, predictions, sentences=sentences)
    ids = re.findall(r'<p class="para" id="([^"]+)">', page)
    refs = re.findall(r'<p class="para" data-same="([^"]+)"></p>', page)
    assert len(ids) == 2 and len(refs) == 22 and set(refs) == set(ids)
    assert f'<p class="para" id="{ids[0]}"><mark>{SENT_2A}</mark> {SENT_2B}</p>' in page
    assert "function fill(panel)" in page
    one, two = _story("e1"), _story("e2", suffix="x")
    events = [Event("e1", "Bridge opens", ("a", "b", "c"), ("Outlet A", "Outlet B", "Outlet C")),
              Event("e2", "Bridge closes", ("ax", "bx", "cx"), ("Outlet A", "Outlet B", "Outlet C"))]
    both = render_html(one[0] + two[0], one[1] + two[1], one[2] + two[2], events=events,
                       sentences={a.article_id: _sentences(a.article_id) for a in one[1] + two[1]})
    first, second = both.split('<section class="story" id="story-1"')
    for n, section in enumerate((first, second)):
        assert len(re.findall(rf'<p class="para" id="ev-{n}-', section)) == 2
        assert {r.split("-")[1] for r in re.findall(r'data-same="([^"]+)"', section)} == {str(n)}
