# A minimal local OpenStack (Debian bookworm's OpenStack Zed) for the tests: cloud/README.md.
# Included by the repo's Makefile (SHELL := /bin/bash).
#   make cloud         install the packages if missing, start everything, print the clouds.yaml entry
#   make cloud-stop    stop every process the cloud started
# State (logs, pids, configs, clouds.yaml, cloud.json): $${HUBSTACK_CLOUD_DIR:-~/.cache/hubstack-cloud}

CLOUD_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))

.PHONY: cloud cloud-stop cloud-status

## Local OpenStack: install (if needed) and start it; prints the clouds.yaml entry
cloud:
	@$(CLOUD_DIR)/cloud.sh install && $(CLOUD_DIR)/cloud.sh start

## Stop the local OpenStack
cloud-stop:
	@$(CLOUD_DIR)/cloud.sh stop

## Whether the local OpenStack runs, service by service
cloud-status:
	@$(CLOUD_DIR)/cloud.sh status
