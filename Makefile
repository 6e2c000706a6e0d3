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
# mkfs, blkid, sfdisk, losetup and mount on loop devices; openssl for the certificate renewal script; iproute2 and
# curl for the local Kubernetes API (kube/).
SYSTEM_PACKAGES ?= cloud-init shellcheck e2fsprogs util-linux fdisk mount openssl iptables iproute2 curl
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

# actionlint (GitHub workflows' linter, with shellcheck for their scripts), built from the Go module proxy
ACTIONLINT_VERSION ?= v1.7.12
ACTIONLINT := $(HOME)/.cache/hubstack-tools/actionlint-$(ACTIONLINT_VERSION)/actionlint

# Which stack file a command reads: CONFIG when given, else Pulumi.$(STACK).yaml.
STACK_ARGS = $(if $(CONFIG),--config $(CONFIG),--stack $(STACK))

.PHONY: help setup system-deps upstream plan check test bench docs clean
.DEFAULT_GOAL := help

## This list: every target with what it does
help:
	@awk '/^## / { text = substr($$0, 4); next } \
	  /^[a-z][a-z-]*:/ && text { sub(/:.*/, ""); printf "  make %-13s %s\n", $$0, text } { text = "" }' $(MAKEFILE_LIST)

# pip prints one line per package it fetches, without its progress bars; the first run takes about a minute.
$(VENV)/.installed: requirements.txt requirements-dev.txt constraints.txt
	@echo "setup: a virtualenv in $(VENV) with the pinned packages of requirements*.txt (first run: about a minute)"
	@start=$$(date +%s); $(PYTHON) -m venv $(VENV) && \
	  PYTHONUNBUFFERED=1 $(PY) -m pip install --disable-pip-version-check --progress-bar off \
	    -r requirements.txt -r requirements-dev.txt -c constraints.txt | sed -u -nE 's/^(Collecting [^ ]+).*/  \1/p; /^ERROR/p'; \
	  status=$${PIPESTATUS[0]}; [ $$status -eq 0 ] || exit $$status; \
	  echo "setup: done in $$(($$(date +%s) - start)) s"
	@touch $@

## The virtualenv with the pinned packages (every target below makes it first)
setup: $(VENV)/.installed

## Debian packages the tests need, installed with apt-get when missing
system-deps:
	@missing=$$(for package in $(SYSTEM_PACKAGES); do dpkg -s $$package >/dev/null 2>&1 || echo $$package; done); \
	if [ -n "$$missing" ]; then \
	  echo "system-deps: installing Debian packages with apt-get (about a minute):" $$missing; \
	  start=$$(date +%s); \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null && \
	  echo "system-deps: done in $$(($$(date +%s) - start)) s"; \
	fi

## Upstream data not in ../shared/upstream/: the Go modules of tests/upstream.py's GO_MODULES
upstream: setup
	@export GOFLAGS=-mod=mod GOTOOLCHAIN=local; \
	  for module in $$($(PY) -c 'from tests.upstream import GO_MODULES; print(*GO_MODULES)'); do \
	    if ! GOPROXY=off go mod download $$module 2>/dev/null; then \
	      echo "upstream: downloading $$module from the Go module proxy (first run: about 20 s)"; \
	      go mod download $$module || exit 1; \
	    fi; \
	  done

$(ACTIONLINT):
	@echo "actionlint: building $(ACTIONLINT_VERSION) from the Go module proxy into $(dir $@) (first run: about a minute)"
	@start=$$(date +%s); GOBIN=$(dir $@) GOFLAGS=-mod=mod GOTOOLCHAIN=local \
	  go install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION) && \
	  echo "actionlint: done in $$(($$(date +%s) - start)) s"

## Offline plan of a stack (no cloud, no credentials): make plan [STACK=dev | CONFIG=path/Pulumi.<stack>.yaml] [OUT=dir]
plan: setup
	$(PY) -m hubctl plan $(STACK_ARGS) $(if $(OUT),--out $(OUT))

## Check a stack file as `pulumi up` would: make check [STACK=dev | CONFIG=path/Pulumi.<stack>.yaml]
check: setup
	$(PY) -m hubctl check $(STACK_ARGS)

## All tests (tiers that cannot run here say why in one line). Exit code 5 (no tests collected) fails.
test: setup system-deps upstream $(ACTIONLINT)
	@ACTIONLINT=$(ACTIONLINT) $(PY) -m pytest -q $(PYTEST_ARGS); status=$$?; \
	  if [ $$status -eq 5 ]; then echo "pytest collected no tests: the suite is missing" >&2; fi; exit $$status

## Wall time of the offline plan of dev and prod and of `hubctl check` (median of 5 runs each)
bench: setup
	$(PY) -m hubctl bench dev prod --runs 5

## Regenerate the JSON schema and the config reference from the model
docs: setup
	$(PY) -m hubctl schema
	$(PY) -m hubctl reference

## Remove the plans and benchmarks under build/
clean:
	rm -rf build

# The real Pulumi engine built from the Go module proxy: make engine, make preview STACK=dev
include engine/engine.mk
include cloud/cloud.mk
include kube/kube.mk
