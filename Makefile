# Everything a newcomer runs. Each target installs what it needs first (virtualenv, pinned packages).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STACK ?= dev
CONFIG ?=
OUT ?=
PYTEST_ARGS ?=

.PHONY: setup plan check test bench docs clean

$(VENV)/.installed: requirements.txt requirements-dev.txt constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-dev.txt -c constraints.txt
	touch $@

setup: $(VENV)/.installed

## Offline plan of a stack (no cloud, no credentials): make plan [STACK=dev | CONFIG=path/Pulumi.<stack>.yaml] [OUT=dir]
plan: setup
	$(PY) -m hubctl plan --stack $(STACK) $(if $(CONFIG),--config $(CONFIG)) $(if $(OUT),--out $(OUT))

## Validate a stack file only
check: setup
	$(PY) -m hubctl check --stack $(STACK) $(if $(CONFIG),--config $(CONFIG))

## All tests. pytest's exit code 5 means it collected no test: say so, and fail.
test: setup
	@$(PY) -m pytest -q $(PYTEST_ARGS); status=$$?; \
	  if [ $$status -eq 5 ]; then echo "pytest collected no tests: the suite is missing" >&2; fi; exit $$status

## Wall time of the offline plan of dev and prod (median of 5 runs each)
bench: setup
	$(PY) -m hubctl bench dev prod --runs 5

## Regenerate the JSON schema and the config reference from the model
docs: setup
	$(PY) -m hubctl schema
	$(PY) -m hubctl reference

clean:
	rm -rf build
