"""On-disk caches (SQLite, WAL): NLI scores and sentence embeddings. Safe to delete."""

from __future__ import annotations

import hashlib
from pathlib import Path

from pipeline.core.records import PipelineError


class _SqliteCache:
    """A key -> row store on disk (SQLite, WAL), read and written in batches. Safe to delete."""

    table = ""
    columns = ""
    what = "cache"

    def __init__(self, path: str | Path):
        import sqlite3

        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute(f"CREATE TABLE IF NOT EXISTS {self.table} (key TEXT PRIMARY KEY, {self.columns})")
        except sqlite3.DatabaseError as err:
            raise PipelineError(self.path, f"{self.what} unreadable ({err}); delete it to start afresh") from None
        self.width = 1 + self.columns.count(",") + 1

    def get_many(self, keys: list[str]) -> dict[str, tuple]:
        found: dict[str, tuple] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for key, *values in self.db.execute(f"SELECT * FROM {self.table} WHERE key IN ({marks})", chunk):
                found[key] = tuple(values)
        return found

    def put_many(self, rows: list[tuple]) -> None:
        marks = ",".join("?" * self.width)
        with self.db:
            self.db.execute("BEGIN")
            self.db.executemany(f"INSERT OR REPLACE INTO {self.table} VALUES ({marks})", rows)

    def __len__(self) -> int:
        return self.db.execute(f"SELECT COUNT(*) FROM {self.table}").fetchone()[0]

    def close(self) -> None:
        self.db.close()


class NliCache(_SqliteCache):
    """NLI probabilities on disk, keyed by (model identity, premise, hypothesis). Safe to delete.

    Re-runs, sweeps and resumed batch jobs read scores from here instead of recomputing them.
    """

    table, columns, what = "nli", "e REAL, n REAL, c REAL", "NLI cache"

    @staticmethod
    def key(model: str, premise: str, hypothesis: str) -> str:
        return hashlib.sha256(f"{model}\0{premise}\0{hypothesis}".encode()).hexdigest()


class EmbeddingCache(_SqliteCache):
    """Sentence embeddings on disk (float32 bytes), keyed by (encoder, text). Safe to delete.

    A warm `make train` then skips re-encoding the ~30k FNC-1 sentences. Values are those of the run that first
    encoded each text.
    """

    table, columns, what = "emb", "vec BLOB", "embedding cache"

    @staticmethod
    def key(encoder: str, text: str) -> str:
        return hashlib.sha256(f"{encoder}\0{text}".encode()).hexdigest()
