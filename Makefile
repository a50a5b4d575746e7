# The two commands: `make demo` (the main job) and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# checkov lives apart: its pins (boto3, packaging, networkx) clash with the SAM CLI's and moto's.
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: demo test lint dev validate openapi build clean checkov

$(STAMP): requirements-dev.txt constraints.txt layers/storywink/requirements.txt layers/storywink/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet pip==26.3
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

$(CHECKOV_STAMP): requirements-checkov.txt constraints-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet pip==26.3
	$(CHECKOV_VENV)/bin/pip install --quiet -r requirements-checkov.txt
	touch $(CHECKOV_STAMP)

## checkov for the template scan in the tests (tests/unit/test_template_scanners.py).
checkov: $(CHECKOV_STAMP)

## The main job: the local stack turns the sample photos into a picture-book PDF.
demo: $(STAMP)
	$(BIN)/storywink demo --out out/storywink-demo.pdf

## The whole test suite (unit, integration, end to end, template lint, OpenAPI currency).
test: $(STAMP) $(CHECKOV_STAMP)
	$(BIN)/pytest

## Lint the repository with ruff (its rules are in pyproject.toml); .ci/run runs it before the tests.
lint: $(STAMP)
	$(BIN)/ruff check .

## Run the local stack in the foreground.
dev: $(STAMP)
	$(BIN)/storywink dev

validate: $(STAMP)
	$(BIN)/sam validate --lint

openapi: $(STAMP)
	$(BIN)/storywink openapi --write

build: $(STAMP)
	$(BIN)/sam build

clean:
	rm -rf .aws-sam out .storywink
