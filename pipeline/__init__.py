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

__version__ = "0.1.0"
