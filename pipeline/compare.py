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

from pipeline import io
from pipeline.cli import guarded
from pipeline.records import PipelineError
from pipeline.report import markdown_table
from pipeline.tracking import tracking_uri

log = logging.getLogger(__name__)


def fetch_runs(uri: str, experiments: list[str], last: int | None, filter_string: str = "") -> pd.DataFrame:
    """Finished runs of the named experiments, oldest first (at most the `last` newest). Sweep parents skipped."""
    import mlflow

    mlflow.set_tracking_uri(uri)
    found = [e for e in (mlflow.get_experiment_by_name(name) for name in experiments) if e is not None]
    if not found:
        raise PipelineError(uri, f"no MLflow experiment named {', '.join(experiments)}; run `make eval` first")
    query = " and ".join(q for q in (filter_string, "attributes.status = 'FINISHED'") if q)
    runs = mlflow.search_runs([e.experiment_id for e in found], filter_string=query, order_by=["start_time DESC"],
                              max_results=last or 1000)
    if "tags.sweep_parent" in runs:
        runs = runs[runs["tags.sweep_parent"] != "true"]
    return runs.iloc[::-1].reset_index(drop=True)


def comparison_table(runs: pd.DataFrame, params: list[str], metrics: list[str], baseline: str | None) -> pd.DataFrame:
    """One row per run: name, date, the chosen params and metrics, and each metric's delta to the baseline run
    (its run id or name; default the oldest run shown)."""
    if runs.empty:
        raise PipelineError(None, "no runs match the selection")
    table = pd.DataFrame({
        "run_id": runs["run_id"].str[:8],
        "run_name": runs.get("tags.mlflow.runName", pd.Series([""] * len(runs))),
        "date": pd.to_datetime(runs["start_time"]).dt.strftime("%Y-%m-%d %H:%M:%S"),
    })
    for p in params:
        table[p] = runs.get(f"params.{p}", pd.Series([None] * len(runs)))
    base_idx = 0
    if baseline:
        matches = runs.index[(runs["run_id"].str.startswith(baseline)) | (table["run_name"] == baseline)]
        if len(matches) == 0:
            raise PipelineError(None, f"baseline run {baseline!r} is not among the runs shown")
        base_idx = int(matches[0])
    for m in metrics:
        values = runs.get(f"metrics.{m}", pd.Series([float("nan")] * len(runs))).astype(float)
        table[m] = values.round(4)
        table[f"Δ {m}"] = (values - values.iloc[base_idx]).round(4)
    table["baseline"] = ["*" if i == base_idx else "" for i in range(len(runs))]
    return table


def comparison_figure(table: pd.DataFrame, metrics: list[str], title: str):
    """Grouped bars: one group per metric, one bar per run."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    shown = [m for m in metrics if table[m].notna().any()]
    fig, ax = plt.subplots(figsize=(max(6, 1.3 * len(shown) * max(1, len(table)) / 2), 4.2), dpi=120)
    width = 0.8 / max(len(table), 1)
    x = np.arange(len(shown))
    for i, row in table.iterrows():
        label = f"{row['run_name'] or row['run_id']} ({row['date'][5:16]})"
        ax.bar(x + i * width - 0.4 + width / 2, [row[m] for m in shown], width, label=label)
    ax.set_xticks(x, [m.split("/")[-1] for m in shown], rotation=20, ha="right")
    ax.set_ylim(0, 1.05 if table[shown].max().max() <= 1 else None)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def run(cfg: DictConfig) -> pd.DataFrame:
    c = cfg.compare
    uri = tracking_uri(cfg)
    runs = fetch_runs(uri, list(c.experiments), c.last, c.filter or "")
    table = comparison_table(runs, list(c.params), list(c.metrics), c.baseline)
    out = Path(cfg.paths.reports) / "compare"
    io.write_text(out / "compare.csv", table.to_csv(index=False))
    io.save_figure(comparison_figure(table, [m for m in c.plot_metrics], f"{', '.join(c.experiments)}: "
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
