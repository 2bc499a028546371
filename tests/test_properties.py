"""Property-based tests (hypothesis) for ingest and segmentation: arbitrary Unicode never crashes, and every
sentence's and claim's character offsets map back into the cleaned source text."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.core.records import Article
from pipeline.stages.ingest import clean_article, normalise
from pipeline.stages.segment import extract_claims, split_sentences

WORDS = st.sampled_from(["The", "mayor", "said", "bridge", "U.S.", "Dr.", "“quoted”", "‘it’s’", "?", "!", ".",
                         "3.5", "—", "\n", "\n\n", "-", "©", "ADVERTISEMENT", "é", "中文", "🙂", "\u00a0", "\t"])
TEXTS = st.one_of(st.text(max_size=400), st.lists(WORDS, max_size=120).map(" ".join))

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(TEXTS)
def test_clean_article_never_crashes_and_is_idempotent_on_spaces(text):
    cleaned = clean_article(text).text
    assert "\r" not in cleaned and "  " not in cleaned
    assert normalise(cleaned) == cleaned


@FAST
@given(TEXTS, st.sampled_from(["pysbd", "blingfire"]))
def test_offsets_map_back_into_the_source(text, splitter):
    article = Article("a", "a", clean_article(text).text)
    sentences = split_sentences(article, splitter)
    for s in sentences:
        assert article.text[s.start:s.end] == s.text and s.text.strip() == s.text and s.text
    assert [s.index for s in sentences] == list(range(len(sentences)))
    starts = [s.start for s in sentences]
    assert starts == sorted(starts)
    for claim in extract_claims(article, sentences):
        assert article.text[claim.start:claim.end] == claim.text
