# promote-model: every command a user or CI needs. `make demo` and `make test` work from a fresh
# clone with only Python 3.11, Node.js (24 or 22; 20 still runs, with jsii's true end-of-life warning)
# and npm installed: they build .venv/ and node_modules/ (which brings Node 22 and 24 binaries too,
# for the tests that run the CDK and the local ASL interpreter on them; see docs/platform.md).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
ENV ?= dev
export MLFLOW_DISABLE_TELEMETRY := true

.PHONY: demo test lint typecheck format synth deploy deploy-local bench docs lock dist clean reliability-report mlflow-servers

$(BIN)/.installed: pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found: install Python 3.11 or run make PYTHON=/path/to/python3.11"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade 'pip>=24'
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@# node22/node24 (optional: Linux x64 only) are run by path; their `.bin/node` link would quietly
	@# replace this machine's Node for every npx command
	rm -f node_modules/.bin/node
	touch $@

## demo: promote a model end to end on local servers (the project's main job)
demo: $(BIN)/.installed node_modules/.installed
	$(BIN)/python -m devtools.local.demo $(DEMO_ARGS)

## test: lint, type-check and run the whole test suite (what CI runs)
test: lint typecheck
	$(BIN)/pytest

## mlflow-servers: build the cached venvs of the older MLflow servers tests/compat runs (the tests build them on first use too)
mlflow-servers: $(BIN)/.installed
	$(BIN)/python -m devtools.local.server_venvs 2.9 2.22

## reliability-report: run the fault, race and hostile-input tests and write docs/reliability.md
reliability-report: $(BIN)/.installed
	RELIABILITY_REPORT=docs/reliability.md $(BIN)/pytest -q tests/reliability

lint: $(BIN)/.installed node_modules/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(BIN)/.installed
	$(BIN)/mypy
	@# the example is a separate app with its own `infra` package: checked on its own, against the library
	cd examples/retraining_app && MYPYPATH=$(CURDIR)/src $(CURDIR)/$(BIN)/mypy --config-file= --python-version 3.11 \
	  --explicit-package-bases --check-untyped-defs --ignore-missing-imports --warn-unused-ignores \
	  --cache-dir $(CURDIR)/.mypy_cache/example app.py infra

format: $(BIN)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## synth: write the CloudFormation template of ENV (dev, staging, prod) to cdk.out/
synth: $(BIN)/.installed node_modules/.installed
	PATH="$(CURDIR)/$(BIN):$$PATH" npx --no-install cdk synth -c environment=$(ENV) --quiet

## deploy: cdk deploy the stack of ENV with the AWS credentials of this shell
deploy: $(BIN)/.installed node_modules/.installed
	$(BIN)/python -m devtools.deploy.aws_preflight
	AWS_EC2_METADATA_DISABLED=true PATH="$(CURDIR)/$(BIN):$$PATH" npx --no-install cdk deploy -c environment=$(ENV) --require-approval broadening

## bench: measure the bundled handler against an mlflow-skinny baseline (about 5 min, under 10); writes docs/performance.md
bench: $(BIN)/.installed
	$(BIN)/python -m devtools.bench.run

## docs: the constructs' API reference, generated from their docstrings by pdoc, into build/docs/ (fails on a public name without one)
docs: $(BIN)/.installed
	$(BIN)/python -m devtools.docs.api_reference

## lock: re-pin every Python package after changing pyproject.toml
lock: $(BIN)/.installed
	$(BIN)/pip install --quiet -e '.[dev]'
	(echo "# Every Python package of the development environment, pinned. Regenerate with: make lock"; \
	 $(BIN)/pip freeze --exclude-editable | grep -v '^promote-model' | sort -f) > constraints.txt

## dist: build the library's wheel into dist/ (what `pip install <checkout>` builds and installs)
dist: $(BIN)/.installed
	rm -rf dist build
	$(BIN)/pip wheel --quiet --no-deps --wheel-dir dist .

clean:
	rm -rf $(VENV) node_modules cdk.out .pytest_cache .mypy_cache .ruff_cache .hypothesis .cache build dist src/*.egg-info

## deploy-local: cdk bootstrap, deploy, verify, run and destroy the local environment's stack on moto (about 2 min)
deploy-local: $(BIN)/.installed node_modules/.installed
	$(BIN)/python -m devtools.deploy.local
