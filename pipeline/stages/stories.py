"""Story grouping: articles -> events (stories), before claims are extracted, so that claims are grouped and scored
within one story only.

Each article is embedded by its title and lead (the first `lead_chars` characters of its text); articles are
clustered agglomeratively on cosine distance, cut at `1 - similarity_threshold`; two articles published more than
`max_days` apart (when both dates are known) are never in one story. An event given in the input (`event` in a
JSONL line) wins: those articles keep it and only the others are grouped. Event ids `e001`, ... follow the order in
which stories first appear among the articles (sorted by id); an event's label is its most central title.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np

from pipeline.core.records import Article, Event


def story_label(article: Article, max_chars: int = 120) -> str:
    """The article's title, else its first sentence (cut at a word near `max_chars`)."""
    if article.title:
        return article.title.strip()
    text = " ".join(article.text.split())
    end = next((i + 1 for i, ch in enumerate(text[:max_chars]) if ch in ".!?" and (i + 1 == len(text)
                or text[i + 1] == " ")), None)
    if end:
        return text[:end]
    cut = text.rfind(" ", 0, max_chars)
    return text if len(text) <= max_chars else text[:cut if cut > max_chars // 2 else max_chars] + "…"


def story_text(article: Article, lead_chars: int = 300) -> str:
    lead = article.text[:lead_chars]
    cut = lead.rfind(" ")
    lead = lead[:cut] if len(article.text) > lead_chars and cut > lead_chars // 2 else lead
    return f"{article.title}. {lead}" if article.title else lead


def _day(published: str) -> int | None:
    try:
        return date.fromisoformat(published.strip()[:10]).toordinal()
    except ValueError:
        return None


def story_labels(vectors: np.ndarray, days: Sequence[int | None], similarity_threshold: float, linkage: str,
                 max_days: float | None) -> np.ndarray:
    """Cluster labels (0..k-1, in order of first appearance) for unit-normalised `vectors` (n, dim)."""
    n = len(vectors)
    if n <= 1:
        return np.zeros(n, dtype=int)
    from sklearn.cluster import AgglomerativeClustering

    distance = np.clip(1.0 - vectors @ vectors.T, 0.0, 2.0).astype(np.float64)
    if max_days is not None:
        d = np.array([np.nan if x is None else x for x in days], dtype=np.float64)
        apart = np.abs(d[:, None] - d[None, :]) > max_days  # NaN (unknown date) compares False: no constraint
        distance[apart] = 2.0
    np.fill_diagonal(distance, 0.0)
    raw = AgglomerativeClustering(n_clusters=None, metric="precomputed", linkage=linkage,
                                  distance_threshold=1.0 - similarity_threshold).fit_predict(distance)
    first: dict[int, int] = {}
    return np.array([first.setdefault(int(r), len(first)) for r in raw], dtype=int)


def group_stories(articles: Sequence[Article], vectors: np.ndarray | None, cfg, one: bool = False) -> list[Event]:
    """The stories of `articles`. `vectors` are the story-text embeddings (`story_text`) of the articles without a
    given event, in id order; `cfg` is the `stories` config group; `one=True` puts every article in one story
    (`e001`). Returns events sorted by id."""
    articles = sorted(articles, key=lambda a: a.article_id)
    members: dict[str, list[Article]] = {}
    if one:
        members["e001"] = list(articles)
    else:
        free = [a for a in articles if not a.event_id]
        labels = story_labels(vectors, [_day(a.published) for a in free], cfg.similarity_threshold,
                              cfg.linkage, cfg.get("max_days")) if free else []
        auto = {a.article_id: f"e{int(k) + 1:03d}" for a, k in zip(free, labels)}
        for a in articles:
            members.setdefault(a.event_id or auto[a.article_id], []).append(a)
    if vectors is not None and not one:
        row = {a.article_id: i for i, a in enumerate(a for a in articles if not a.event_id)}
    else:
        row = {}
    events = []
    for eid in sorted(members):
        group = members[eid]
        label = story_label(group[0])
        inside = [row[a.article_id] for a in group if a.article_id in row]
        if len(inside) > 2:
            sims = vectors[inside] @ vectors[inside].T
            central = inside[int(np.argmax(sims.sum(axis=1)))]
            pick = next(a for a in group if row.get(a.article_id) == central)
            label = story_label(pick)
        events.append(Event(eid, label, tuple(a.article_id for a in group),
                            tuple(sorted({a.outlet for a in group}))))
    return events

