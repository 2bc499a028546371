"""ingest.py: normalisation, boilerplate removal, directory/JSONL loading and claims files."""

from __future__ import annotations

import json

import pytest
from conftest import SEEDS

from pipeline.core.records import PipelineError
from pipeline.stages.ingest import clean_article, load_articles, load_claims, normalise

BODY_1 = (
    "The mayor opened the new bridge on Monday after three years of construction delays, telling a crowd "
    "of several hundred residents that the wait had been worth it."
)
BODY_2 = (
    "Officials said the bridge cost $4 million, about a third more than the council had budgeted when the "
    "project was first approved in 2019, according to city records."
)
BODY_3 = (
    "Critics say the project ran over budget because the council changed contractors twice, and they have "
    "asked the regional auditor to review every payment made since 2020."
)


@pytest.fixture
def ingest_cfg(cfg_factory):
    return cfg_factory().ingest


def _jsonl(path, rows: list) -> None:
    path.write_text(
        "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8"
    )


# ---- normalise ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("\u201cHi,\u201d she said \u2014 it\u2019s fine.", '"Hi," she said \u2014 it\'s fine.'),
        ("\u2018single\u2019 and \u00abguillemets\u00bb", "'single' and \"guillemets\""),
        ("cost\u00a0$4\u202fmillion\u200b", "cost $4 million"),
        ("bell\x07 and\x00 null\x1b", "bell and null"),
        ("  lots \t\t of   space  \r\n second\rthird  ", "lots of space\nsecond\nthird"),
        ("Cafe\u0301", "Caf\u00e9"),  # NFC
    ],
    ids=["curly-double", "curly-single", "nbsp-zero-width", "control", "whitespace", "nfc"],
)
def test_normalise(raw, expected):
    assert normalise(raw) == expected


# ---- clean_article -----------------------------------------------------------------------------------------

RAW_ARTICLE = f"""ADVERTISEMENT

Bridge Opens After Years of Delay
The mayor's big day, in pictures.
Mayor Jane Doe at the ceremony.

(Bloomberg) -- {BODY_1}

Residents cross the bridge.(Photographer: John Smith/Daily One)

Sign up for our daily newsletter to get the news delivered to your inbox.

{BODY_2}

Photo: Jane Roe for Daily One

To contact the reporter on this story: Jane Roe in Springfield at jroe3@dailyone.example.

{BODY_3}

\u00a92024 Daily One Media L.P. All rights reserved.

More stories
-
Rain expected across the region this weekend
-
Local bakery wins national award for its sourdough
"""


def test_clean_article_keeps_only_body_paragraphs():
    cleaned = clean_article(RAW_ARTICLE)
    assert cleaned.text == "\n".join([BODY_1, BODY_2, BODY_3])


def test_clean_article_records_what_it_removed():
    removed = clean_article(RAW_ARTICLE).removed
    by_kind: dict[str, list[str]] = {}
    for kind, line in removed:
        by_kind.setdefault(kind, []).append(line)

    assert by_kind["ad"] == ["ADVERTISEMENT"]
    assert by_kind["headline"] == [
        "Bridge Opens After Years of Delay",
        "The mayor's big day, in pictures.",
        "Mayor Jane Doe at the ceremony.",
    ]
    assert len(by_kind["photo_credit"]) == 2
    assert by_kind["newsletter_promo"] == [
        "Sign up for our daily newsletter to get the news delivered to your inbox."
    ]
    assert len(by_kind["contact"]) == 1 and "jroe3@" in by_kind["contact"][0]
    assert by_kind["copyright"][0].startswith("\u00a92024")
    assert by_kind["navigation"] == ["More stories"]
    assert by_kind["more_stories"][0] == "-"
    assert "Local bakery wins national award for its sourdough" in by_kind["more_stories"]


@pytest.mark.parametrize("dateline", ["(Bloomberg) -- ", "WASHINGTON (Reuters) - ", "LONDON (AP) \u2014 "])
def test_clean_article_strips_wire_datelines(dateline):
    assert clean_article(f"{dateline}{BODY_1}\n{BODY_2}").text == f"{BODY_1}\n{BODY_2}"


def test_clean_article_keeps_short_lines_after_the_body():
    text = f"{BODY_1}\nShe said the opening was overdue.\n{BODY_2}"
    assert clean_article(text).text == text


def test_clean_article_without_boilerplate_removal_only_normalises():
    cleaned = clean_article("ADVERTISEMENT\n\n\n\u201cQuote\u201d here.", boilerplate=False)
    assert cleaned.text == 'ADVERTISEMENT\n"Quote" here.'
    assert cleaned.removed == []


@pytest.mark.parametrize(
    "paragraph",
    [
        "The newspaper said its subscription revenue rose 12 percent last year, helping offset a steep "
        "fall in print advertising across its regional titles.",
        "Substack, which hosts paid newsletters for thousands of independent writers, said on Tuesday "
        "that it had passed three million paying readers.",
    ],
    ids=["subscription", "newsletters"],
)
def test_clean_article_keeps_body_paragraphs_that_mention_subscriptions(paragraph):
    # BUG: the newsletter_promo patterns (r"\bsubscri(be|ption)\b", r"\bnewsletters?\b") are searched
    # anywhere in a line of any length, so news paragraphs about subscriptions or newsletters are silently
    # dropped.
    text = f"{BODY_1}\n{paragraph}\n{BODY_2}"
    assert clean_article(text).text == text


# ---- load_articles: the seed directory ---------------------------------------------------------------------


def test_seed_articles_lose_their_boilerplate(ingest_cfg):
    articles, notes = load_articles(SEEDS, ingest_cfg)

    assert [a.article_id for a in articles] == sorted(p.stem for p in SEEDS.glob("*.txt"))
    for article in articles:
        for junk in (
            "Epstein",
            "newsletter",
            "Newsletter",
            "\u00a9",
            "awayne3@",
            "ADVERTISEMENT",
            "(Bloomberg) --",
        ):
            assert junk not in article.text, (article.article_id, junk)
        assert article.text.strip()
    bloomberg = next(a for a in articles if a.article_id.startswith("002"))
    assert bloomberg.text.startswith("President Donald Trump accused Russia in unusually harsh terms")
    assert "ad: ADVERTISEMENT" in notes["boilerplate"][bloomberg.article_id]
    assert notes["duplicates"] == []


def test_seed_outlets_come_from_outlets_csv(ingest_cfg):
    articles, _ = load_articles(SEEDS, ingest_cfg)
    outlets = {a.article_id[:3]: a.outlet for a in articles}

    assert outlets["002"] == "Bloomberg"
    assert outlets["003"] == "The Week"
    assert outlets["004"] == "Inquisitr"
    for article in articles:
        if article.article_id[:3] in ("000", "001"):  # blank in outlets.csv
            assert article.outlet == article.article_id


def test_directory_with_html_and_blank_outlet(tmp_path, ingest_cfg):
    (tmp_path / "b.html").write_text(
        f"<!doctype html><html><head><title>t</title><script>var tracker = 1;</script></head><body>"
        f"<nav>Home | World</nav><p>{BODY_1}</p><p>{BODY_2}</p></body></html>",
        encoding="utf-8",
    )
    (tmp_path / "a.txt").write_text(f"{BODY_3}\n", encoding="utf-8")
    (tmp_path / "outlets.csv").write_text("file,outlet\na.txt,Daily One\nb.html,\n", encoding="utf-8")

    articles, _ = load_articles(tmp_path, ingest_cfg)

    assert [(a.article_id, a.outlet) for a in articles] == [("a", "Daily One"), ("b", "b")]
    assert articles[1].text == f"{BODY_1}\n{BODY_2}"


# ---- load_articles: JSONL ----------------------------------------------------------------------------------


def test_jsonl_valid_lines_load_with_metadata(tmp_path, ingest_cfg):
    path = tmp_path / "in.jsonl"
    _jsonl(
        path,
        [
            {
                "id": "b",
                "text": BODY_2,
                "outlet": "Evening Two",
                "title": "Bridge cost",
                "url": "u2",
                "published": "2024",
            },
            {"id": 7, "text": BODY_1},
        ],
    )

    articles, notes = load_articles(path, ingest_cfg)

    assert [a.article_id for a in articles] == ["7", "b"]
    assert articles[0].outlet == "7"  # no outlet: the article id stands in
    assert articles[0].text == BODY_1
    b = articles[1]
    assert (b.outlet, b.title, b.url, b.published, b.text) == (
        "Evening Two",
        "Bridge cost",
        "u2",
        "2024",
        BODY_2,
    )
    assert b.source_path.endswith("in.jsonl:1")
    assert notes["skipped_lines"] == []


def _malformed(path) -> None:
    _jsonl(
        path,
        [
            {"id": "a", "text": BODY_1},
            '{"id": "b", "text": ',  # truncated JSON
            {"id": "c", "text": BODY_2},
            {"id": "d"},  # no text
            '["not", "an", "object"]',
            {"id": "e", "text": BODY_3},
        ],
    )


def test_jsonl_malformed_lines_are_skipped_and_recorded(tmp_path, ingest_cfg):
    path = tmp_path / "in.jsonl"
    _malformed(path)

    articles, notes = load_articles(path, ingest_cfg)

    assert [a.article_id for a in articles] == ["a", "c", "e"]
    assert [entry.split()[0] for entry in notes["skipped_lines"]] == ["2", "4", "5"]


def test_jsonl_malformed_line_is_an_error_when_strict(tmp_path, ingest_cfg):
    path = tmp_path / "in.jsonl"
    _malformed(path)
    with pytest.raises(PipelineError, match="line 2"):
        load_articles(path, ingest_cfg, strict=True)


def test_jsonl_identical_texts_are_kept_and_marked_as_copies(tmp_path, ingest_cfg):
    path = tmp_path / "in.jsonl"
    _jsonl(
        path,
        [
            {"id": "b", "text": BODY_1},
            {"id": "a", "text": BODY_2},
            {"id": "c", "text": BODY_1 + "\n\n"},  # the same text once cleaned
            {"id": "d", "text": BODY_1.upper()},  # not the same text: a near-duplicate, kept as its own article
        ],
    )

    articles, notes = load_articles(path, ingest_cfg)

    assert [(a.article_id, a.duplicate_of) for a in articles] == [("a", ""), ("b", ""), ("c", "b"), ("d", "")]
    assert notes["duplicates"] == [{"scored_as": "b", "articles": ["b", "c"]}]


def test_jsonl_duplicate_id_is_an_error(tmp_path, ingest_cfg):
    path = tmp_path / "in.jsonl"
    _jsonl(path, [{"id": "a", "text": BODY_1}, {"id": "a", "text": BODY_2}])
    with pytest.raises(PipelineError, match="line 2"):
        load_articles(path, ingest_cfg)


def test_jsonl_html_text_is_converted(tmp_path, ingest_cfg):
    path = tmp_path / "in.jsonl"
    html = (
        f"<html><body><div><p>{BODY_1}</p><p>{BODY_2}</p></div><script>var tracker = 1;</script>"
        "<footer>About us</footer></body></html>"
    )
    _jsonl(path, [{"id": "a", "text": html}])

    (article,), _ = load_articles(path, ingest_cfg)

    assert article.text == f"{BODY_1}\n{BODY_2}"


def test_html_inline_markup_does_not_split_or_drop_a_paragraph(tmp_path, ingest_cfg):
    # BUG: html_to_text joins every text node with "\n", so <b>/<a> inside a <p> break the paragraph into
    # short lines, which the header rule then drops: the first paragraph below disappears completely.
    path = tmp_path / "in.jsonl"
    html = (
        "<html><body><p>The mayor <b>did not</b> open the new bridge on Monday, officials said, and the "
        "council will meet again next week to <a href='/x'>discuss the delay</a> and its cost.</p>"
        f"<p>{BODY_2}</p></body></html>"
    )
    _jsonl(path, [{"id": "a", "text": html}])

    (article,), _ = load_articles(path, ingest_cfg)

    assert "The mayor did not open the new bridge on Monday" in article.text


def test_jsonl_with_utf8_bom_loads_its_first_line(tmp_path, ingest_cfg):
    # BUG: iter_jsonl opens with encoding="utf-8", so a BOM (Windows editors) makes line 1 "malformed" and the
    # first article is silently skipped. read_text and read_table use utf-8-sig.
    path = tmp_path / "in.jsonl"
    path.write_bytes(
        (
            "\ufeff"
            + json.dumps({"id": "a", "text": BODY_1})
            + "\n"
            + json.dumps({"id": "b", "text": BODY_2})
            + "\n"
        ).encode("utf-8")
    )

    articles, notes = load_articles(path, ingest_cfg)

    assert [a.article_id for a in articles] == ["a", "b"]
    assert notes["skipped_lines"] == []


def test_jsonl_not_utf8_is_a_pipeline_error_or_decoded(tmp_path, ingest_cfg):
    # BUG: a cp1252 JSONL raises a raw UnicodeDecodeError (a traceback) instead of a one-line PipelineError.
    path = tmp_path / "in.jsonl"
    path.write_bytes(
        (json.dumps({"id": "a", "text": "Le caf\u00e9 " + BODY_1}, ensure_ascii=False) + "\n").encode(
            "cp1252"
        )
    )
    try:
        articles, _ = load_articles(path, ingest_cfg)
    except PipelineError as err:
        assert str(path) in str(err)
    else:
        assert articles[0].text.startswith("Le caf\u00e9 ")


@pytest.mark.parametrize(
    ("content", "problem"),
    [("", "empty"), ("not json\n[1]\n", "no valid article lines")],
    ids=["empty", "no-valid-lines"],
)
def test_jsonl_without_articles_is_an_error(tmp_path, ingest_cfg, content, problem):
    path = tmp_path / "in.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(PipelineError, match=problem) as err:
        load_articles(path, ingest_cfg)
    assert err.value.path == str(path)


@pytest.mark.parametrize("name", ["missing.jsonl", "in.csv"])
def test_load_articles_rejects_bad_inputs(tmp_path, ingest_cfg, name):
    path = tmp_path / name
    if name.endswith(".csv"):
        path.write_text("id,text\n", encoding="utf-8")
    with pytest.raises(PipelineError) as err:
        load_articles(path, ingest_cfg)
    assert err.value.path == str(path)


# ---- load_claims -------------------------------------------------------------------------------------------


def test_load_claims_parses_ids_texts_and_article_lists(tmp_path):
    path = tmp_path / "claims.jsonl"
    _jsonl(
        path,
        [
            {"id": "c1", "text": "  \u201cRussia\u201d is not helping\u00a0us. ", "articles": ["a1", 2]},
            {"text": "The bridge cost $4 million."},
        ],
    )

    claims = load_claims(path, ["a1", "2", "a3"])

    assert [(c.claim_id, c.text, c.article_ids) for c in claims] == [
        ("c1", '"Russia" is not helping us.', ("a1", "2")),
        ("line2", "The bridge cost $4 million.", None),
    ]


def test_load_claims_missing_text_names_the_line(tmp_path):
    path = tmp_path / "claims.jsonl"
    _jsonl(path, [{"id": "c1", "text": "The bridge opened."}, {"id": "c2", "articles": ["a1"]}])
    with pytest.raises(PipelineError, match="line 2") as err:
        load_claims(path, ["a1"])
    assert "text" in err.value.problem
    assert err.value.path == str(path)


def test_load_claims_unknown_article_id(tmp_path):
    path = tmp_path / "claims.jsonl"
    _jsonl(path, [{"id": "c1", "text": "The bridge opened.", "articles": ["a1", "zz9"]}])
    with pytest.raises(PipelineError, match="zz9") as err:
        load_claims(path, ["a1", "a2"])
    assert "line 1" in err.value.problem


@pytest.mark.parametrize(
    "rows",
    [
        [{"id": "c1", "text": "The bridge opened.", "articles": "a1"}],
        [{"id": "c1", "text": "The bridge opened."}, {"id": "c1", "text": "The bridge closed."}],
        ['{"id": "c1", "text": '],
    ],
    ids=["articles-not-a-list", "duplicate-id", "malformed"],
)
def test_load_claims_rejects_bad_lines(tmp_path, rows):
    path = tmp_path / "claims.jsonl"
    _jsonl(path, rows)
    with pytest.raises(PipelineError, match=r"line \d"):
        load_claims(path, ["a1"])
