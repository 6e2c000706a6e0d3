#!/bin/bash
# Exports the NFS share to the hub's own servers, one address each, on a network the hub shares with other
# projects (hub.cloud.networkId; embedded by render/cloud_init.py on the server that serves the share, run by
# cloud-init after prepare-nfs-volume.sh, then by hubstack-sync-node.service every two minutes).
#
#   export-nfs-nodes.sh
#
# The addresses come from this server's Nova metadata (hubstack-nfs-clients-00, -01, ...: one space-separated text
# in pieces of Nova's 255 characters), which Pulumi changes in place as workers come and go. They are written to
# their own exports file, with the options of prepare-nfs-volume.sh's export (which admits this server alone on
# such a network), and the exports are reloaded when they change. Its own script, not a step of sync-node.sh:
# sync-node.sh is in every server's user data, where a change would replace the servers of every running hub.
#
# The tests run it against a local metadata server; these variables move its paths (defaults: the production ones):
#   HUBSTACK_METADATA_URL          http://169.254.169.254/openstack/latest/meta_data.json
#   HUBSTACK_EXPORTS_FILE          prepare-nfs-volume.sh's exports (/etc/exports.d/hubstack.exports)
#   HUBSTACK_NODE_EXPORTS_FILE     this script's (/etc/exports.d/hubstack-nodes.exports)
set -euo pipefail

log() { echo "export-nfs-nodes: $*"; }
fail() {
  echo "export-nfs-nodes: ERROR: $*" >&2
  exit 1
}

[ "$#" -eq 0 ] || fail "usage: $0"
metadata_url=${HUBSTACK_METADATA_URL:-http://169.254.169.254/openstack/latest/meta_data.json}
exports_file=${HUBSTACK_EXPORTS_FILE:-/etc/exports.d/hubstack.exports}
node_exports_file=${HUBSTACK_NODE_EXPORTS_FILE:-/etc/exports.d/hubstack-nodes.exports}

# The path and options of the share's export: the one line of prepare-nfs-volume.sh's file.
read -r export_path first_client < <(grep -v '^#' "$exports_file" | head -n 1) ||
  fail "no export in $exports_file: prepare-nfs-volume.sh runs first"
[[ $first_client =~ \((.*)\)$ ]] || fail "cannot read the export options from '$first_client' in $exports_file"
options=${BASH_REMATCH[1]}

metadata=$(curl -sf --retry 5 --retry-delay 2 --retry-all-errors --max-time 10 "$metadata_url") ||
  fail "cannot read this server's metadata from $metadata_url: is Nova's metadata service reachable?"
clients=$(python3 -c '
import json, sys
meta = json.loads(sys.argv[1]).get("meta", {})
print("".join(meta[key] for key in sorted(meta) if key.startswith("hubstack-nfs-clients-")))
' "$metadata")
[ -n "$clients" ] || fail "no hubstack-nfs-clients-* in this server's metadata: nothing to export to"
for client in $clients; do
  [[ $client =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]] || fail "'$client' in hubstack-nfs-clients is not an IPv4 address"
done

new_exports=$(mktemp "$node_exports_file.XXXXXX")
{
  echo "# hubstack: the share, for the hub's own servers only (written by export-nfs-nodes from Nova metadata)"
  for client in $clients; do
    echo "$export_path $client($options)"
  done
} >"$new_exports"
chmod 0644 "$new_exports"
if cmp -s "$new_exports" "$node_exports_file"; then
  rm -f "$new_exports"
  exit 0
fi
mv "$new_exports" "$node_exports_file"
exportfs -ra
log "exported $export_path to $clients"
