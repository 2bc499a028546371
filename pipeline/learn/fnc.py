"""FNC-1 (Fake News Challenge stage 1) train data: headline (claim) x body (article) stance pairs.

Input: `fnc1/train_bodies.csv` and `fnc1/train_stances.csv` under `paths.datasets`. The competition test set is
held out elsewhere and never read. The train/dev split is by Body ID, saved as `data/fnc1/split.csv`.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.core import files
from pipeline.core.records import STANCE_LABELS, Article, CanonicalClaim, PipelineError


@dataclass(frozen=True)
class FncPair:
    headline: str
    body_id: str
    stance: str


def load_fnc(root: str | Path) -> tuple[dict[str, str], list[FncPair]]:
    """(bodies by Body ID, labelled pairs). Exact duplicate rows are kept, as in the official data."""
    root = Path(root) / "fnc1"
    bodies_text, _ = files.read_text(root / "train_bodies.csv")
    stances_text, _ = files.read_text(root / "train_stances.csv")
    bodies = {row["Body ID"]: row["articleBody"] for row in csv.DictReader(bodies_text.splitlines(keepends=True))}
    pairs = [FncPair(row["Headline"], row["Body ID"], row["Stance"])
             for row in csv.DictReader(stances_text.splitlines(keepends=True))]
    bad = [p for p in pairs if p.stance not in STANCE_LABELS or p.body_id not in bodies]
    if bad:
        raise PipelineError(root / "train_stances.csv", f"{len(bad)} rows with an unknown stance or Body ID")
    return bodies, pairs


def split_bodies(body_ids: Sequence[str], dev_fraction: float = 0.2, seed: int = 13) -> dict[str, str]:
    """Body ID -> 'train' | 'dev', a seeded random split by body, so no body text is on both sides."""
    ids = sorted(set(body_ids), key=int)
    rng = random.Random(seed)
    rng.shuffle(ids)
    n_dev = round(dev_fraction * len(ids))
    return {body_id: ("dev" if i < n_dev else "train") for i, body_id in enumerate(ids)}


def split_text(split: dict[str, str]) -> str:
    return "body_id,split\n" + "".join(f"{b},{s}\n" for b, s in sorted(split.items(), key=lambda kv: int(kv[0])))


def read_split(path: str | Path, body_ids: Iterable[str] = ()) -> dict[str, str]:
    """Body ID -> "train" / "dev" from a split file; every one of `body_ids` must be in it."""
    text, _ = files.read_text(path)
    split = {row["body_id"]: row["split"] for row in csv.DictReader(text.splitlines())}
    missing = set(body_ids) - set(split)
    if missing:
        raise PipelineError(path, f"{len(missing)} FNC bodies have no split (delete the file and run make train "
                                  "to re-create it)")
    return split


def as_pipeline_inputs(bodies: dict[str, str], pairs: Sequence[FncPair], clean_body,
                       clean_headline) -> tuple[list[Article], list[CanonicalClaim], dict[str, str]]:
    """Bodies become Articles (`fnc<Body ID>`, cleaned like any article) and each distinct headline a claim scored
    against the bodies it is paired with. Also returns headline -> claim id."""
    used = sorted({p.body_id for p in pairs}, key=int)
    articles = [Article(f"fnc{b}", f"fnc{b}", clean_body(bodies[b])) for b in used]
    targets: dict[str, dict[str, None]] = {}
    for p in pairs:
        targets.setdefault(p.headline, {})[f"fnc{p.body_id}"] = None
    claim_of = {headline: f"h{i:05d}" for i, headline in enumerate(targets)}
    claims = [CanonicalClaim(claim_of[h], clean_headline(h), article_ids=tuple(ids)) for h, ids in targets.items()]
    return articles, claims, claim_of
