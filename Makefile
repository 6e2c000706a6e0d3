# Everything a newcomer runs. Each target installs what it needs first (virtualenv, pinned packages).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STACK ?= dev
CONFIG ?=
OUT ?=
PYTEST_ARGS ?=

# Debian packages the tests run for real: cloud-init's schema check, shellcheck, and for the NFS volume script
# mkfs, blkid, sfdisk, losetup and mount on loop devices; openssl for the certificate renewal script.
SYSTEM_PACKAGES ?= cloud-init shellcheck e2fsprogs util-linux fdisk mount openssl iptables
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

# actionlint (GitHub workflows' linter, with shellcheck for their scripts), built from the Go module proxy
ACTIONLINT_VERSION ?= v1.7.12
ACTIONLINT := $(HOME)/.cache/hubstack-tools/actionlint-$(ACTIONLINT_VERSION)/actionlint

.PHONY: setup system-deps upstream plan check test bench docs clean

$(VENV)/.installed: requirements.txt requirements-dev.txt constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-dev.txt -c constraints.txt
	touch $@

setup: $(VENV)/.installed

## Debian packages the tests need, installed with apt-get when missing
system-deps:
	@missing=$$(for package in $(SYSTEM_PACKAGES); do dpkg -s $$package >/dev/null 2>&1 || echo $$package; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:" $$missing; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

## Upstream data not in ../shared/upstream/: cert-manager's CRDs, from its Go module at the pinned chart version
upstream: setup
	@GOFLAGS=-mod=mod GOTOOLCHAIN=local go mod download \
	  github.com/cert-manager/cert-manager@$$($(PY) -c 'from config.model import DEFAULT_CERT_MANAGER_CHART as v; print(v)')

$(ACTIONLINT):
	GOBIN=$(dir $@) GOFLAGS=-mod=mod GOTOOLCHAIN=local go install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)

## Offline plan of a stack (no cloud, no credentials): make plan [STACK=dev | CONFIG=path/Pulumi.<stack>.yaml] [OUT=dir]
plan: setup
	$(PY) -m hubctl plan --stack $(STACK) $(if $(CONFIG),--config $(CONFIG)) $(if $(OUT),--out $(OUT))

## Validate a stack file only
check: setup
	$(PY) -m hubctl check --stack $(STACK) $(if $(CONFIG),--config $(CONFIG))

## All tests. pytest's exit code 5 means it collected no test: say so, and fail.
test: setup system-deps upstream $(ACTIONLINT)
	@ACTIONLINT=$(ACTIONLINT) $(PY) -m pytest -q $(PYTEST_ARGS); status=$$?; \
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

# The real Pulumi engine built from the Go module proxy: make engine, make preview STACK=dev
include engine/engine.mk
include cloud/cloud.mk
