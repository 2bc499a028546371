"""The report page: stories, summary, matrix and evidence panels as HTML (see the package docstring)."""

from __future__ import annotations

import html
import io
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from pipeline.core.records import (
    STANCE_DEFINITIONS,
    STANCE_LABELS,
    Article,
    CanonicalClaim,
    Event,
    Evidence,
    Sentence,
    StancePrediction,
)
from pipeline.stages.coverage import Coverage, claim_coverage, sort_claims
from pipeline.stages.report.assets import CSP, CSS, JS

COLOURS = {"agree": "#2e7d32", "disagree": "#c62828", "discuss": "#ef6c00", "unrelated": "#9e9e9e"}
SYMBOLS = {"agree": "✓", "disagree": "✗", "discuss": "~", "unrelated": "–"}
# what outlets do with claims, in the summary
SUMMARY_WORDS = {"agree": "agree", "disagree": "disagree", "discuss": "discuss", "unrelated": "leave out"}
LIST_LIMIT = 6  # contested / omission entries shown before "more"
LIST_TEXT = 150  # characters of a claim shown in those lists (all of it on hover)
PARAGRAPH_MAX = 520  # longer paragraphs are cut to this many characters around the evidence sentence


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def is_omission(cov: Coverage) -> bool:
    """Most outlets report the claim (at least 2, and at least half of the outlets scored) and one leaves it out."""
    return cov.coverage >= 2 and 2 * cov.coverage >= len(cov.outlets) and bool(cov.omitting)


def outlet_counts(coverage: dict[str, Coverage], outlets: Sequence[str] = ()) -> dict[str, Counter]:
    """outlet -> Counter of its label over the claims (one label per outlet and claim, as `claim_coverage` gives)."""
    counts: dict[str, Counter] = {o: Counter() for o in outlets}
    for cov in coverage.values():
        for outlet, label in cov.outlets.items():
            counts.setdefault(outlet, Counter())[label] += 1
    return counts


@dataclass
class Story:
    label: str
    claims: list[CanonicalClaim]
    articles: list[Article]
    predictions: list[StancePrediction]
    outlets: list[str]


def unique(items) -> list:
    """The items in order, each once."""
    return list(dict.fromkeys(items))


def _story(label: str, claims, articles, predictions, all_articles, outlets=()) -> Story:
    """A story's claims, its articles (plus any other article its claims were scored against) and predictions."""
    ids = {c.claim_id for c in claims}
    preds = [p for p in predictions if p.claim_id in ids]
    scored = {p.article_id for p in preds}
    have = {a.article_id for a in articles}
    arts = [*articles, *(a for a in all_articles if a.article_id in scored and a.article_id not in have)]
    return Story(label, list(claims), arts, preds, unique([*outlets, *(a.outlet for a in arts)]))


def split_stories(claims: Sequence[CanonicalClaim], articles: Sequence[Article],
                  predictions: Sequence[StancePrediction], events: Sequence[Event] | None) -> list[Story]:
    """One Story per event (in the given order) when there are several; else one story with everything."""
    if not events or len(events) <= 1:
        return [_story(events[0].label if events else "", claims, articles, predictions, articles)]
    stories = []
    for e in events:
        ids = set(e.article_ids)
        arts = [a for a in articles if a.article_id in ids or (a.event_id and a.event_id == e.event_id)]
        stories.append(_story(e.label, [c for c in claims if c.event_id == e.event_id], arts, predictions,
                              articles, e.outlets))
    known = {e.event_id for e in events}
    rest = [c for c in claims if c.event_id not in known]
    if rest:
        stories.append(_story("Other claims", rest, [], predictions, articles))
    return stories


# ---------------------------------------------------------------------------------------------------- summary


def _bar_svg(counts: Counter, total: int, width: int = 180, height: int = 14) -> str:
    parts, x = [], 0.0
    for label in STANCE_LABELS:
        n = counts.get(label, 0)
        if not n or not total:
            continue
        w = width * n / total
        parts.append(f'<rect x="{x:.1f}" y="0" width="{w:.1f}" height="{height}" fill="{COLOURS[label]}">'
                     f"<title>{SUMMARY_WORDS[label]}: {n}</title></rect>")
        x += w
    desc = ", ".join(f"{counts.get(k, 0)} {SUMMARY_WORDS[k]}" for k in STANCE_LABELS)
    return (f'<svg class="bar" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
            f'aria-label="{esc(desc)}"><rect width="{width}" height="{height}" fill="#f0f0f0"/>{"".join(parts)}</svg>')


def _outlet_bars(story: Story, coverage: dict[str, Coverage]) -> str:
    counts = outlet_counts(coverage, story.outlets)
    rows = []
    for outlet, c in counts.items():
        total = sum(c.values())
        nums = " · ".join(f'<span class="n-{k}">{c.get(k, 0)} {SUMMARY_WORDS[k]}</span>' for k in STANCE_LABELS)
        rows.append(f'<div class="oname" title="{esc(outlet)}">{esc(outlet)}</div>'
                    f'<div>{_bar_svg(c, total)}<div class="nums">{nums}</div></div>')
    if not rows:
        return '<p class="muted">No stances scored.</p>'
    return f'<div class="bars">{"".join(rows)}</div>'


def _claim_link(rid: str, claim: CanonicalClaim) -> str:
    return (f'<a href="#{rid}" title="{esc(claim.text)}"><span class="cid">{esc(claim.claim_id)}</span> '
            f"{esc(_short(claim.text, LIST_TEXT))}</a>")


def _limited(items: list[str]) -> str:
    if not items:
        return '<p class="muted">None.</p>'
    head = "".join(f"<li>{x}</li>" for x in items[:LIST_LIMIT])
    more = items[LIST_LIMIT:]
    tail = (f'<details class="more"><summary>{len(more)} more</summary><ul>'
            f'{"".join(f"<li>{x}</li>" for x in more)}</ul></details>') if more else ""
    return f"<ul>{head}</ul>{tail}"


def _summary(story: Story, coverage: dict[str, Coverage], ordered: list[CanonicalClaim],
             row_ids: dict[str, str]) -> str:
    contested = []
    for c in ordered:
        cov = coverage[c.claim_id]
        if cov.contested:
            pro = [o for o, lab in cov.outlets.items() if lab == "agree"]
            con = [o for o, lab in cov.outlets.items() if lab == "disagree"]
            contested.append(f'{_claim_link(row_ids[c.claim_id], c)}<div class="who"><span class="t-agree">'
                             f'{SYMBOLS["agree"]} {esc(", ".join(pro))}</span> vs <span class="t-disagree">'
                             f'{SYMBOLS["disagree"]} {esc(", ".join(con))}</span></div>')
    omissions = []
    for c in ordered:
        cov = coverage[c.claim_id]
        if is_omission(cov):
            omissions.append(f'{_claim_link(row_ids[c.claim_id], c)}<div class="who">left out by '
                             f'<b>{esc(", ".join(cov.omitting))}</b>; reported by {cov.coverage} of '
                             f"{len(cov.outlets)} outlets</div>")
    return ('<div class="summary">'
            '<div class="card"><h3>Per outlet</h3><p class="hint">claims it agrees with, disagrees with, discusses, '
            f'leaves out</p>{_outlet_bars(story, coverage)}</div>'
            f'<div class="card contested"><h3>Contested ({len(contested)})</h3>'
            '<p class="hint">some outlet agrees, another disagrees</p>'
            f"{_limited(contested)}</div>"
            f'<div class="card omissions"><h3>Omissions ({len(omissions)})</h3>'
            '<p class="hint">most outlets report it, one leaves it out</p>'
            f"{_limited(omissions)}</div></div>")


# ---------------------------------------------------------------------------------------------------- evidence


def _paragraph(article: Article | None, sentence: Sentence | None, fallback: str) -> str:
    """The evidence sentence inside its paragraph (the article line holding it), the sentence in <mark>: the
    content of a `<p class="para">` (`_shared`)."""
    if article is None or sentence is None or article.text[sentence.start:sentence.end].strip() == "":
        return f"<mark>{esc(fallback)}</mark>"
    text = article.text
    start, end = sentence.start, sentence.end
    p0 = text.rfind("\n", 0, start) + 1
    p1 = text.find("\n", end)
    p1 = len(text) if p1 < 0 else p1
    before, after = text[p0:start], text[end:p1]
    room = max(PARAGRAPH_MAX - (end - start), 0) // 2
    if len(before) > room:
        cut = before[-room:] if room else ""
        before = "…" + (cut[cut.find(" ") + 1:] if " " in cut else cut)
    if len(after) > room:
        cut = after[:room]
        after = (cut[:cut.rfind(" ")] if " " in cut else cut) + "…"
    return f"{esc(before)}<mark>{esc(text[start:end])}</mark>{esc(after)}"


def _deciding(pred: StancePrediction) -> int | None:
    """The evidence sentence that carries the label: most entailing for agree, most contradicting for disagree."""
    if not pred.evidence or pred.label not in ("agree", "disagree"):
        return None
    key = (lambda e: e.entailment) if pred.label == "agree" else (lambda e: e.contradiction)
    return max(range(len(pred.evidence)), key=lambda i: key(pred.evidence[i]))


def _safe_url(url: str) -> str:
    url = (url or "").strip()
    return url if url.lower().startswith(("http://", "https://")) else ""


def _probs(pred: StancePrediction) -> str:
    return " · ".join(f"{k} {pred.scores.get(k, 0.0):.2f}" for k in STANCE_LABELS if k in pred.scores)


def _chip(label: str, uncertain: bool = False) -> str:
    mark = '<sup class="q" aria-hidden="true">?</sup>' if uncertain else ""
    return f'<span class="chip {label}{" unc" if uncertain else ""}">{SYMBOLS[label]} {label}{mark}</span>'


def _shared(para: str, pid: str, seen: dict[str, str] | None) -> str:
    """The `<p class="para">` of a paragraph's HTML `para`. One the story's panels already hold (`seen`: its HTML ->
    the id of its first copy) is an empty `<p class="para" data-same="<id>">` that the page's script fills when its
    panel opens; a new one gets the id `pid`. The largest FNC-1 story's 35,979 panels hold 174,525 paragraphs, 877 of
    them different: 60 of its 113 MB."""
    if seen is None:
        return f'<p class="para">{para}</p>'
    if para in seen:
        return f'<p class="para" data-same="{seen[para]}"></p>'
    seen[para] = pid
    return f'<p class="para" id="{pid}">{para}</p>'


def _evidence_panel(ev_id: str, claim: CanonicalClaim, article: Article, pred: StancePrediction,
                    sentences: dict[int, Sentence] | None, seen: dict[str, str] | None = None) -> str:
    prob = pred.scores.get(pred.label, 0.0)
    deciding = _deciding(pred)
    items = []
    for i, e in enumerate(pred.evidence):
        sent = sentences.get(e.sentence_index) if sentences else None
        if sent is not None and sent.text.strip() != e.sentence.strip():
            sent = None  # offsets from another segmentation: show the sentence alone
        tag = '<b class="dec">deciding</b> · ' if i == deciding else ""
        para = _shared(_paragraph(article, sent, e.sentence), f"{ev_id}-p{i}", seen)
        items.append(f'<li{" class=dec-li" if i == deciding else ""}>{para}'
                     f'<p class="nli">{tag}{_nli(e)}</p></li>')
    url = _safe_url(article.url)
    link = (f'<p><a class="src" href="{esc(url)}" target="_blank" rel="noopener noreferrer">Open the article'
            f"{(': ' + esc(article.title)) if article.title else ''} ↗</a></p>") if url else ""
    where = esc(article.outlet) + (f' <span class="muted">({esc(article.article_id)})</span>'
                                   if article.outlet != article.article_id else "")
    title = f'<p class="muted">{esc(article.title)}</p>' if article.title and not url else ""
    evidence = f'<ol class="evl">{"".join(items)}</ol>' if items else '<p class="muted">No evidence sentences.</p>'
    unc = (' <span class="muted">(uncertain: below the confidence threshold)</span>' if pred.uncertain else "")
    return (f'<div class="ev" id="{ev_id}" role="dialog" aria-label="Evidence">'
            '<a class="close" href="#_" data-close title="Close (Esc)">×</a>'
            f'<p class="evclaim"><span class="cid">{esc(claim.claim_id)}</span> {esc(claim.text)}</p>'
            f"<p><b>{where}</b>: {_chip(pred.label, pred.uncertain)} probability {prob:.2f}{unc}</p>"
            f'<p class="probs">{_probs(pred)}</p>{title}{link}'
            f"<h4>Evidence sentences</h4>{evidence}</div>")


def _nli(e: Evidence) -> str:
    return (f"entailment {e.entailment:.2f} · neutral {e.neutral:.2f} · contradiction {e.contradiction:.2f}"
            f' <span class="muted">· similarity {e.similarity:.2f}</span>')


# ---------------------------------------------------------------------------------------------------- matrix


def _cell(pred: StancePrediction | None, article: Article, ev_id: str) -> str:
    outlet = f'data-outlet="{esc(article.outlet)}" data-article="{esc(article.article_id)}"'
    if pred is None:
        return f'<td class="c none" {outlet} data-label=""><span class="lab">not scored</span></td>'
    prob = pred.scores.get(pred.label, 0.0)
    others = ", ".join(f"{k} {v:.2f}" for k, v in pred.scores.items() if k != pred.label)
    hover = (f"{'uncertain: ' if pred.uncertain else ''}{pred.label}, probability {prob:.2f} ({others}); "
             f"{article.outlet}; click for the evidence")
    mark = '<sup class="q" aria-hidden="true">?</sup>' if pred.uncertain else ""
    return (f'<td class="c {pred.label}{" unc" if pred.uncertain else ""}" {outlet} '
            f'data-label="{pred.label}"><a class="lab" href="#{ev_id}" data-ev="{ev_id}" title="{esc(hover)}">'
            f"{SYMBOLS[pred.label]} {pred.label}{mark}</a></td>")


def _head(article: Article) -> str:
    hover = " · ".join(x for x in (article.title, article.article_id, article.published,
                                   f"same text as {article.duplicate_of}" if article.duplicate_of else "") if x)
    name, aid = article.outlet, article.article_id
    sub = "" if aid == name else f'<span class="aid">{esc(_short(aid, 11))}</span>'
    shown = _short(name, 10 if name == aid else 28)
    return f'<th class="col" data-outlet="{esc(name)}" title="{esc(hover)}">{esc(shown)}{sub}</th>'


def _short(text: str, n: int = 14) -> str:
    return text if len(text) <= n else text[:n - 1] + "…"


def _story_parts(s: int, story: Story, sentences: dict[str, list[Sentence]] | None, multi: bool,
                 up: str = "#stories") -> Iterator[str]:
    """One story's section in pieces: the heading, summary and matrix, then each cell's evidence panel on its own.
    A feed's largest story has tens of thousands of panels (about 4 kB each); written one by one they never sit in
    memory together, where building the section as one string held them three times over."""
    coverage = claim_coverage(story.claims, story.predictions)
    ordered = sort_claims(story.claims, coverage)
    row_ids = {c.claim_id: f"claim-{s}-{i}" for i, c in enumerate(ordered)}
    by_pair = {(p.claim_id, p.article_id): p for p in story.predictions}
    rows = []
    n_outlets = len(story.outlets)
    for i, c in enumerate(ordered):
        cov = coverage[c.claim_id]
        cells = [_cell(by_pair.get((c.claim_id, a.article_id)), a, f"ev-{s}-{i}-{j}")
                 for j, a in enumerate(story.articles)]
        sources = ", ".join(unique(sorted(x.outlet for x in c.sources)))
        tags = [f"reported by {cov.coverage} of {len(cov.outlets) or n_outlets} outlets"]
        if cov.contested:
            tags.append('<span class="tag contested-tag">contested</span>')
        if is_omission(cov):
            tags.append(f'<span class="tag omission-tag">left out by {esc(", ".join(cov.omitting))}</span>')
        if sources:
            tags.append(f"from: {esc(sources)}")
        rows.append(f'<tr id="{row_ids[c.claim_id]}" data-contested="{int(cov.contested)}" '
                    f'data-coverage="{cov.coverage}"><td class="claim"><span class="cid">{esc(c.claim_id)}</span> '
                    f'<span class="ctext">{esc(c.text)}</span><div class="cmeta">{" · ".join(tags)}</div></td>'
                    f'{"".join(cells)}</tr>')
    n_contested = sum(cov.contested for cov in coverage.values())
    back = f'<a class="up" href="{esc(up)}">↑ all stories</a>' if multi else ""
    heading = f"<h2>{esc(story.label or (f'Story {s + 1}' if multi else 'Summary'))}{back}</h2>"
    facts = (f'<p class="muted">{len(story.articles)} articles from {n_outlets} outlets · {len(ordered)} claims · '
             f"{n_contested} contested</p>")
    table = (f'<h3 class="mh">Claims × articles <span class="count" aria-live="polite">{len(ordered)} of '
             f'{len(ordered)} claims shown</span></h3>'
             '<div class="mwrap"><table class="matrix"><thead><tr><th class="claim">claim</th>'
             f'{"".join(map(_head, story.articles))}'
             f'</tr></thead><tbody>{"".join(rows)}</tbody></table></div>' if ordered
             else '<p class="muted">No claims.</p>')
    summary = _summary(story, coverage, ordered, row_ids)
    yield f'<section class="story" id="story-{s}">{heading}{facts}{summary}{table}<div class="evstore">'
    del rows, table, summary  # written: the matrix is not held while the panels are made
    sentences = sentences or {}
    by_index = {a.article_id: {x.index: x for x in sentences[a.article_id]} for a in story.articles
                if a.article_id in sentences}  # this story's articles only, not the whole feed's
    seen: dict[str, str] = {}  # each paragraph is written once per story (`_shared`)
    for i, c in enumerate(ordered):
        for j, a in enumerate(story.articles):
            pred = by_pair.get((c.claim_id, a.article_id))
            if pred is not None:
                yield _evidence_panel(f"ev-{s}-{i}-{j}", c, a, pred, by_index.get(a.article_id), seen)
    yield "</div></section>"


def _index_row(s: int, story: Story, href: str) -> str:
    coverage = claim_coverage(story.claims, story.predictions)
    return (f'<tr><td><a href="{esc(href)}">{esc(story.label or f"story {s + 1}")}</a></td>'
            f"<td>{esc(', '.join(story.outlets))}</td><td class='num'>{len(story.claims)}</td>"
            f"<td class='num'>{sum(c.contested for c in coverage.values())}</td></tr>")


def _index(rows: Sequence[str]) -> str:
    return ('<nav class="index card" id="stories" aria-label="Stories"><h2>Stories</h2><table><thead><tr>'
            '<th>story</th><th>outlets</th><th class="num">claims</th><th class="num">contested</th></tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></nav>')


def _filters(outlets: list[str]) -> str:
    labels = "".join(f'<option value="{k}">{SYMBOLS[k]} {k}</option>' for k in STANCE_LABELS)
    opts = "".join(f'<option value="{esc(o)}">{esc(o)}</option>' for o in outlets)
    return ('<form class="filters" role="search">'
            '<label>label <select id="f-label"><option value="">any</option>'
            f'{labels}<option value="uncertain">? uncertain</option></select></label>'
            f'<label>outlet <select id="f-outlet"><option value="">all</option>{opts}</select></label>'
            '<label><input type="checkbox" id="f-contested"> contested only</label>'
            '<label class="grow">search <input type="search" id="f-q" placeholder="words in the claim"></label>'
            '<button type="reset" id="f-reset">clear</button></form>')


def _legend() -> str:
    chips = " ".join(_chip(k) for k in STANCE_LABELS) + " " + _chip("agree", True)
    defs = "".join(f"<li>{_chip(k)} {esc(STANCE_DEFINITIONS[k])}</li>" for k in STANCE_LABELS)
    return (f'<details class="legend"><summary>{chips} <span class="muted">(dashed, ?: uncertain, probability '
            'below the threshold) · what the labels mean</span></summary>'
            f'<ul>{defs}<li>A claim is <b>reported</b> by an outlet that agrees with it or discusses it; an '
            "outlet with several articles counts once, with its strongest label. Click a cell for its evidence."
            "</li></ul></details>")


_TAIL = f"</main><script>{JS}</script></body></html>\n"  # every page ends so: the script after the content


class ReportWriter:
    """report.html written story by story, so that a feed's report never sits in memory whole: each story's section
    goes to a scratch file as it is added (`add`), and `close` writes the page head, the story index (with more
    than one story: `multi`) and the filters to `out`, then the sections after them.

    With `pages` (a directory, for a feed's hundreds of stories), each story is instead a page of its own,
    `<pages>/story-<n>.html` (the same head, legend, filters and script), and `out` holds the header and the story
    index linking to them: a browser opens the index at once and one story's matrix at a time, where one page with
    every story's evidence panels runs to hundreds of MB."""

    def __init__(self, out: TextIO, title: str = "Claim stance report", meta: dict | None = None, *, multi: bool,
                 pages: Path | None = None, index_name: str = "report.html"):
        self.out, self.title, self.meta, self.multi, self.pages = out, title, meta or {}, multi, pages
        self.index_name = index_name  # the index page's file name, beside `pages`: the story pages link back to it
        self.body = None if pages else tempfile.TemporaryFile("w+", encoding="utf-8")
        self.index_rows: list[str] = []
        self.outlets: list[str] = []

    def add(self, stories: Sequence[Story], sentences: dict[str, list[Sentence]] | None = None) -> None:
        for story in stories:
            s = len(self.index_rows)
            if self.pages is None:
                self.body.writelines(_story_parts(s, story, sentences, self.multi))
                href = f"#story-{s}"
            else:
                name = f"story-{s + 1}.html"
                with open(self.pages / name, "w", encoding="utf-8") as page:
                    page.write(self._head(f"{story.label or f'Story {s + 1}'} · {self.title}",
                                          after=_filters(story.outlets)))
                    page.writelines(_story_parts(s, story, sentences, True, f"../{self.index_name}#stories"))
                    page.write(_TAIL)
                href = f"{self.pages.name}/{name}"
            self.index_rows.append(_index_row(s, story, href))
            self.outlets = unique([*self.outlets, *story.outlets])

    def _head(self, title: str, after: str = "") -> str:
        """A page's head and header (title, run facts, the legend), then `after`."""
        meta_html = " · ".join(f"{esc(k)}: {esc(v)}" for k, v in self.meta.items())
        return ("<!doctype html><html lang='en'><head><meta charset='utf-8'>"
                "<meta name='viewport' content='width=device-width, initial-scale=1'>"
                f"<meta http-equiv='Content-Security-Policy' content=\"{CSP}\">"
                f"<title>{esc(title)}</title><link rel='icon' href='data:,'><style>{CSS}</style></head>"
                f"<body><main><header><h1>{esc(title)}</h1><p class='muted'>{meta_html}</p>{_legend()}"
                f"</header>{after}")

    def close(self) -> None:
        if self.pages is not None:  # the index page: no matrix here, so no filters
            self.out.write(self._head(self.title, after=_index(self.index_rows)) + _TAIL)
            return
        self.out.write(self._head(self.title, after=(_index(self.index_rows) if self.multi else "")
                                  + _filters(self.outlets)))
        self.body.seek(0)
        shutil.copyfileobj(self.body, self.out)
        self.body.close()
        self.out.write(_TAIL)


def render_html(claims: Sequence[CanonicalClaim], articles: Sequence[Article],
                predictions: Sequence[StancePrediction], title: str = "Claim stance report",
                meta: dict | None = None, *, sentences: dict[str, list[Sentence]] | None = None,
                events: Sequence[Event] | None = None) -> str:
    """The report page (see the package docstring) as one string. `sentences` (article id -> its sentences) puts
    each evidence sentence in its paragraph; `events` with more than one story adds a story index and one section
    per story. For a large run, `ReportWriter` writes the same page story by story."""
    stories = split_stories(claims, articles, predictions, list(events) if events else None)
    out = io.StringIO()
    writer = ReportWriter(out, title, meta, multi=len(stories) > 1)
    writer.add(stories, sentences)
    writer.close()
    return out.getvalue()
