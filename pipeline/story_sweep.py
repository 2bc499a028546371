"""`make stories`: how well story grouping (`events=auto`) finds BASIL's stories, one MLflow run per setting.

The input is every BASIL article as one news feed (`data/raw/basil_feed.jsonl`, written by `make data`; no event
field) and the gold story of each (`data/labels/basil/stories.csv`). `stories_eval.split=choose` groups the 2010-2015
articles and scores them (choose `stories.*` on this); `split=report` groups all 276 articles as one input and scores
the 2016-2019 ones (report only). Metrics: B-cubed precision / recall / F1 and the number of stories found.

    make stories GRID="stories.similarity_threshold=0.4,0.5,0.6 stories.linkage=average,complete"
"""

from __future__ import annotations

import logging

import hydra
from omegaconf import DictConfig

from pipeline.core.cli import guarded, quiet_libraries
from pipeline.core.records import PipelineError
from pipeline.core.tracking import execute
from pipeline.measure.labels import read_gold_stories
from pipeline.measure.metrics import bcubed
from pipeline.predict import embedding_cache, find_events
from pipeline.stages.ingest import load_articles

log = logging.getLogger(__name__)


def story_scores(articles, gold: dict[str, dict], split: str, cfg) -> dict:
    """Group `articles` into stories and score them against `gold` over the articles of `split`."""
    cache = embedding_cache(cfg)
    events = find_events(articles, cfg, "auto", cache=cache)
    if cache is not None:
        cache.close()
    pred = {aid: e.event_id for e in events for aid in e.article_ids}
    truth = {aid: row["event"] for aid, row in gold.items()}
    over = [aid for aid, row in gold.items() if row["split"] == split and aid in pred]
    return bcubed(pred, truth, over) | {"articles": len(articles), "scored_articles": len(over)}


def run(cfg: DictConfig) -> dict:
    quiet_libraries()
    s = cfg.stories_eval
    if s.split not in ("choose", "report"):
        raise PipelineError(None, f"stories_eval.split must be choose or report, not {s.split!r}")
    gold = read_gold_stories(s.gold)
    articles, _ = load_articles(s.feed, cfg.ingest)
    if s.split == "choose":
        articles = [a for a in articles if gold.get(a.article_id, {}).get("split") == "choose"]
    scores = story_scores(articles, gold, s.split, cfg)
    print(f"story grouping on {s.split} ({scores['scored_articles']} articles scored, {scores['articles']} in the "
          f"input): B3 F1 {scores['b3_f1']:.3f} (P {scores['b3_precision']:.3f}, R {scores['b3_recall']:.3f}); "
          f"{scores['clusters']} stories found, {scores['gold_clusters']} gold")
    return {"scores": scores, "tracking": {"metrics": {f"stories/{s.split}/{k}": v for k, v in scores.items()},
                                           "tags": {"split": s.split}}}


@hydra.main(config_path="../conf", config_name="story_sweep", version_base="1.3")
@guarded
def main(cfg: DictConfig) -> None:
    execute(cfg, "stories", run)


if __name__ == "__main__":
    main()
