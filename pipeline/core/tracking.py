"""Thin MLflow helpers: one run per job, flattened Hydra params, prefixed metrics, tags and artifacts.

The store defaults to `sqlite:///<repo>/mlflow.db` (an absolute path, so Hydra's working directory cannot move
it; no server needed). `MLFLOW_TRACKING_URI` overrides it; `tracking.enabled=false` turns tracking off.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path

import pandas as pd
from omegaconf import DictConfig, OmegaConf

from pipeline.core.records import PipelineError

log = logging.getLogger(__name__)
_MAX_PARAM = 500


def tracking_uri(cfg) -> str:
    if os.environ.get("MLFLOW_TRACKING_URI"):
        return os.environ["MLFLOW_TRACKING_URI"]
    if cfg.tracking.get("uri"):
        return str(cfg.tracking.uri)
    return f"sqlite:///{Path(cfg.paths.root).resolve() / 'mlflow.db'}"


def flatten(node, prefix: str = "", sep: str = ".") -> dict[str, object]:
    """Nested dicts/lists -> {"a.b.c": value}: searchable params instead of one nested string."""
    if isinstance(node, DictConfig):
        node = OmegaConf.to_container(node, resolve=True)
    out: dict[str, object] = {}
    if isinstance(node, Mapping):
        for key, value in node.items():
            out.update(flatten(value, f"{prefix}{sep}{key}" if prefix else str(key), sep))
    elif isinstance(node, list) and node and any(isinstance(v, (Mapping, list)) for v in node):
        for i, value in enumerate(node):
            out.update(flatten(value, f"{prefix}{sep}{i}", sep))
    else:
        out[prefix] = node
    return out


def git_state(root: str | Path) -> dict[str, str]:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=10).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return {"git_commit": "unknown", "git_dirty": "unknown"}
    return {"git_commit": commit or "unknown", "git_dirty": str(dirty).lower()}


@contextlib.contextmanager
def mlflow_run(cfg, experiment: str, run_name: str | None = None, tags: Mapping[str, str] | None = None
               ) -> Iterator[object | None]:
    """Open an MLflow run that logs the flattened config; yields the mlflow module (None if disabled).

    Inside a Hydra multirun, each job is nested under one parent run per sweep (see `_sweep_parent`).
    """
    if not cfg.tracking.enabled:
        yield None
        return
    import mlflow

    for name in ("mlflow", "alembic"):  # store-creation notices would drown the job's own output
        logging.getLogger(name).setLevel(logging.WARNING)
    mlflow.set_tracking_uri(tracking_uri(cfg))
    name = cfg.tracking.get("experiment") or experiment
    mlflow.set_experiment(name)
    parent = _sweep_parent(mlflow, cfg, name)
    all_tags = {**git_state(cfg.paths.root), "command": experiment, **sweep_tags(), **(tags or {})}
    with mlflow.start_run(run_name=run_name, parent_run_id=parent, tags=all_tags):
        params = {k: str(v)[:_MAX_PARAM] for k, v in flatten(cfg).items() if not k.startswith("hydra")}
        mlflow.log_params(params)
        mlflow.log_text(OmegaConf.to_yaml(cfg, resolve=True), "config.yaml")
        yield mlflow


def _sweep_parent(mlflow, cfg, experiment_name: str) -> str | None:
    """The parent run of the current Hydra multirun (created by its first job), or None outside a sweep."""
    try:
        from hydra.core.hydra_config import HydraConfig

        hc = HydraConfig.get()
    except ValueError:
        return None
    if str(hc.mode) != "RunMode.MULTIRUN":
        return None
    sweep_id = str(hc.sweep.dir)
    client = mlflow.tracking.MlflowClient()
    experiment = mlflow.get_experiment_by_name(experiment_name)
    found = client.search_runs([experiment.experiment_id], f"tags.sweep_id = '{sweep_id}' and tags.sweep_parent = "
                               "'true'", max_results=1)
    if found:
        return found[0].info.run_id
    run = client.create_run(experiment.experiment_id, run_name=f"sweep {Path(sweep_id).name}",
                            tags={"sweep_id": sweep_id, "sweep_parent": "true", **git_state(cfg.paths.root)})
    client.set_terminated(run.info.run_id)
    return run.info.run_id


def sweep_tags() -> dict[str, str]:
    try:
        from hydra.core.hydra_config import HydraConfig

        hc = HydraConfig.get()
    except ValueError:
        return {}
    if str(hc.mode) != "RunMode.MULTIRUN":
        return {}
    return {"sweep_id": str(hc.sweep.dir), "sweep_overrides": " ".join(hc.overrides.task)}


def execute(cfg, experiment: str, run, run_name: str | None = None) -> dict:
    """Call `run(cfg)` inside an MLflow run and log what it returns under "tracking":
    {"metrics": {name: number}, "artifacts": [paths], "tags": {name: value}}."""
    with mlflow_run(cfg, experiment, run_name) as mlflow:
        result = run(cfg)
        logged = result.get("tracking", {}) if isinstance(result, dict) else {}
        if mlflow is not None:
            if logged.get("metrics"):
                mlflow.log_metrics({k.replace(" ", "_"): v for k, v in logged["metrics"].items() if v is not None})
            for path in logged.get("artifacts", []):
                if Path(path).is_file():
                    mlflow.log_artifact(str(path))
            if logged.get("tags"):
                mlflow.set_tags({k: str(v)[:5000] for k, v in logged["tags"].items()})
            run_id = mlflow.active_run().info.run_id
            log.info("logged to MLflow run %s (%s)", run_id, tracking_uri(cfg))
    return result


try:
    from hydra.experimental.callback import Callback
except ImportError:  # pragma: no cover
    Callback = object


class SweepSummary(Callback):
    """Hydra callback: at the end of a multirun (`make sweep`), print the comparison table of its runs and write
    it as compare.csv / compare.png under the sweep directory."""

    def on_multirun_end(self, config, **kwargs) -> None:
        if not config.get("tracking", {}).get("enabled", False):
            return
        sweep_dir = str(config.hydra.sweep.dir)
        runs = fetch_runs(tracking_uri(config), [config.tracking.get("experiment") or "eval"], None,
                          f"tags.sweep_id = '{sweep_dir}'")
        c = config.compare
        table = comparison_table(runs, [], list(dict.fromkeys([*c.metrics, *c.plot_metrics])), None)
        table.insert(1, "overrides", runs.get("tags.sweep_overrides", ""))
        from pipeline.core import atomic
        from pipeline.core.tables import markdown_table

        cols = ["run_id", "overrides", *[x for m in c.metrics for x in (m, f"Δ {m}")]]
        print(f"\nSweep {sweep_dir}: {len(table)} runs\n")
        print(markdown_table(cols, table[cols].astype(object).fillna("").values.tolist()))
        atomic.write_text(Path(sweep_dir) / "compare.csv", table.to_csv(index=False))
        atomic.save_figure(comparison_figure(table.assign(run_name=table["overrides"]), list(c.plot_metrics),
                                             f"sweep: {len(table)} runs"), Path(sweep_dir) / "compare.png")


# ---- reading runs back: the comparison table of `make compare` and `make sweep` ------------------------------

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

    shown = [m for m in metrics if m in table and table[m].notna().any()]  # a plot metric not compared: skip
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
