"""BASIL (Fan et al., 2019) news events -> `data/raw/basil/<event>/`: one .txt per outlet plus `outlets.csv`.

Each BASIL article is a JSON object with `title`, `date`, `url`, `source` (fox / nyt / hpo, some in capitals),
`triplet-uuid` (the event) and `body-paragraphs` (a list of paragraphs, each a list of sentences). An article
becomes `<event>_<source>.txt`: the title line, a blank line, then the paragraphs (sentences joined by a space)
separated by blank lines. `<event>` is the first 8 hex digits of the triplet uuid. `outlets.csv` has the columns
`file,outlet,title,date,url`, which `pipeline.core.files.read_outlets` reads (it needs only `file,outlet`).
"""

from __future__ import annotations

import csv
import io as _io
import json
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from pipeline.core.atomic import atomic_dir

# The hand-labelled events (data/labels/basil/), split by event: fit on train (in-domain NLI pairs, stance heads),
# choose on dev, report on test. Never train on dev or test.
TRAIN_EVENTS = ("f11c2566", "3db93526", "97566c74", "11c9f251", "74708dbf", "550b80db",
                "450755dd", "2a3fde8a", "3ae35b16", "eadabee7", "86e6e27d", "8385a996",
                "84678e18", "ae243a95", "be026bd1", "7f9c83f7", "9879bbc0", "a28a0329",
                "ccf19ab6", "84b3c118", "47a209b0", "70c75d68", "df5fe55a", "2f3e86b6",
                "79bf99c6", "2058ec60", "1e41e98b", "4f473faf", "dd1e6e3b", "c99adbdd",
                "542cd22c", "58ed2376", "576116e5", "1ed4f378", "29ffd053", "d1344998",
                "6f95dcb9", "7a97de89", "f688c56d", "b7021938", "af4a3f41", "c9e4d35f",
                "1bb79cc1", "72fa9b13", "8dac6c12", "13792511", "0d10341a", "58f414e5",
                "b4dbeda7", "1f99798f", "76810849", "38f7cbb7", "8dc7ccfe", "cad4bba5",
                "0ffb34cd", "97b1305c", "2ec04201", "aab91277", "a4f1d515", "c5534b7e",
                "2153fb3e", "df6a55fb", "70c744ad", "a4edca3f", "0c78e748", "2b95d2cf",
                "6b541575", "01c59743", "b764f81f", "526cabb7", "c6a0e65c", "d4a4bc34",
                "2742e9c1", "45bd61bc", "472158a1", "59f2f47c", "96b7046f", "b5eefefb",
                "d3a1ce0a", "ed8c136f")
DEV_EVENTS = ("85475456", "005a2961", "65cb14cb", "f506aafc", "ee05c9b3", "2b9468af", "1b96a5db", "eb17fa36")
TEST_EVENTS = ("68748e7f", "d16050b3", "06ffda2d", "e71d149d")
EVAL_EVENTS = DEV_EVENTS + TEST_EVENTS  # kept out of every training source, labelled or not
LABELLED_EVENTS = TRAIN_EVENTS + EVAL_EVENTS

OUTLETS = {"fox": "Fox News", "nyt": "The New York Times", "hpo": "HuffPost"}
SOURCE_ORDER = ("fox", "nyt", "hpo")


class BasilError(ValueError):
    """A BASIL file that is not what the converter expects (the message names the file)."""


def event_id(triplet_uuid: str) -> str:
    return triplet_uuid.split("-")[0].lower()


def article_text(article: dict) -> str:
    """Title line, blank line, paragraphs separated by blank lines; sentences of a paragraph joined by a space."""
    paragraphs = [" ".join(s.strip() for s in para if s.strip()) for para in article["body-paragraphs"]]
    body = "\n\n".join(p for p in paragraphs if p)
    return f"{article['title'].strip()}\n\n{body}\n"


def read_article(path: str | Path) -> dict:
    path = Path(path)
    try:
        article = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BasilError(f"{path}: not a readable BASIL JSON file ({exc})") from exc
    missing = {"title", "source", "triplet-uuid", "body-paragraphs"} - set(article)
    if missing:
        raise BasilError(f"{path}: missing keys {sorted(missing)}")
    source = str(article["source"]).lower()
    if source not in OUTLETS:
        raise BasilError(f"{path}: unknown source {article['source']!r} (expected one of {sorted(OUTLETS)})")
    article["source"] = source
    return article


def index_events(root: str | Path) -> dict[str, list[dict]]:
    """All BASIL articles under `root` (any depth), grouped by event id, each event in fox, nyt, hpo order."""
    events: dict[str, list[dict]] = defaultdict(list)
    for path in sorted(Path(root).rglob("*.json")):
        article = read_article(path)
        events[event_id(article["triplet-uuid"])].append(article)
    for eid, articles in events.items():
        sources = sorted(a["source"] for a in articles)
        if sources != sorted(SOURCE_ORDER):
            raise BasilError(f"{root}: event {eid} has sources {sources}, expected one each of {list(SOURCE_ORDER)}")
        articles.sort(key=lambda a: SOURCE_ORDER.index(a["source"]))
    return dict(events)


def outlets_csv(eid: str, articles: Iterable[dict]) -> str:
    buf = _io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["file", "outlet", "title", "date", "url"])
    for a in articles:
        writer.writerow([f"{eid}_{a['source']}.txt", OUTLETS[a["source"]], a["title"].strip(), a.get("date", ""),
                         a.get("url", "")])
    return buf.getvalue()


def write_event(eid: str, articles: list[dict], out_root: str | Path) -> Path:
    """Write one event's three .txt files and outlets.csv under `out_root/<eid>/` (atomically, as a directory)."""
    target = Path(out_root) / eid
    with atomic_dir(target, overwrite=True) as tmp:
        for a in articles:
            (tmp / f"{eid}_{a['source']}.txt").write_text(article_text(a), encoding="utf-8")
        (tmp / "outlets.csv").write_text(outlets_csv(eid, articles), encoding="utf-8")
    return target


def convert(root: str | Path, events: Iterable[str], out_root: str | Path) -> list[Path]:
    """Convert the named events (8-hex ids) from the BASIL `articles/` folder `root` into `out_root`."""
    index = index_events(root)
    wanted = list(events)
    unknown = [e for e in wanted if e not in index]
    if unknown:
        raise BasilError(f"{root}: no BASIL event with id {', '.join(unknown)}")
    return [write_event(e, index[e], out_root) for e in wanted]


# Story grouping (the news-feed issue) is chosen on the 2010-2015 events and reported on the 2016-2019 ones.
STORY_CHOOSE_YEARS = range(2010, 2016)


def feed_rows(index: dict[str, list[dict]]) -> tuple[list[dict], list[dict]]:
    """Every BASIL article as one news-feed JSONL row (`id`, `outlet`, `title`, `url`, `published`, `text`), and
    the gold story of each (`id`, `event`, `year`, `split`: choose / report). Rows are sorted by id; the feed
    carries no event field, so story grouping has to find the stories."""
    feed, gold = [], []
    for eid in sorted(index):
        for a in index[eid]:
            aid = f"{eid}_{a['source']}"
            paragraphs = [" ".join(s.strip() for s in para if s.strip()) for para in a["body-paragraphs"]]
            feed.append({"id": aid, "outlet": OUTLETS[a["source"]], "title": a["title"].strip(),
                         "url": a.get("url", ""), "published": a.get("date", ""),
                         "text": "\n\n".join(p for p in paragraphs if p)})
            year = int(str(a.get("date") or "0000")[:4] or 0)
            gold.append({"id": aid, "event": eid, "year": year,
                         "split": "choose" if year in STORY_CHOOSE_YEARS else "report"})
    order = sorted(range(len(feed)), key=lambda i: feed[i]["id"])
    return [feed[i] for i in order], [gold[i] for i in order]
