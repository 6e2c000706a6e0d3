# A local Kubernetes API with fake nodes shaped like the hub's, for the tests: kube/README.md.
# Included by the repo's Makefile (SHELL := /bin/bash).
#   make kube          build the binaries if missing (cached outside the repository), start it, say how to use it
#   make kube-stop     stop every process it started
# State (certificates, etcd's data, logs, pids, the admin kubeconfig):
#   $${HUBSTACK_KUBE_DIR:-~/.cache/hubstack-kube/state}

KUBE_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))

.PHONY: kube kube-stop kube-status

## Local Kubernetes API in a network namespace of its own: build (if needed) and start it
kube:
	@$(KUBE_DIR)/build.sh >/dev/null && $(KUBE_DIR)/kube.sh start

## Stop the local Kubernetes API
kube-stop:
	@$(KUBE_DIR)/kube.sh stop

## Whether the local Kubernetes API runs, process by process
kube-status:
	@$(KUBE_DIR)/kube.sh status
