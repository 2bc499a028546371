"""`make data`: convert the chosen BASIL events into `data/raw/basil/<event>/` and write the event split.

Inputs: the BASIL `articles/` folder (`basil.root`, default `../shared/datasets/basil/articles`). Outputs:
`data/raw/basil/<event>/` (three .txt files and outlets.csv per event, see `pipeline.learn.basil`),
`data/labels/basil/split.csv` (event, split, date, title), and for story grouping every BASIL article as one news
feed, `data/raw/basil_feed.jsonl`, with the gold story of each in `data/labels/basil/stories.csv`. An event folder
that exists is left alone when it is identical to what the converter writes, and refused when it differs unless
`overwrite=true`.
"""

from __future__ import annotations

import csv
import io as _io
import logging
import tempfile
from pathlib import Path

import hydra
from omegaconf import DictConfig

from pipeline.core import atomic
from pipeline.core.cli import guarded
from pipeline.core.records import PipelineError
from pipeline.learn import basil

log = logging.getLogger(__name__)


def _same_tree(a: Path, b: Path) -> bool:
    names = sorted(p.name for p in a.iterdir())
    return names == sorted(p.name for p in b.iterdir()) and all(
        (a / n).read_bytes() == (b / n).read_bytes() for n in names)


def split_csv(index: dict[str, list[dict]]) -> str:
    buf = _io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["event", "split", "date", "title"])
    for split, events in (("train", basil.TRAIN_EVENTS), ("dev", basil.DEV_EVENTS), ("test", basil.TEST_EVENTS)):
        for e in events:
            nyt = next(a for a in index[e] if a["source"] == "nyt")
            writer.writerow([e, split, nyt.get("date", ""), nyt.get("main-event") or nyt["title"]])
    return buf.getvalue()


def stories_csv(gold: list[dict]) -> str:
    buf = _io.StringIO()
    writer = csv.DictWriter(buf, ["id", "event", "year", "split"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(gold)
    return buf.getvalue()


def run(cfg: DictConfig) -> dict:
    root, out = Path(cfg.basil.root), Path(cfg.basil.output)
    if not root.is_dir():
        raise PipelineError(root, "BASIL articles folder not found (set basil.root or PIPELINE_DATASETS)")
    index = basil.index_events(root)
    missing = [e for e in basil.LABELLED_EVENTS if e not in index]
    if missing:
        raise PipelineError(root, f"no BASIL event with id {', '.join(missing)}")
    written, unchanged = [], []
    for eid in basil.LABELLED_EVENTS:
        target = out / eid
        if target.exists() and not cfg.overwrite:
            with tempfile.TemporaryDirectory() as tmp:
                fresh = basil.write_event(eid, index[eid], tmp)
                if not _same_tree(fresh, target):
                    raise PipelineError(target, "differs from what the converter writes; pass overwrite=true to "
                                                "replace it")
            unchanged.append(eid)
            continue
        basil.write_event(eid, index[eid], out)
        written.append(eid)
    atomic.write_text(cfg.basil.split_file, split_csv(index))
    feed, gold = basil.feed_rows(index)
    atomic.write_jsonl(cfg.basil.feed, feed)
    atomic.write_text(cfg.basil.stories, stories_csv(gold))
    log.info("BASIL events: %d written, %d unchanged, into %s; split in %s", len(written), len(unchanged), out,
             cfg.basil.split_file)
    return {"written": written, "unchanged": unchanged}


@hydra.main(config_path="../conf", config_name="make_data", version_base="1.3")
@guarded
def main(cfg: DictConfig) -> None:
    run(cfg)


if __name__ == "__main__":
    main()
