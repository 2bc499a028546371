"""The NLI score cache: cached results equal fresh ones, re-runs hit the cache, a partial cache resumes exactly."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.core.cache import NliCache
from pipeline.stages.nli.scorer import CachedScorer, NliScorer, length_batches

PAIRS = [(f"premise number {i} " + "word " * (i % 7), f"hypothesis {i % 3}") for i in range(23)]


class CountingScorer:
    """Wraps a real scorer and counts the pairs it is asked to score."""

    def __init__(self, scorer):
        self.inner, self.calls = scorer, 0
        self.name, self.identity, self.batch_size = scorer.name, scorer.identity, 4

    def score(self, pairs, batch_size=None, progress=False):
        self.calls += len(pairs)
        return self.inner.score(pairs, batch_size=batch_size)


def test_cached_scores_equal_fresh_and_rerun_hits(tmp_path, tiny_nli_model):
    base = NliScorer(str(tiny_nli_model), device="cpu", batch_size=4)
    fresh = base.score(PAIRS + PAIRS[:3])            # duplicates too
    counting = CountingScorer(base)
    cached = CachedScorer(counting, NliCache(tmp_path / "c.sqlite"))
    first = cached.score(PAIRS + PAIRS[:3])
    np.testing.assert_array_equal(first, fresh)
    assert counting.calls == len(PAIRS)              # each unique pair once
    again = cached.score(PAIRS + PAIRS[:3])
    np.testing.assert_array_equal(again, first)
    assert counting.calls == len(PAIRS) and cached.hits == len(PAIRS)


def test_partial_cache_resumes_with_identical_results(tmp_path, tiny_nli_model):
    base = NliScorer(str(tiny_nli_model), device="cpu", batch_size=4)
    full = CachedScorer(base, NliCache(tmp_path / "full.sqlite")).score(PAIRS)
    # a run killed after two batches leaves exactly those two batches in its cache
    cache = NliCache(tmp_path / "partial.sqlite")
    scorer = CachedScorer(base, cache)
    for batch in length_batches(PAIRS, 4)[:2]:
        probs = base.score([PAIRS[i] for i in batch], batch_size=len(batch))
        cache.put_many([(cache.key(scorer.model_key, *PAIRS[i]), *map(float, row)) for i, row in zip(batch, probs)])
    resumed = scorer.score(PAIRS)
    assert scorer.hits == 8
    np.testing.assert_array_equal(resumed, full)


def test_cache_is_keyed_by_model_identity(tmp_path):
    cache = NliCache(tmp_path / "c.sqlite")
    assert cache.key("model-a", "p", "h") != cache.key("model-b", "p", "h")
    cache.put_many([(cache.key("model-a", "p", "h"), 0.7, 0.2, 0.1)])
    assert cache.get_many([cache.key("model-a", "p", "h"), cache.key("model-b", "p", "h")]) == {
        cache.key("model-a", "p", "h"): (0.7, 0.2, 0.1)}
    assert len(cache) == 1


def test_embedding_cache_returns_what_was_encoded_and_encodes_only_new_texts(tmp_path, monkeypatch):
    from pipeline.core import encoder
    from pipeline.core.cache import EmbeddingCache

    calls = []

    def fake_encode(texts, name, batch_size, progress=None):
        calls.append(list(texts))
        return np.array([[len(t), 1.0, 0.0] for t in texts], dtype=np.float32)

    monkeypatch.setattr(encoder, "_encode", fake_encode)
    cache = EmbeddingCache(tmp_path / "e.sqlite")
    first = encoder.embed_texts(["a", "bb", "a"], "enc", cache=cache)
    assert calls == [["a", "bb"]] and first.tolist() == [[1, 1, 0], [2, 1, 0], [1, 1, 0]]
    again = encoder.embed_texts(["bb", "ccc"], "enc", cache=cache)
    assert calls[-1] == ["ccc"] and again.tolist() == [[2, 1, 0], [3, 1, 0]]
    encoder.embed_texts(["bb"], "other-encoder", cache=cache)  # keyed by encoder too
    assert calls[-1] == ["bb"] and len(cache) == 4
    monkeypatch.setattr(encoder, "CACHE_CHUNK", 2)  # encoded and stored chunk by chunk
    encoder.embed_texts(["d", "ee", "fff"], "enc", cache=cache)
    assert calls[-2:] == [["d", "ee"], ["fff"]] and len(cache) == 7


def test_an_unreadable_cache_is_one_clear_error(tmp_path):
    from pipeline.core.cache import EmbeddingCache
    from pipeline.core.records import PipelineError

    bad = tmp_path / "e.sqlite"
    bad.write_bytes(b"not a database at all" * 100)
    with pytest.raises(PipelineError, match="embedding cache unreadable"):
        EmbeddingCache(bad)


def test_same_weights_under_another_path_reuse_the_cache(tmp_path, tiny_nli_model):
    import shutil

    copy = shutil.copytree(tiny_nli_model, tmp_path / "copy")
    cache = NliCache(tmp_path / "c.sqlite")
    first = CachedScorer(NliScorer(str(tiny_nli_model), device="cpu", batch_size=4), cache)
    first.score(PAIRS)
    moved = CachedScorer(NliScorer(str(copy), device="cpu", batch_size=4), cache)
    moved.score(PAIRS)
    assert moved.hits == len(PAIRS) and moved.computed == 0
    assert moved.identity["name"] != first.identity["name"]  # runs still record where the model was
    weights = next(p for p in copy.iterdir() if p.suffix in (".safetensors", ".bin"))
    weights.write_bytes(weights.read_bytes()[:-8] + b"\0" * 8)  # other weights: other keys
    changed = CachedScorer(NliScorer(str(copy), device="cpu", batch_size=4), cache)
    assert changed.model_key != moved.model_key
