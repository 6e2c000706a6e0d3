#!/bin/bash
# Keeps every pod away from Nova's metadata service and from NFS (embedded by render/cloud_init.py; run at each boot
# by hubstack-block-pod-access.service, before k3s).
#
#   block-pod-access.sh POD_CIDR
#
# The metadata service serves this server's user data, which holds the cluster's join token (and, on the control
# plane, its CA keys). Zero to JupyterHub blocks it in user pods only. The NFS share holds every user's home and
# the shared data, and NFS trusts the uid a client sends: a pod that reached it could read and write any of them.
# Pods never need either: the kubelet mounts the share from the node itself. So every packet from the pod network
# to the metadata service, or to NFS's ports (rpcbind 111, nfsd 2049) anywhere, is dropped at the node, in the raw
# table's PREROUTING, which is seen before any rule k3s, kube-proxy or a NetworkPolicy writes: whatever egress an
# admin opens to users, NFS stays out of reach. The node itself (host-network processes, the kubelet's mounts, the
# sync timer) still reaches both. Safe to run again: each rule is added once.
set -euo pipefail

readonly METADATA_ADDRESS=169.254.169.254/32
readonly NFS_PORTS=111,2049

[ "$#" -eq 1 ] || {
  echo "usage: $0 POD_CIDR" >&2
  exit 2
}
[[ $1 =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}/[0-9]{1,2}$ ]] || {
  echo "block-pod-access: ERROR: '$1' is not an IPv4 CIDR" >&2
  exit 2
}
add() {
  local what=$1
  shift
  if ! iptables -t raw -C PREROUTING -s "$pods" "$@" -j DROP 2>/dev/null; then
    iptables -t raw -I PREROUTING -s "$pods" "$@" -j DROP
    echo "block-pod-access: pods in $pods cannot reach $what"
  fi
}
pods=$1
add "$METADATA_ADDRESS" -d "$METADATA_ADDRESS"
for protocol in tcp udp; do
  add "NFS ($protocol ports $NFS_PORTS)" -p "$protocol" -m multiport --dports "$NFS_PORTS"
done
