#!/bin/bash
# Installs k3s at a given version with the official installer (embedded by render/cloud_init.py, run by sync-node.sh).
#
#   install-k3s.sh server|agent VERSION
#
# The installer downloads the release, verifies its checksums, and starts k3s.service or k3s-agent.service with
# the settings of /etc/rancher/k3s/config.yaml (written by cloud-init, 0600: it holds the join token).
# Downloaded to a file first rather than `curl ... | sh`: in a pipe a failed download would look like success.
set -euo pipefail

readonly INSTALLER_URL=https://get.k3s.io

[ "$#" -eq 2 ] || {
  echo "usage: $0 server|agent VERSION" >&2
  exit 2
}
role=$1
version=$2
case "$role" in
  server | agent) ;;
  *)
    echo "install-k3s: ERROR: role must be server or agent, not '$role'" >&2
    exit 2
    ;;
esac

installer=$(mktemp)
trap 'rm -f "$installer"' EXIT
curl -sfL --retry 10 --retry-delay 5 --retry-all-errors --proto =https -o "$installer" "$INSTALLER_URL"
INSTALL_K3S_VERSION=$version sh "$installer" "$role"
