"""The oneDNN kernel-cache probe of `make bench`: many NLI calls of ragged sizes, as a feed run makes them.

`python -m pipeline.bench_kernels <job.json> <result.json>` builds the NLI scorer from the job's `model` (NliScorer
keyword arguments), scores `calls` random slices (40 to 700 pairs each) of its (premise, hypothesis) `pairs` and
writes the scoring seconds to `result.json`. `make bench` runs it in fresh processes under different
`ONEDNN_PRIMITIVE_CACHE_CAPACITY` values and reads each one's peak RSS (`pipeline.bench.kernel_cache`): every
call's last batch is short, so the calls meet many (batch, length) shapes, and oneDNN compiles and keeps a kernel
per shape.
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path


def probe(model: dict, pairs: list[tuple[str, str]], calls: int, seed: int) -> float:
    """Seconds spent scoring `calls` ragged slices of `pairs` (model loading not counted)."""
    from pipeline.stages.nli.scorer import NliScorer

    scorer = NliScorer(**model)
    rng = random.Random(seed)
    started = time.perf_counter()
    for _ in range(calls):
        n = rng.randint(40, 700)
        scorer.score([pairs[rng.randrange(len(pairs))] for _ in range(n)])
    return time.perf_counter() - started


def main(argv: list[str]) -> None:
    job_file, result = argv
    job = json.loads(Path(job_file).read_text(encoding="utf-8"))
    seconds = probe(job["model"], [tuple(p) for p in job["pairs"]], int(job["calls"]), int(job["seed"]))
    Path(result).write_text(json.dumps({"seconds": round(seconds, 2)}), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
