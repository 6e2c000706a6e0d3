#!/bin/bash
# Brings this server to what its Nova metadata says (embedded by render/cloud_init.py; run by cloud-init at first
# boot, then every two minutes by hubstack-sync-node.timer).
#
#   sync-node.sh server|agent|none USER
#
# The admins' SSH keys and the k3s version are in the server's metadata, not in its user data: Pulumi updates
# metadata in place, where a change of user data replaces the server. So an admin's key or a k3s upgrade reaches
# running servers without replacing one, and a replaced server comes up with the current ones.
# 1. SSH keys (hubstack-ssh-keys-00, -01, ...: one text cut in pieces of Nova's 255 characters): written into USER's
#    authorized_keys between hubstack's markers; the lines around them (the program's key, from cloud-init) stay.
# 2. On k3s nodes (hubstack-nfs-server: the private address of the server that serves the share): the name
#    Kubernetes' NFS volumes mount from (hubstack-nfs) in /etc/hosts, between hubstack's markers; removed when the hub
#    has no share. Moving the share to another server changes this metadata, never a PersistentVolume.
# 3. On the control plane (hubstack-workers-00, ...: the workers' server names): the Node objects of workers that
#    went are deleted: a worker that is NotReady and either no longer listed or replaced (a Ready node of the same
#    hostname is there). A stale Node keeps its pods Terminating and their volumes attached, which blocks a user's
#    next spawn. A listed worker that is only down is left alone.
# 4. k3s (server and agent; hubstack-k3s-version): installed at that version if it is not the one installed. An
#    upgrade goes one minor version at a time and never down (k3s's rule); an agent waits until the API server runs
#    the version (servers before agents).
#
# The tests run it against a local metadata server; these variables move its paths (defaults: the production ones):
#   HUBSTACK_METADATA_URL      http://169.254.169.254/openstack/latest/meta_data.json
#   HUBSTACK_METADATA_RETRIES  how often to try again when it does not answer (5, two seconds apart)
#   HUBSTACK_AUTHORIZED_KEYS   USER's ~/.ssh/authorized_keys
#   HUBSTACK_HOSTS             /etc/hosts
#   HUBSTACK_INSTALL_K3S       /usr/local/sbin/hubstack-install-k3s
#   HUBSTACK_K3S               /usr/local/bin/k3s (asked for the installed version)
#   HUBSTACK_API_VERSION_URL   https://127.0.0.1:6444/version (the agent's own proxy to the API server)
#   HUBSTACK_K3S_AGENT_DIR     /var/lib/rancher/k3s/agent (the kubelet's client certificate, to ask the API server)
set -euo pipefail

readonly BEGIN_MARK="# hubstack: admins' keys (cluster.sshPublicKeys), kept by hubstack-sync-node; do not edit"
readonly END_MARK="# hubstack: end of admins' keys"
readonly NFS_BEGIN_MARK="# hubstack: the NFS server (hub.sharedData), kept by hubstack-sync-node; do not edit"
readonly NFS_END_MARK="# hubstack: end of the NFS server"
readonly NFS_SERVER_NAME=hubstack-nfs

log() { echo "sync-node: $*"; }
fail() {
  echo "sync-node: ERROR: $*" >&2
  exit 1
}

[ "$#" -eq 2 ] || fail "usage: $0 server|agent|none USER"
role=$1
user=$2
case "$role" in
  server | agent | none) ;;
  *) fail "role must be server, agent or none, not '$role'" ;;
esac
metadata_url=${HUBSTACK_METADATA_URL:-http://169.254.169.254/openstack/latest/meta_data.json}
install_k3s=${HUBSTACK_INSTALL_K3S:-/usr/local/sbin/hubstack-install-k3s}
k3s=${HUBSTACK_K3S:-/usr/local/bin/k3s}
api_version_url=${HUBSTACK_API_VERSION_URL:-https://127.0.0.1:6444/version}
agent_dir=${HUBSTACK_K3S_AGENT_DIR:-/var/lib/rancher/k3s/agent}
hosts=${HUBSTACK_HOSTS:-/etc/hosts}
if [ -n "${HUBSTACK_AUTHORIZED_KEYS:-}" ]; then
  authorized_keys=$HUBSTACK_AUTHORIZED_KEYS
else
  home=$(getent passwd "$user" | cut -d: -f6)
  [ -n "$home" ] || fail "no user '$user' on this server"
  authorized_keys="$home/.ssh/authorized_keys"
fi

retries=${HUBSTACK_METADATA_RETRIES:-5}
metadata=$(curl -sf --retry "$retries" --retry-delay 2 --retry-all-errors --max-time 10 "$metadata_url") ||
  fail "cannot read this server's metadata from $metadata_url: is Nova's metadata service reachable?"
# meta.<key> of the metadata document; the SSH keys joined from their pieces, in order.
meta() {
  python3 -c '
import json, sys
meta = json.loads(sys.argv[1]).get("meta", {})
if sys.argv[2].endswith("-"):
    pieces = sorted(key for key in meta if key.startswith(sys.argv[2]))
    if not pieces:
        sys.exit(3)
    sys.stdout.write("".join(meta[key] for key in pieces))
else:
    sys.stdout.write(meta.get(sys.argv[2], ""))
' "$metadata" "$1"
}

# FILE's lines between BEGIN and END (both included) replaced by LINES (none: no block), atomically; the file's
# owner stays, and its mode unless MODE is given. Exit 0 if that changed the file, 1 if it was already so.
replace_block() {
  local file=$1 begin=$2 end=$3 lines=$4 mode=${5:-} new
  touch "$file"
  new=$(mktemp "$file.XXXXXX")
  {
    awk -v begin="$begin" -v end="$end" '$0 == begin {skip = 1} !skip {print} $0 == end {skip = 0}' "$file"
    if [ -n "$lines" ]; then
      echo "$begin"
      printf '%s\n' "$lines"
      echo "$end"
    fi
  } >"$new"
  if cmp -s "$new" "$file"; then
    rm -f "$new"
    return 1
  fi
  chmod "${mode:-$(stat -c %a "$file")}" "$new"
  chown "$(stat -c %u:%g "$file")" "$new"
  mv "$new" "$file"
}

# ------------------------------------------------------------------------------------------- 1. SSH keys
keys=$(meta hubstack-ssh-keys-) || keys=""
mkdir -p "$(dirname "$authorized_keys")"
if replace_block "$authorized_keys" "$BEGIN_MARK" "$END_MARK" "$keys" 0600; then
  log "admins' SSH keys for $user: $(printf '%s' "$keys" | grep -c . || true)"
fi

# ------------------------------------------------------------------------------------------- 2. the NFS server
if [ "$role" != none ]; then
  address=$(meta hubstack-nfs-server)
  if [ -n "$address" ] && ! [[ $address =~ ^([0-9]{1,3}\.){3}[0-9]{1,3}$ ]]; then
    fail "hubstack-nfs-server '$address' is not an IPv4 address"
  fi
  if replace_block "$hosts" "$NFS_BEGIN_MARK" "$NFS_END_MARK" "${address:+$address $NFS_SERVER_NAME}"; then
    log "$NFS_SERVER_NAME is ${address:-(no share)}"
  fi
fi

# ---------------------------------------------------------------------------------- 3. nodes of workers that went
if [ "$role" = server ] && workers=$(meta hubstack-workers-) && [ -x "$k3s" ]; then
  nodes=$("$k3s" kubectl get nodes -l hub.jupyter.org/node-purpose=user -o json) ||
    fail "cannot list the cluster's nodes (is k3s running?)"
  stale=$(python3 -c '
import json, re, sys
workers = set(sys.argv[2].split())
nodes = json.loads(sys.argv[1])["items"]

def hostname(node):
    labels = node["metadata"].get("labels", {})
    # with-node-id: the node name is the hostname and an 8-character ID.
    return labels.get("k3s.io/hostname") or re.sub(r"-[0-9a-f]{8}$", "", node["metadata"]["name"])

def ready(node):
    return any(c["type"] == "Ready" and c["status"] == "True" for c in node.get("status", {}).get("conditions", []))

ready_hosts = {hostname(node) for node in nodes if ready(node)}
for node in nodes:
    if not ready(node) and (hostname(node) not in workers or hostname(node) in ready_hosts):
        print(node["metadata"]["name"])
' "$nodes" "$workers")
  for node in $stale; do
    log "deleting the Node $node: its worker went (its pods and volumes are released)"
    "$k3s" kubectl delete node "$node" --wait=false
  done
fi

# ------------------------------------------------------------------------------------------------ 4. k3s
[ "$role" != none ] || exit 0
wanted=$(meta hubstack-k3s-version)
[[ $wanted =~ ^v1\.([0-9]+)\.[0-9]+\+k3s[0-9]+$ ]] || fail "hubstack-k3s-version '$wanted' is not a k3s release"
wanted_minor=${BASH_REMATCH[1]}
installed=""
if [ -x "$k3s" ]; then
  installed=$("$k3s" --version | awk 'NR == 1 {print $3}')
fi
[ "$installed" != "$wanted" ] || exit 0

if [ -n "$installed" ]; then
  [[ $installed =~ ^v1\.([0-9]+)\. ]] || fail "cannot tell the installed k3s version from '$installed'"
  installed_minor=${BASH_REMATCH[1]}
  newer=$(printf '%s\n%s\n' "$installed" "$wanted" | sort -V | tail -n 1)
  if [ "$newer" = "$installed" ]; then
    fail "k3s $installed is installed and $wanted is older: k3s does not go back; set cluster.k3sVersion to" \
      "$installed or later"
  fi
  if [ "$wanted_minor" -gt $((installed_minor + 1)) ]; then
    fail "k3s $installed is installed: it upgrades one minor version at a time, so set cluster.k3sVersion to a" \
      "v1.$((installed_minor + 1)) release first, then to $wanted"
  fi
  if [ "$role" = agent ]; then
    # The API server first: an agent newer than its server is not supported.
    api=$(curl -sf --max-time 10 --cacert "$agent_dir/server-ca.crt" --cert "$agent_dir/client-kubelet.crt" \
      --key "$agent_dir/client-kubelet.key" "$api_version_url" | python3 -c \
      'import json, sys; print(json.load(sys.stdin)["gitVersion"])') || api=""
    if [ "$api" != "$wanted" ]; then
      log "k3s $wanted is wanted; the API server runs '${api:-?}': waiting for the server to upgrade first"
      exit 0
    fi
  fi
fi
log "k3s ${installed:-(none)} -> $wanted"
"$install_k3s" "$role" "$wanted"
