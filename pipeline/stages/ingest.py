"""Ingest and clean: a directory of .txt/.html files or a .jsonl file -> list[Article].

Input: `input` (directory with optional outlets.csv, or .jsonl with id, text and optional outlet, title, url,
published, event). Output: cleaned articles, sorted by id. Articles whose cleaned text is identical (syndicated wire
copy) are all kept: the first by id is scored, the others carry `duplicate_of` and get its results under their own
id and outlet.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from pipeline.core import files
from pipeline.core.records import Article, EmptyFileError, PipelineError

log = logging.getLogger(__name__)

_QUOTES = str.maketrans({"‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'", "“": '"', "”": '"', "„": '"',
                         "‟": '"', "″": '"', "«": '"', "»": '"', "\u00a0": " ", "\u2009": " ", "\u202f": " ",
                         "\u200b": "", "\ufeff": ""})

# Boilerplate, by kind. Matched against whole stripped lines, case-insensitively.
BOILERPLATE: dict[str, list[str]] = {
    "ad": [r"^(advertisement|advert|sponsored( content)?|promoted|ad)$"],
    "newsletter_promo": [
        r"\bsign up\b", r"\bsubscribe (now|today|here|to (our|the|get))\b", r"\b(our|free|daily|weekly) newsletters?\b",
        r"delivered (directly )?to your inbox", r"^escape your echo chamber", r"\bfree daily email\b",
        r"^(follow us|share this|click here|read more|continue reading)\b",
    ],
    "photo_credit": [r"\((photo(grapher)?|image|credit|source)\s*:[^)]*\)\s*$", r"^(photo|image|credit)s?\s*:",
                     r"\b(getty images|reuters/|ap photo|afp via getty)\b.*$"],
    "contact": [r"^to contact the (reporter|editors?)\b", r"[\w.+-]+@[\w-]+\.[\w.]+", r"^--\s*with assistance from",
                r"^(with )?(additional )?reporting by\b", r"^editing by\b"],
    "copyright": [r"^(©|\(c\)|copyright\b)", r"all rights reserved"],
    "byline": [r"^by [A-Z][\w.'-]+( [A-Z][\w.'-]+){0,3}$", r"^(updated|published|posted)\s*:?\s*\w+ \d"],
    "navigation": [r"^(more stories|related( stories| articles)?|most (popular|read)|recommended|trending|"
                   r"you may also like|read next|see also)\b:?"],
}
_COMPILED = {kind: [re.compile(p, re.I) for p in pats] for kind, pats in BOILERPLATE.items()}
_SEPARATOR = re.compile(r"^[-–—•*·|_=~]+$")
# Wire datelines that open a paragraph: "(Bloomberg) -- ", "WASHINGTON (Reuters) - ".
_DATELINE = re.compile(r"^(?:[A-Z][A-Z .,'-]{1,40}\s)?\((?:[A-Z][\w.&' -]{1,30})\)\s*(?:--|-|–|—)\s*")


@dataclass
class Cleaned:
    text: str
    removed: list[tuple[str, str]] = field(default_factory=list)  # (kind, line)


def normalise(text: str) -> str:
    """NFC, straight quotes, no zero-width or non-breaking spaces, single spaces, no control characters."""
    text = unicodedata.normalize("NFC", text).translate(_QUOTES)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    text = re.sub(r"[ \t\f\v]+", " ", text)
    return "\n".join(line.strip() for line in text.split("\n"))


# Promotions, ads and navigation are short lines; a long paragraph that mentions "newsletters" is news.
_MAX_PROMO_CHARS = 250
_SHORT_ONLY = {"ad", "newsletter_promo", "navigation", "byline"}


def boilerplate_kind(line: str) -> str | None:
    for kind, patterns in _COMPILED.items():
        if kind in _SHORT_ONLY and len(line) > _MAX_PROMO_CHARS:
            continue
        if any(p.search(line) for p in patterns):
            return kind
    return None


def clean_article(text: str, *, boilerplate: bool = True, header_lines: int = 6, header_max_chars: int = 120,
                  list_min_separators: int = 2) -> Cleaned:
    """Normalise text and drop boilerplate lines. Paragraphs are kept one per line.

    Args:
        header_lines: how many leading lines may be headline, dek or credit lines: short lines there (up to
            `header_max_chars`) that come before the first body paragraph are dropped as `headline`.
        list_min_separators: a "more stories" list is recognised as this many separator-only lines ('-', '•')
            after the body; everything from the first such separator on is dropped.
    """
    lines = [line for line in normalise(text).split("\n")]
    removed: list[tuple[str, str]] = []
    if boilerplate:
        seps = [i for i, line in enumerate(lines) if _SEPARATOR.match(line)]
        tail = [line for line in lines[seps[0]:] if line] if seps else []
        # a "more stories" list alternates separators and headlines; a scene break or two in a body does not
        if len(seps) >= list_min_separators and len(seps) * 3 >= len(tail):
            removed += [("more_stories", line) for line in lines[seps[0]:] if line]
            lines = lines[:seps[0]]
        # header zone: the short lines before the first body paragraph (none if there is no long paragraph)
        body_start = next((i for i, line in enumerate(lines) if len(line) > header_max_chars), 0)
        kept, seen = [], 0
        for i, line in enumerate(lines):
            if not line:
                kept.append(line)
                continue
            seen += 1
            kind = boilerplate_kind(line)
            if kind is None and i < body_start and seen <= header_lines:
                kind = "headline"
            if kind:
                removed.append((kind, line))
            else:
                kept.append(line)
        lines = [_DATELINE.sub("", line) for line in kept]
    body = "\n".join(lines)
    body = re.sub(r"\n{2,}", "\n", body).strip()
    return Cleaned(body, removed)


def clean_with(cfg, text: str) -> Cleaned:
    """`clean_article` with the `ingest` config group's settings."""
    return clean_article(text, boilerplate=cfg.boilerplate, header_lines=cfg.header_lines,
                         header_max_chars=cfg.header_max_chars, list_min_separators=cfg.list_min_separators)


def looks_like_html(text: str) -> bool:
    head = text[:2000].lower()
    tags = re.findall(r"</?(p|div|span|a|br)\b", head)
    return head.lstrip().startswith(("<!doctype html", "<html")) or len(tags) >= 3


_BLOCK_TAGS = ["p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "tr", "section", "article", "blockquote",
               "figcaption", "pre", "table", "ul", "ol", "dd", "dt"]


def html_to_text(html: str) -> str:
    """Visible text of an HTML page, one block element per line (scripts, styles and navigation dropped)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "noscript", "nav", "header", "footer", "aside", "form", "iframe", "svg"]):
        tag.decompose()
    for tag in soup.find_all("br"):
        tag.replace_with("\n")
    for tag in soup.find_all(_BLOCK_TAGS):  # block elements become lines; inline ones (<b>, <a>) stay in place
        tag.insert_before("\n")
        tag.insert_after("\n")
    return soup.get_text()


def _make(article_id: str, raw: str, outlet: str, cfg, source_path: str = "", **meta) -> tuple[Article, list]:
    where = source_path or article_id
    if len(raw) > cfg.max_chars:
        # bounded memory and time: a multi-megabyte "article" is a scrape gone wrong, not news
        cut = raw.rfind(" ", 0, cfg.max_chars)
        raw = raw[:cut if cut > cfg.max_chars // 2 else cfg.max_chars]
        log.warning("%s: longer than ingest.max_chars=%d characters; only the first part is used", where,
                    cfg.max_chars)
    if looks_like_html(raw):
        log.warning("%s: HTML detected; extracted its visible text", where)
        raw = html_to_text(raw)
    cleaned = clean_with(cfg, raw)
    article = Article(article_id=article_id, outlet=outlet or article_id, text=cleaned.text,
                      source_path=source_path, **{k: str(v or "") for k, v in meta.items()})
    return article, cleaned.removed


def load_articles(path: str | Path, cfg, strict: bool = False) -> tuple[list[Article], dict]:
    """Read and clean every article under `path`. Returns the articles (sorted by id) and a notes dict
    (encodings, duplicates dropped, skipped lines, boilerplate removed)."""
    path = Path(path)
    notes: dict = {"encodings": {}, "duplicates": [], "skipped_lines": [], "boilerplate": {}, "empty_after_clean": []}
    items: list[tuple[Article, list]] = []
    if not path.exists():
        raise PipelineError(path, "input not found")
    if path.is_dir():
        paths = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in (".txt", ".html", ".htm"))
        if not paths:
            raise PipelineError(path, "no .txt or .html articles in this directory")
        outlets_file = path / "outlets.csv"
        outlets = files.read_outlets(outlets_file) if outlets_file.is_file() else {}
        for file in paths:
            try:
                raw, encoding = files.read_text(file)
            except EmptyFileError:
                log.warning("%s: empty file; skipped", file)
                notes.setdefault("empty_files", []).append(file.name)
                continue
            if encoding != "utf-8":
                log.warning("%s: not UTF-8; decoded as %s", file, encoding)
                notes["encodings"][file.name] = encoding
            items.append(_make(file.stem, raw, outlets.get(file.name) or outlets.get(file.stem, ""), cfg, str(file)))
    elif path.suffix.lower() == ".jsonl":
        items = list(_from_jsonl(path, cfg, strict, notes))
    else:
        raise PipelineError(path, "input must be a directory of .txt/.html files or a .jsonl file")
    articles = [a for a, _ in items]
    for article, removed in items:
        if removed:
            notes["boilerplate"][article.article_id] = [f"{kind}: {line}" for kind, line in removed]
    empty = [a.article_id for a in articles if not a.text.strip()]
    if empty:
        notes["empty_after_clean"] = empty
        log.warning("%s: no text left after cleaning in %s", path, ", ".join(empty))
    articles = mark_copies([a for a in articles if a.text.strip()], notes)
    if not articles:
        raise PipelineError(path, "no article text found (every file is empty or boilerplate)")
    return sorted(articles, key=lambda a: a.article_id), notes


def _from_jsonl(path: Path, cfg, strict: bool, notes: dict) -> Iterable[tuple[Article, list]]:
    if path.stat().st_size == 0:
        raise PipelineError(path, "empty file")
    seen_ids: set[str] = set()
    bad: list[str] = []
    for lineno, obj, error in files.iter_jsonl(path):
        if obj is not None and not (isinstance(obj.get("id"), (str, int)) and isinstance(obj.get("text"), str)):
            obj, error = None, "needs string fields 'id' and 'text'"
        if obj is None:
            if strict:
                raise PipelineError(path, f"line {lineno}: malformed JSONL ({error})")
            bad.append(f"{lineno} ({error})")
            continue
        article_id = str(obj["id"])
        if article_id in seen_ids:
            raise PipelineError(path, f"line {lineno}: duplicate article id {article_id!r}")
        seen_ids.add(article_id)
        yield _make(article_id, obj["text"], str(obj.get("outlet") or ""), cfg, f"{path}:{lineno}",
                    title=obj.get("title"), url=obj.get("url"), published=obj.get("published"),
                    event_id=obj.get("event"))
    if bad:
        log.warning("%s: skipped malformed line(s) %s", path, ", ".join(bad))
        notes["skipped_lines"] = bad
    if not seen_ids:
        raise PipelineError(path, "no valid article lines")


def mark_copies(articles: list[Article], notes: dict) -> list[Article]:
    """Articles with identical cleaned text: the first by id is scored, the others get `duplicate_of` set to it.
    `notes["duplicates"]` lists each group as {"scored_as": id, "articles": [ids]}."""
    first: dict[str, str] = {}
    groups: dict[str, list[str]] = {}
    out = []
    for article in sorted(articles, key=lambda a: a.article_id):
        rep = first.setdefault(files.sha256_text(article.text), article.article_id)
        if rep != article.article_id:
            article = replace(article, duplicate_of=rep)
            groups.setdefault(rep, [rep]).append(article.article_id)
        out.append(article)
    notes["duplicates"] = [{"scored_as": rep, "articles": ids} for rep, ids in groups.items()]
    if groups:
        log.info("%d article(s) are identical copies of another; each group is scored once",
                 sum(len(ids) - 1 for ids in groups.values()))
    return out


def load_claims(path: str | Path, article_ids: Iterable[str]) -> list:
    """A claims file (.jsonl of {id, text, optional articles: [article ids]}) -> list[CanonicalClaim].

    Every problem is an error naming the line: a claims file is small and must be exactly right.
    """
    from pipeline.core.records import CanonicalClaim

    path = Path(path)
    if not path.is_file():
        raise PipelineError(path, "claims file not found")
    if path.stat().st_size == 0:
        raise PipelineError(path, "empty claims file")
    known = set(article_ids)
    claims, seen = [], set()
    for lineno, obj, error in files.iter_jsonl(path):
        if obj is None:
            raise PipelineError(path, f"line {lineno}: malformed JSONL ({error})")
        text = obj.get("text")
        if not isinstance(text, str) or not text.strip():
            raise PipelineError(path, f"line {lineno}: claim has no 'text'")
        claim_id = str(obj.get("id", f"line{lineno}"))
        if claim_id in seen:
            raise PipelineError(path, f"line {lineno}: duplicate claim id {claim_id!r}")
        seen.add(claim_id)
        targets = obj.get("articles")
        if targets is not None:
            if not isinstance(targets, list) or not all(isinstance(t, (str, int)) for t in targets):
                raise PipelineError(path, f"line {lineno}: 'articles' must be a list of article ids")
            targets = tuple(str(t) for t in targets)
            unknown = [t for t in targets if t not in known]
            if unknown:
                raise PipelineError(path, f"line {lineno}: unknown article id(s) {', '.join(unknown)}")
        claims.append(CanonicalClaim(claim_id=claim_id, text=normalise(text).replace("\n", " ").strip(),
                                     article_ids=targets))
    if not claims:
        raise PipelineError(path, "no claims in file")
    return claims
