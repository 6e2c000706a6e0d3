# The real Pulumi engine, built from the Go module proxy (engine/README.md).
# Included by the repo's Makefile, which defines SHELL, STACK and `setup`.
#   make engine               build (or reuse from the cache) every buildable binary
#   make preview STACK=dev    real `pulumi preview --diff` of the stack, offline

# This file's directory, taken before anything else is included.
ENGINE_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))

.PHONY: engine preview

## Build or reuse the engine binaries; unavailable modules are reported, not failures
engine:
	@start=$$(date +%s); $(ENGINE_DIR)/build.sh; status=$$?; \
	  echo "make engine: $$(($$(date +%s) - start))s; $$($(ENGINE_DIR)/build.sh --check >/dev/null && echo 'engine complete' || echo 'engine incomplete, see above')"; \
	  exit $$status

## Real `pulumi preview --diff` of a stack, no cloud: make preview STACK=dev
preview: setup engine
	@$(ENGINE_DIR)/preview.sh $(STACK)
