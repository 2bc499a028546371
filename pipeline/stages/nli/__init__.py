"""The NLI stage: `scorer` (NliScorer over any Hugging Face NLI classifier or a LoRA delta over an offline base,
bf16 autocast, length-bucketed batches; CachedScorer over the on-disk score cache) and `onnx` (ONNX Runtime int8
backend). Imports: `pipeline.core` only."""
