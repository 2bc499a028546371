"""MLflow tracking on a temporary store: flattened params, prefixed metrics, tags, artifacts; compare's table/CSV."""

from __future__ import annotations

import pandas as pd
import pytest

from pipeline import compare
from pipeline.core import tracking


@pytest.fixture
def store(tmp_path, monkeypatch):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    return uri


def fake_run(macro_f1):
    def run(cfg):
        report = cfg.paths.reports + "/metrics.json"
        import pathlib

        pathlib.Path(report).parent.mkdir(parents=True, exist_ok=True)
        pathlib.Path(report).write_text("{}")
        return {"tracking": {"metrics": {"eval/macro_f1": macro_f1, "nli/pairs_per_s": 300.0},
                             "artifacts": [report], "tags": {"nli_model": {"name": "m"}}}}

    return run


def test_flatten_gives_dotted_keys():
    flat = tracking.flatten({"stance": {"head": "gbm", "p": {"C": 1}}, "xs": [1, 2], "seed": 3})
    assert flat == {"stance.head": "gbm", "stance.p.C": 1, "xs": [1, 2], "seed": 3}


def test_execute_logs_params_metrics_tags_and_artifacts(cfg_factory, store, tmp_path):
    import mlflow

    cfg = cfg_factory("evidence.top_k=5")
    tracking.execute(cfg, "eval", fake_run(0.61))
    mlflow.set_tracking_uri(store)
    runs = mlflow.search_runs(experiment_names=["eval"])
    assert len(runs) == 1
    row = runs.iloc[0]
    assert row["params.evidence.top_k"] == "5" and row["params.model.name"].endswith("nli-mpnet-lora")
    assert row["metrics.eval/macro_f1"] == pytest.approx(0.61)
    assert row["tags.command"] == "eval" and len(row["tags.git_commit"]) == 40
    assert "'name': 'm'" in row["tags.nli_model"]
    artifacts = {a.path for a in mlflow.MlflowClient().list_artifacts(row["run_id"])}
    assert {"metrics.json", "config.yaml"} <= artifacts


def test_tracking_can_be_turned_off(cfg_factory, store):
    import mlflow

    tracking.execute(cfg_factory("tracking.enabled=false"), "eval", fake_run(0.5))
    mlflow.set_tracking_uri(store)
    assert mlflow.get_experiment_by_name("eval") is None


def test_compare_builds_table_and_csv(cfg_factory, store, tmp_path):
    for f1 in (0.50, 0.62):
        tracking.execute(cfg_factory(), "eval", fake_run(f1))
    cfg = cfg_factory(config_name="compare")
    table = compare.run(cfg)
    assert len(table) == 2
    assert list(table["eval/macro_f1"]) == [0.5, 0.62]
    assert list(table["Δ eval/macro_f1"]) == [0.0, pytest.approx(0.12)]
    csv = pd.read_csv(tmp_path / "reports" / "compare" / "compare.csv")
    assert len(csv) == 2 and "Δ eval/macro_f1" in csv.columns
    assert (tmp_path / "reports" / "compare" / "compare.png").stat().st_size > 1000
