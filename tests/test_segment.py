"""segment.py: sentence offsets for both splitters, glued sentences, the claim filter and claim ids."""

from __future__ import annotations

import pytest

from pipeline.core.records import Article, PipelineError
from pipeline.stages.segment import SPLITTERS, claim_filter_reason, extract_claims, split_sentences

TEXT = (
    "The mayor opened the bridge on Monday. Officials said it cost $4 million.\n"
    "\n"
    '"Russia is making up for some of what China is doing."He suggested that Putin might be subverting the '
    "sanctions.\n"
    "Caf\u00e9 owners in Z\u00fcrich said prices rose by 5% last year. "
    "The euro \u2014 worth \u20ac1.10 \u2014 fell again.\n"
    "The mayor opened the bridge on Monday. Officials met on Jan. 5 in Washington D.C. for talks.\n"
    "Was the bridge worth four million dollars?\n"
    "Bridge Opens After Years of Delay"
)


@pytest.fixture
def article() -> Article:
    return Article("a9", "Daily Nine", TEXT)


@pytest.mark.parametrize("splitter", SPLITTERS)
def test_offsets_map_back_to_the_article(article, splitter):
    sentences = split_sentences(article, splitter)

    assert len(sentences) >= 10
    for i, s in enumerate(sentences):
        assert s.article_id == "a9"
        assert s.index == i
        assert article.text[s.start : s.end] == s.text
        assert s.text == s.text.strip() and s.text
    # in order, no overlap
    assert all(a.end <= b.start for a, b in zip(sentences, sentences[1:], strict=False))


@pytest.mark.parametrize("splitter", SPLITTERS)
def test_every_word_lands_in_a_sentence(article, splitter):
    covered = set()
    for s in split_sentences(article, splitter):
        covered.update(range(s.start, s.end))
    lost = "".join(ch for i, ch in enumerate(article.text) if i not in covered and not ch.isspace())
    assert lost == ""


@pytest.mark.parametrize("splitter", SPLITTERS)
def test_repeated_sentence_gets_its_own_offsets(article, splitter):
    repeated = [
        s for s in split_sentences(article, splitter) if s.text == "The mayor opened the bridge on Monday."
    ]
    assert len(repeated) == 2
    assert repeated[0].start == 0
    assert repeated[1].start == TEXT.rindex("The mayor opened")


@pytest.mark.parametrize("splitter", SPLITTERS)
def test_glued_sentences_are_split(article, splitter):
    texts = [s.text for s in split_sentences(article, splitter)]
    assert '"Russia is making up for some of what China is doing."' in texts
    assert "He suggested that Putin might be subverting the sanctions." in texts


@pytest.mark.parametrize("splitter", SPLITTERS)
def test_abbreviations_do_not_split(article, splitter):
    texts = [s.text for s in split_sentences(article, splitter)]
    assert "Officials met on Jan. 5 in Washington D.C. for talks." in texts


def test_unknown_splitter_is_a_pipeline_error(article):
    with pytest.raises(PipelineError, match="nltk"):
        split_sentences(article, "nltk")


def test_empty_article_has_no_sentences():
    assert split_sentences(Article("e", "o", ""), "pysbd") == []


# ---- claim filter ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "reason"),
    [
        ("Is Russia helping North Korea evade the sanctions?", "question"),
        ('Did Trump say "Russia is not helping us at all?"', "question"),
        ("Trump Accuses Russia of Helping North Korea Evade Sanctions", "heading"),
        ("Donald Trump Russia North Korea sanctions oil coal", "heading"),
        ("TRUMP ACCUSES RUSSIA OF HELPING NORTH KOREA.", "heading"),
        ("Trump said so.", "fragment"),
        ("Extraordinary, unprecedented developments.", "fragment"),  # long enough, but only 3 words
        ("By Alex Wayne and Larry Liebert in Washington.", "byline"),
        ("Contact the reporter at awayne3@bloomberg.net for details.", "byline"),
        ("Read the full interview at https://example.com/interview today.", "byline"),
        ("--With assistance from David Tweed in Hong Kong.", "byline"),
        # BUG: r"^(...|--)\b" needs a word character right after "--", so the spaced form is never a byline.
        ("-- With assistance from David Tweed in Hong Kong.", "byline"),
        ("word " * 130 + "end.", "too_long"),
    ],
)
def test_claim_filter_drops_non_claims(sentence, reason):
    assert claim_filter_reason(sentence) == reason


@pytest.mark.parametrize(
    "sentence",
    [
        "The mayor opened the new bridge on Monday.",
        '"Russia is not helping us," Trump said.',
        '"Russia is not helping us at all with North Korea," Trump told Reuters.',
        '"In other words, Russia is making up for some of what China is doing."',
        "Officials said the bridge cost $4 million!",
        # BUG: _BYLINE matches any sentence starting with "By" or "From": these ordinary claims are dropped.
        "By the end of 2017, China had cut its coal imports from North Korea.",
        "From January, oil exports to North Korea will be capped at two million barrels.",
    ],
)
def test_claim_filter_keeps_declarative_and_attributed_sentences(sentence):
    assert claim_filter_reason(sentence) is None


def test_claim_filter_thresholds_are_arguments():
    sentence = "The bridge opened on Monday."
    assert claim_filter_reason(sentence) is None
    assert claim_filter_reason(sentence, min_chars=40) == "fragment"
    assert claim_filter_reason(sentence, min_words=6) == "fragment"
    assert claim_filter_reason(sentence, max_chars=20, min_chars=5) == "too_long"


# ---- extract_claims ----------------------------------------------------------------------------------------


def test_extract_claims_keeps_offsets_and_outlet(article):
    sentences = split_sentences(article, "pysbd")
    claims = extract_claims(article, sentences)

    assert claims
    assert {c.outlet for c in claims} == {"Daily Nine"}
    assert {c.article_id for c in claims} == {"a9"}
    for claim in claims:
        assert article.text[claim.start : claim.end] == claim.text
        assert claim_filter_reason(claim.text) is None
    kept = {c.text for c in claims}
    assert "He suggested that Putin might be subverting the sanctions." in kept
    dropped = [s.text for s in sentences if s.text not in kept]
    assert dropped == ["Was the bridge worth four million dollars?", "Bridge Opens After Years of Delay"]


def test_claim_ids_are_unique_and_stable(articles):
    def ids():
        return [c.claim_id for a in articles for c in extract_claims(a, split_sentences(a, "pysbd"))]

    first = ids()
    assert len(first) == len(set(first)) >= 6
    assert first == ids()
    assert first[0] == "a1:s000"
    assert all(cid.split(":")[0] in {"a1", "a2", "a3"} for cid in first)


def test_claim_ids_follow_sentence_index_not_claim_position():
    # a dropped question in the middle must not renumber the claims after it
    article = Article(
        "q1",
        "o",
        "The mayor opened the new bridge on Monday. Was it worth four million dollars "
        "of public money? Officials said the cost was justified by traffic.",
    )
    claims = extract_claims(article, split_sentences(article, "pysbd"))
    assert [c.claim_id for c in claims] == ["q1:s000", "q1:s002"]
