"""Where the heavy stages run: `backend=local` (this process) or `backend=ray` (Ray Data, an actor pool).

A backend maps a worker over batches: `backend.map(factory, batches)` yields `factory()(batch)` for each batch, in
input order. `factory` is a picklable zero-argument callable (a `functools.partial` of a module-level function) that
builds the worker once per process: locally once per call, on Ray once per actor (one NLI scorer or encoder per
actor). The NLI scorer and the sentence encoder use it with the same batch plan as the local code, so both backends
compute every item in the same batch.

Ray runs in-process on this machine (`ray.init()` starts a local instance) or on a cluster when `RAY_ADDRESS` (or
`backend.address`) names one; the package must be installed on the cluster's workers.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable, Iterable, Iterator

from pipeline.core.records import PipelineError


class LocalBackend:
    name = "local"

    def map(self, factory: Callable[[], Callable], batches: Iterable) -> Iterator:
        worker = factory()
        for batch in batches:
            yield worker(batch)


class _Actor:
    """One Ray actor: builds its worker once, then maps it over rows of pickled batches."""

    def __init__(self, factory: Callable[[], Callable]):
        self.worker = factory()

    def __call__(self, rows: dict) -> dict:
        import numpy as np

        results = [pickle.dumps(self.worker(pickle.loads(p))) for p in rows["payload"]]
        return {"i": rows["i"], "result": np.array(results, dtype=object)}


class RayBackend:
    """Ray Data `map_batches` over an actor pool of `actors` workers with `cpus_per_actor` CPUs each.

    Args:
        address: a Ray cluster address; null = `RAY_ADDRESS` if set, else a local Ray instance on this machine.
        actors: actors in the pool (one model each).
        cpus_per_actor: CPUs reserved per actor (also its torch threads).
        chunk_batches: batches sent to Ray per request; results are cached after each chunk.
    """

    name = "ray"

    def __init__(self, address: str | None = None, actors: int = 2, cpus_per_actor: int = 1,
                 chunk_batches: int = 64):
        self.address = address or os.environ.get("RAY_ADDRESS") or None
        self.actors = int(actors)
        self.cpus_per_actor = int(cpus_per_actor)
        self.chunk_batches = int(chunk_batches)

    def _init(self):
        try:
            import ray
        except ImportError:
            raise PipelineError(None, "backend=ray needs Ray: pip install -e '.[ray]'") from None
        if not ray.is_initialized():
            kwargs = {} if self.address else {"num_cpus": max(os.cpu_count() or 1, self.actors * self.cpus_per_actor)}
            ray.init(address=self.address, include_dashboard=False, log_to_driver=False, configure_logging=False,
                     **kwargs)
            ray.data.DataContext.get_current().enable_progress_bars = False
        return ray

    def map(self, factory: Callable[[], Callable], batches: Iterable) -> Iterator:
        ray = self._init()
        rows = [{"i": i, "payload": pickle.dumps(b)} for i, b in enumerate(batches)]
        if not rows:
            return
        ds = ray.data.from_items(rows, override_num_blocks=len(rows)).map_batches(
            _Actor, fn_constructor_kwargs={"factory": factory}, batch_size=1, concurrency=self.actors,
            num_cpus=self.cpus_per_actor)
        done: dict[int, object] = {}
        nxt = 0
        for row in ds.iter_rows():
            done[int(row["i"])] = pickle.loads(row["result"])
            while nxt in done:
                yield done.pop(nxt)
                nxt += 1


def build_backend(cfg) -> LocalBackend | RayBackend:
    """The `backend` config group: `name: local` or `name: ray` with RayBackend's arguments."""
    if cfg is None or cfg.get("name", "local") == "local":
        return LocalBackend()
    if cfg.name != "ray":
        raise PipelineError(None, f"unknown backend {cfg.name!r}; use backend=local or backend=ray")
    return RayBackend(cfg.get("address"), cfg.get("actors", 2), cfg.get("cpus_per_actor", 1),
                      cfg.get("chunk_batches", 64))
