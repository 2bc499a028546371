"""Typed records that flow between stages, and the label sets. Imports nothing else from the package."""

from __future__ import annotations

from dataclasses import dataclass, field

# Stance labels, defined once. Order is the column order of every probability row and confusion matrix.
STANCE_LABELS: tuple[str, ...] = ("agree", "disagree", "discuss", "unrelated")
STANCE_DEFINITIONS: dict[str, str] = {
    "agree": "the article states or reports the claim as true (it entails the claim); an attributed claim "
    "('X said Y') is agreed with when the article reports that X said Y",
    "disagree": "the article states something incompatible with the claim",
    "discuss": "the article addresses the claim's subject without committing: it reports it as an allegation, "
    "hedges, or gives partial information",
    "unrelated": "the article does not address the claim",
}

# NLI labels, in the column order of every NLI probability row this package produces.
NLI_LABELS: tuple[str, ...] = ("entailment", "neutral", "contradiction")


class PipelineError(Exception):
    """A problem with the user's input or configuration: shown as one line, never as a traceback.

    Args:
        path: the file or directory the problem is about (None when it is about no file).
        problem: what is wrong, in a phrase the user can act on.
    """

    def __init__(self, path: object, problem: str):
        self.path = None if path is None else str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}" if self.path else problem)


class EmptyFileError(PipelineError):
    """An input file with no content (a directory of articles skips these with a warning)."""


def is_whole_number(value: object) -> bool:
    """A setting that counts something: an int >= 0, and not a bool (YAML's true is an int to Python)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


@dataclass(frozen=True)
class Article:
    article_id: str
    outlet: str
    text: str  # cleaned text; every offset in this package points into it
    title: str = ""
    url: str = ""
    published: str = ""
    source_path: str = ""
    event_id: str = ""  # the story it belongs to (given in the input, or found by story grouping)
    duplicate_of: str = ""  # same cleaned text as this article, which is scored once for both ("" if none)


@dataclass(frozen=True)
class Sentence:
    article_id: str
    index: int  # position among the article's sentences
    start: int  # character offsets into Article.text
    end: int
    text: str


@dataclass(frozen=True)
class Claim:
    """A claim sentence extracted from one article (or given by the user, with article_id '')."""

    claim_id: str
    article_id: str
    outlet: str
    text: str
    start: int = -1  # character offsets into the source Article.text, -1 for user-given claims
    end: int = -1


@dataclass(frozen=True)
class CanonicalClaim:
    """Claims that say the same thing across outlets, grouped, with a representative text."""

    claim_id: str
    text: str
    sources: tuple[Claim, ...] = ()
    article_ids: tuple[str, ...] | None = None  # the articles to score against; None means all
    event_id: str = ""  # the story whose articles it is scored against ("" when all articles are one story)


@dataclass(frozen=True)
class Evidence:
    sentence: str
    sentence_index: int
    similarity: float
    entailment: float = 0.0
    neutral: float = 0.0
    contradiction: float = 0.0


@dataclass(frozen=True)
class StancePair:
    """One (claim, article) pair with its evidence sentences and their NLI scores."""

    claim_id: str
    claim_text: str
    article_id: str
    outlet: str
    similarity: float  # claim-article embedding similarity (max over sentences)
    evidence: tuple[Evidence, ...] = field(default_factory=tuple)
    source_text: str = ""  # with extracted claims: the claim's own sentence in this article ("" if not a source)


@dataclass(frozen=True)
class StancePrediction:
    claim_id: str
    article_id: str
    outlet: str
    label: str
    scores: dict[str, float]
    evidence: tuple[Evidence, ...] = ()
    uncertain: bool = False  # the label's probability is below `uncertain_below`: show it as a weak call
    event_id: str = ""


@dataclass(frozen=True)
class Event:
    """A story: the articles (of several outlets) that cover one news event."""

    event_id: str
    label: str  # its most central title (or first sentence when the input gives no titles)
    article_ids: tuple[str, ...]
    outlets: tuple[str, ...]
