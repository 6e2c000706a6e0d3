# The real Pulumi engine, built here from the Go module proxy and upstream source snapshots (engine/README.md).
# Included by the repo's Makefile, which defines SHELL, PY, STACK and `setup`.
#   make engine               build (or reuse from the cache) every binary
#   make preview STACK=dev    real `pulumi preview --diff` of the stack, offline
#   make charts               the three Helm charts as local archives, from upstream sources
#   make changes              previews of every everyday change -> docs/changes.md

# This file's directory, taken before anything else is included.
ENGINE_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))

.PHONY: engine preview charts changes

## Build or reuse the engine binaries; a missing source snapshot is named in one line
engine:
	@start=$$(date +%s); $(ENGINE_DIR)/build.sh; status=$$?; \
	  echo "make engine: $$(($$(date +%s) - start))s; $$($(ENGINE_DIR)/build.sh --check >/dev/null && echo 'engine complete' || echo 'engine incomplete, see above')"; \
	  exit $$status

## Real `pulumi preview --diff` of a stack, no cloud: make preview STACK=dev
preview: setup engine
	@$(PY) -m hubctl preview --stack $(STACK)

## The charts as archives for hub.charts.archives (~/.cache/hubstack-charts), from upstream sources
charts: setup
	@PYTHON=$(abspath $(PY)) $(ENGINE_DIR)/charts.sh

## Previews of every everyday change against a settled state of the prod stack: writes docs/changes.md
changes: setup engine charts
	@$(PY) -m hubctl changes
