"""`make compare`: MLflow runs side by side, with deltas against a baseline run.

Selects runs by experiment, the last N, or an MLflow filter string. Prints a table; writes
`reports/compare/compare.csv` (one row per run) and `reports/compare/compare.png` (main metrics per run).
"""

from __future__ import annotations

import logging
from pathlib import Path

import hydra
import pandas as pd
from omegaconf import DictConfig

from pipeline.core import atomic
from pipeline.core.cli import guarded
from pipeline.core.tables import markdown_table
from pipeline.core.tracking import comparison_figure, comparison_table, fetch_runs, tracking_uri

log = logging.getLogger(__name__)


def run(cfg: DictConfig) -> pd.DataFrame:
    c = cfg.compare
    uri = tracking_uri(cfg)
    runs = fetch_runs(uri, list(c.experiments), c.last, c.filter or "")
    table = comparison_table(runs, list(c.params), list(c.metrics), c.baseline)
    out = Path(cfg.paths.reports) / "compare"
    atomic.write_text(out / "compare.csv", table.to_csv(index=False))
    atomic.save_figure(comparison_figure(table, [m for m in c.plot_metrics], f"{', '.join(c.experiments)}: "
                                     f"{len(table)} runs"), out / "compare.png")
    cols = ["run_id", "run_name", "date", *c.params, *[x for m in c.metrics for x in (m, f"Δ {m}")], "baseline"]
    print(markdown_table(cols, table[cols].astype(object).fillna("").values.tolist()))
    print(f"\n{len(table)} runs from {uri}; written {out}/compare.csv and compare.png")
    return table


@hydra.main(config_path="../conf", config_name="compare", version_base="1.3")
@guarded
def main(cfg: DictConfig) -> None:
    run(cfg)


if __name__ == "__main__":
    main()
