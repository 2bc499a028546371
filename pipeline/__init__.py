"""Claim-stance classification over news articles from several outlets, with NLI evidence.

Layout (each package's docstring says what lives there and what it may import):

- `pipeline.stages`: the inference stages in data-flow order (ingest, segment, cluster, evidence, nli, stance,
  report).
- `pipeline.predict`: the one module that runs the stages in order; only jobs import it.
- `pipeline.learn`: what fits models (the fine-tuning loop, NLI data, FNC-1, BASIL).
- `pipeline.measure`: labelled sets and metrics.
- `pipeline.core`: plumbing (records, files, atomic outputs, caches, tracking, CLI helpers, encoder, base models).
- Jobs, thin `@hydra.main` modules run as `python -m pipeline.<job>` by the Makefile: `infer`, `evaluate`,
  `train`, `nli_train`, `compare`, `headroom`, `bench`, `make_data`.
"""

import os
import sys

__version__ = "0.1.0"

# oneDNN (torch's CPU kernels) keeps a compiled primitive per input shape, up to 1,024 of them. An NLI run over a
# feed meets hundreds of (batch, length) shapes (every call's last batch is short), and on a 2-core AMX CPU 60
# ragged calls of MiniLM grew the peak RSS by 500 MB with the default against 290 MB with 8 kept, at the same
# speed (1 kept: 40% slower). Set before torch loads; an explicit environment value wins. `make bench` measures it.
os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "8")

# Progress bars (tqdm) redraw up to ten times a second. Into a log file (`make train > train.log`, a batch job) that
# is a line per batch, megabytes of them; when stderr is not a terminal, a bar is redrawn at most once a minute.
# Set before tqdm loads (it reads TQDM_* once); an explicit environment value wins.
if not sys.stderr.isatty():
    os.environ.setdefault("TQDM_MININTERVAL", "60")
