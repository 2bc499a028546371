"""Compose every config group option and instantiate every cheap `_target_` (hub models are never loaded)."""

from __future__ import annotations

import inspect

import pytest
from conftest import CONF, ROOT
from hydra.errors import HydraException
from hydra.utils import get_class, instantiate
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from pipeline.stages.nli.scorer import NliScorer
from pipeline.stages.stance.rule import RuleStance

MODELS = sorted(p.stem for p in (CONF / "model").glob("*.yaml") if p.stem != "none")  # none: no NLI model
EXPERIMENTS = sorted(p.stem for p in (CONF / "experiment").glob("*.yaml"))


def test_config_groups_are_not_empty():
    assert {"minilm", "mpnet"} <= set(MODELS) and len(MODELS) >= 2
    assert EXPERIMENTS


def test_default_config_composes_and_resolves(cfg_factory):
    cfg = cfg_factory()
    resolved = OmegaConf.to_container(cfg, resolve=True)

    assert resolved["data"]["articles"] == f"{ROOT}/data/raw/seeds"
    assert resolved["evidence"]["encoder"] == resolved["cluster"]["encoder"]
    assert resolved["model"]["name"] == f"{ROOT}/models/nli-mpnet-lora"  # the MPNet NLI delta is the default
    assert cfg.segment.splitter in ("pysbd", "blingfire")


@pytest.mark.parametrize("model", MODELS)
def test_every_model_composes_and_targets_nli_scorer(cfg_factory, model):
    cfg = cfg_factory(f"model={model}")
    params = OmegaConf.to_container(cfg.model, resolve=True)

    assert params.pop("_target_") == "pipeline.stages.nli.scorer.NliScorer"
    assert get_class(cfg.model._target_) is NliScorer
    # config keys repeat the constructor's argument names, so instantiate() would accept them
    accepted = set(inspect.signature(NliScorer.__init__).parameters) - {"self"}
    assert set(params) <= accepted, set(params) - accepted
    assert params["name"]
    assert isinstance(params["batch_size"], int) and params["batch_size"] > 0
    assert isinstance(params["max_length"], int) and params["max_length"] > 0


def test_hub_models_override_only_the_name(cfg_factory):
    base = OmegaConf.to_container(cfg_factory().model, resolve=True)
    for model in MODELS:
        other = OmegaConf.to_container(cfg_factory(f"model={model}").model, resolve=True)
        assert {k: v for k, v in other.items() if k != "name"} == {
            k: v for k, v in base.items() if k != "name"
        }
    names = {OmegaConf.to_container(cfg_factory(f"model={m}").model, resolve=True)["name"] for m in MODELS}
    assert len(names) == len(MODELS)


@pytest.mark.parametrize("experiment", EXPERIMENTS)
@pytest.mark.parametrize("model", MODELS)
def test_every_experiment_composes_with_every_model(cfg_factory, experiment, model):
    cfg = cfg_factory(f"experiment={experiment}", f"model={model}")
    OmegaConf.to_container(cfg, resolve=True)  # every interpolation resolves
    assert cfg.model._target_ == "pipeline.stages.nli.scorer.NliScorer"


def test_evidence_top10_experiment_changes_top_k(cfg_factory):
    assert cfg_factory().evidence.top_k == 5
    assert cfg_factory("experiment=evidence_top10").evidence.top_k == 10


def test_experiment_files_start_with_package_global_and_a_run_comment():
    for name in EXPERIMENTS:
        lines = (CONF / "experiment" / f"{name}.yaml").read_text(encoding="utf-8").splitlines()
        assert lines[0].strip() == "# @package _global_", name
        assert any("make" in line and f"EXP={name}" in line for line in lines if line.startswith("#")), name


@pytest.mark.parametrize("group", ["rule", "trained"])
def test_stance_instantiates_with_config_values(cfg_factory, group):
    cfg = cfg_factory(f"stance={group}")
    node = cfg.stance.fallback if group == "trained" else cfg.stance  # trained: the rule it falls back to
    head = instantiate(node)

    assert isinstance(head, RuleStance)
    expected = {k: v for k, v in OmegaConf.to_container(node).items() if k != "_target_"}
    assert head.get_params() == expected
    assert list(head.fit().classes_) == ["agree", "disagree", "discuss", "unrelated"]


@pytest.mark.parametrize("group", ["gbm", "logreg"])
def test_learned_heads_instantiate(cfg_factory, group):
    head = instantiate(cfg_factory(f"stance={group}").stance)
    assert head.get_params()["kind"] == group


def test_nli_model_config_composes(cfg_factory):
    cfg = cfg_factory(config_name="nli_model")
    resolved = OmegaConf.to_container(cfg, resolve=True)

    assert resolved["nli_train"]["output_dir"] == f"{ROOT}/models/nli-minilm-l6"
    assert resolved["nli_train"]["epochs"] > 0
    assert "model" not in cfg and "stance" not in cfg


@pytest.mark.parametrize("override", ["segment.nonexistent=1", "evidence.topk=5", "stance.threshold=0.3"])
def test_unknown_override_key_is_an_error(cfg_factory, override):
    with pytest.raises((HydraException, OmegaConfBaseException)):
        cfg_factory(override)


@pytest.mark.parametrize("override", ["model=no_such_model", "experiment=no_such_experiment"])
def test_unknown_group_option_is_an_error(cfg_factory, override):
    with pytest.raises(HydraException):
        cfg_factory(override)
