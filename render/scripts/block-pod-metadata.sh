#!/bin/bash
# Keeps every pod away from Nova's metadata service (embedded by render/cloud_init.py; run at each boot by
# hubstack-block-pod-metadata.service, before k3s).
#
#   block-pod-metadata.sh POD_CIDR
#
# The metadata service serves this server's user data, which holds the cluster's join token (and, on the control
# plane, its CA keys). Zero to JupyterHub blocks it in user pods only; this drops every packet from the pod network
# to it, at the node, in the raw table's PREROUTING, which is seen before any rule k3s or kube-proxy writes. The
# node itself (host-network processes, the sync timer) still reaches it. Safe to run again: the rule is added once.
set -euo pipefail

readonly METADATA_ADDRESS=169.254.169.254/32

[ "$#" -eq 1 ] || {
  echo "usage: $0 POD_CIDR" >&2
  exit 2
}
[[ $1 =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}/[0-9]{1,2}$ ]] || {
  echo "block-pod-metadata: ERROR: '$1' is not an IPv4 CIDR" >&2
  exit 2
}
rule=(PREROUTING -s "$1" -d "$METADATA_ADDRESS" -j DROP)
if ! iptables -t raw -C "${rule[@]}" 2>/dev/null; then
  iptables -t raw -I "${rule[@]}"
  echo "block-pod-metadata: pods in $1 cannot reach $METADATA_ADDRESS"
fi
