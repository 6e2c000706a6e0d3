#!/bin/bash
# Puts k3s's server state on the cluster's state volume before k3s first starts (embedded by render/cloud_init.py,
# run by cloud-init on the control plane, on every new control plane of the same cluster).
#
#   prepare-k3s-state.sh VOLUME_ID CA_DIR
#
# 1. mount-volume.sh: the state volume (attached at boot) mounted at the state path; a filesystem only if blank.
# 2. A volume without a cluster on it starts one: the CA certificates and keys the program generated (CA_DIR,
#    written from the user data) go into its server/tls/, where k3s takes them instead of making its own. A volume
#    with a cluster on it is resumed as it is, once its server CA is found to be the one the program knows.
# 3. Bind-mounts the volume's server/ at k3s's server directory, its node/ at /etc/rancher/node (the node
#    password, which the datastore checks when this node joins again) and its storage/ at k3s's local storage (the
#    local-path volumes of this node, such as the hub database of a hub whose homes are on NFS), through fstab, so
#    every boot does the same.
#    k3s.service RequiresMountsFor both (a drop-in in the user data): without the volume k3s does not start,
#    rather than start a new, empty cluster on the root disk.
# 4. Removes CA_DIR: the keys live on the volume from here on.
# Safe to run again, at any time: a second run changes nothing.
#
# The tests run it against a loop device; these variables move its paths (defaults: the production paths), with
# mount-volume.sh's own (HUBSTACK_VOLUME_DEVICE, HUBSTACK_FSTAB, HUBSTACK_DEVICE_WAIT_SECONDS):
#   HUBSTACK_MOUNT_VOLUME      mount-volume.sh (/usr/local/sbin/hubstack-mount-volume)
#   HUBSTACK_K3S_STATE_PATH    where the volume is mounted (/var/lib/hubstack/k3s-state)
#   HUBSTACK_K3S_SERVER_DIR    k3s's server directory (/var/lib/rancher/k3s/server)
#   HUBSTACK_K3S_NODE_DIR      k3s's node identity (/etc/rancher/node)
#   HUBSTACK_K3S_STORAGE_DIR   k3s's local-path storage (/var/lib/rancher/k3s/storage)
set -euo pipefail

log() { echo "prepare-k3s-state: $*"; }
fail() {
  echo "prepare-k3s-state: ERROR: $*" >&2
  exit 1
}

[ "$#" -eq 2 ] || fail "usage: $0 VOLUME_ID CA_DIR"
volume_id=$1
ca_dir=$2
mount_volume=${HUBSTACK_MOUNT_VOLUME:-/usr/local/sbin/hubstack-mount-volume}
state=${HUBSTACK_K3S_STATE_PATH:-/var/lib/hubstack/k3s-state}
server_dir=${HUBSTACK_K3S_SERVER_DIR:-/var/lib/rancher/k3s/server}
node_dir=${HUBSTACK_K3S_NODE_DIR:-/etc/rancher/node}
storage_dir=${HUBSTACK_K3S_STORAGE_DIR:-/var/lib/rancher/k3s/storage}

# ------------------------------------------------------------------------------------------ 1. the volume
"$mount_volume" "$volume_id" "$state" hubstack-k3s

# ------------------------------------------------------------------------------- 2. a new cluster or this one
tls="$state/server/tls"
if [ -f "$tls/server-ca.crt" ]; then
  if [ -d "$ca_dir" ] && ! cmp -s "$ca_dir/server-ca.crt" "$tls/server-ca.crt"; then
    fail "the state volume $volume_id holds another cluster (its server CA is not this stack's):" \
      "not starting k3s on it; attach this stack's state volume, or an empty one for a new cluster"
  fi
  log "the state volume holds this cluster: resuming it"
elif [ -e "$state/server/db" ]; then
  fail "the state volume $volume_id holds a datastore but no server CA: not touching it"
else
  [ -f "$ca_dir/server-ca.crt" ] || fail "no CA certificates in $ca_dir to start a new cluster with"
  install -d -m 0700 "$state/server" "$tls"
  cp -a "$ca_dir/." "$tls/"
  find "$tls" -type f -name '*.key' -exec chmod 0600 {} +
  log "a new cluster: its CA certificates are on the state volume"
fi
install -d -m 0700 "$state/server" "$state/node"
# The local-path provisioner's directory: world-traversable, as k3s makes it, for the pods' own uids.
install -d -m 0711 "$state/storage"

# ------------------------------------------------------------------------- 3. bind-mounted where k3s looks
"$mount_volume" --bind "$state/server" "$server_dir"
"$mount_volume" --bind "$state/node" "$node_dir"
"$mount_volume" --bind "$state/storage" "$storage_dir"

# --------------------------------------------------------------------------------------- 4. no second copy
rm -rf "$ca_dir"
