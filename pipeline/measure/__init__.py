"""Measuring the pipeline against hand labels: the labelled sets under `data/labels/` (`labels`) and the metrics
(`metrics`: stance, FNC-1 score, claim-sentence extraction).

Imports: `pipeline.core` and `pipeline.stages` (labelled sets are read with the ingest stage).
"""
