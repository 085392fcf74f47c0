# netzone: the README's commands. Each target creates the virtual environment it needs.
SHELL := /bin/bash
# The Lambda runtime is python3.12; use it when pyenv (or the system) has it, else python3.
PYTHON ?= $(shell PYENV_VERSION=3.12.1 python3.12 -c 'import sys; print(sys.executable)' 2>/dev/null || command -v python3.12 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SAM_VENV := .venv-sam
SAM_VERSION := 1.170.0
export AWS_EC2_METADATA_DISABLED := true
export SAM_CLI_TELEMETRY := 0

.PHONY: run test lint unit local-stack component integration bench build clean

# uv installs the pinned lock in seconds (pip takes ~45 s); it is pinned too and lives in the venv.
UV_VERSION := 0.13.9

$(STAMP): requirements-dev.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip install -q --python $(BIN)/python -r requirements-dev.lock
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

## run: start the whole system locally (moto server, workers, REST API on :3000) with a demo consortium
run: $(STAMP)
	PYTHONPATH=infra:layers/core:functions $(BIN)/python -m local.run

## test: lint, then the unit, local-stack, component and integration tiers
test: lint unit local-stack component integration

## lint: style (ruff, with a complexity limit), types (mypy), no import cycle (import-linter), the template
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	PYTHONPATH=layers/core:functions:infra $(BIN)/lint-imports --no-cache --no-logo
	$(BIN)/cfn-lint template.yaml

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

## local-stack: the local stack's own parts (template reader, moto patches, authorizer, workers)
local-stack: $(STAMP)
	$(BIN)/pytest -q tests/local_stack

component: $(STAMP)
	$(BIN)/pytest -q tests/component

integration: $(STAMP)
	$(BIN)/pytest -q tests/integration

## bench: print the figures the issues ask for (never asserted in tests)
bench: $(STAMP)
	@for script in tests/benchmarks/bench_*.py; do \
		echo "== $$script"; PYTHONPATH=infra:layers/core:functions:. $(BIN)/python $$script || exit 1; \
	done

$(SAM_VENV)/bin/sam:
	python3 -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install -q --disable-pip-version-check aws-sam-cli==$(SAM_VERSION)

## build: validate and build the SAM application (no container); SAM CLI lives in its own venv
build: $(SAM_VENV)/bin/sam
	$(SAM_VENV)/bin/sam validate --lint
	PYENV_VERSION=3.12.1:3.11.7 $(SAM_VENV)/bin/sam build

clean:
	rm -rf $(VENV) $(SAM_VENV) .aws-sam .pytest_cache .ruff_cache .mypy_cache
