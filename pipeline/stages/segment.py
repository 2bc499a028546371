"""Segment into claims: Article -> list[Sentence] (library splitter) -> list[Claim] (claim filter).

Every Sentence and Claim keeps character offsets into `Article.text`, so `text[start:end] == sentence`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from pipeline.core.records import Article, Claim, PipelineError, Sentence

SPLITTERS = ("pysbd", "blingfire")

# A sentence end glued to the next sentence with no space, e.g. `doing."He suggested` (seen in the seeds).
_GLUED = re.compile(r"(?<=[a-z0-9][.!?][\"'])(?=[A-Z])|(?<=[a-z]{2}[.!?])(?=[A-Z][a-z])")
_TERMINAL = re.compile(r"[.!][\"')\]]*$")
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")
# "By Jane Doe", "From Reuters", "Photo: ...", "-- With assistance from ...": not "By the end of 2017, ..."
_NAME = r"[A-Z][\w.'-]*(?:\s+(?:and\s+)?[A-Z][\w.'-]*){0,4}"
_BYLINE = re.compile(rf"^(?:[Bb]y|[Ff]rom|[Vv]ia)\s+{_NAME}(?:,?\s+in\s+{_NAME})?\s*[,.]?$"
                     r"|^(?i:photo|image|credit|source|updated|published|posted)\s*:|^--")
_URL_OR_EMAIL = re.compile(r"https?://|www\.|[\w.+-]+@[\w-]+\.\w")


@lru_cache(maxsize=1)
def _pysbd():
    import pysbd

    return pysbd.Segmenter(language="en", clean=False, char_span=True)


def _spans(paragraph: str, splitter: str) -> list[tuple[int, int]]:
    if splitter == "pysbd":
        return [(s.start, s.end) for s in _pysbd().segment(paragraph)]
    if splitter == "blingfire":
        import blingfire

        _, offsets = blingfire.text_to_sentences_and_offsets(paragraph)
        return [tuple(o) for o in offsets]
    raise PipelineError(None, f"unknown sentence splitter {splitter!r}; choose one of {', '.join(SPLITTERS)}")


def split_sentences(article: Article, splitter: str = "pysbd") -> list[Sentence]:
    """Split an article into sentences, paragraph by paragraph (one paragraph per line), with offsets."""
    text = article.text
    out: list[Sentence] = []
    pos = 0
    for paragraph in text.split("\n"):
        base = pos
        pos += len(paragraph) + 1
        if not paragraph.strip():
            continue
        for start, end in _spans(paragraph, splitter):
            piece = paragraph[start:end]
            cuts = [0] + [m.start() for m in _GLUED.finditer(piece)] + [len(piece)]
            for a, b in zip(cuts, cuts[1:]):
                s, e = _trim(paragraph, start + a, start + b)
                if e > s:
                    out.append(Sentence(article.article_id, len(out), base + s, base + e, text[base + s:base + e]))
    return out


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def claim_filter_reason(text: str, min_chars: int = 25, max_chars: int = 600, min_words: int = 5) -> str | None:
    """Why a sentence is not a claim (None if it is one): question, heading, fragment, byline, too long."""
    stripped = text.strip()
    if len(stripped) < min_chars or len(_WORD.findall(stripped)) < min_words:
        return "fragment"
    if len(stripped) > max_chars:
        return "too_long"
    if stripped.rstrip("\"')]").endswith("?"):
        return "question"
    if not _TERMINAL.search(stripped):
        return "heading"  # no terminal punctuation: headlines, subheadings, tag lists, captions
    if _BYLINE.match(stripped) or _URL_OR_EMAIL.search(stripped):
        return "byline"
    if not any(c.islower() for c in stripped):
        return "heading"
    return None


def extract_claims(article: Article, sentences: Sequence[Sentence], min_chars: int = 25, max_chars: int = 600,
                   min_words: int = 5) -> list[Claim]:
    """Keep the sentences that are declarative factual or attributed statements."""
    return [
        Claim(claim_id=f"{article.article_id}:s{s.index:03d}", article_id=article.article_id, outlet=article.outlet,
              text=s.text, start=s.start, end=s.end)
        for s in sentences
        if claim_filter_reason(s.text, min_chars, max_chars, min_words) is None
    ]
