#!/bin/bash
# Prepares the NFS data volume on the server that exports it (embedded by render/cloud_init.py, run by cloud-init).
#
#   prepare-nfs-volume.sh VOLUME_ID CLIENT_CIDR UID:GID
#
# 1.-3. mount-volume.sh: waits for the Cinder volume's device (Pulumi attaches the volume after the server has
#    booted), makes a filesystem only on a blank one, mounts it by UUID through fstab at the export path, with data/
#    and home/ in it, owned by the users' UID:GID.
# 4. Exports the path to CLIENT_CIDR only, every client's user (root too) mapped to UID:GID, and reloads the NFS
#    exports.
# Safe to run again, at any time: a second run changes nothing.
#
# The tests run it against a loop device; these variables move its paths (defaults: the production paths), with
# mount-volume.sh's own (HUBSTACK_VOLUME_DEVICE, HUBSTACK_FSTAB, HUBSTACK_DEVICE_WAIT_SECONDS):
#   HUBSTACK_MOUNT_VOLUME          mount-volume.sh (/usr/local/sbin/hubstack-mount-volume)
#   HUBSTACK_NFS_EXPORT_PATH       mount point and export (/export/shared, render/cloud_init.py NFS_EXPORT_PATH)
#   HUBSTACK_EXPORTS_FILE          /etc/exports.d/hubstack.exports
set -euo pipefail

log() { echo "prepare-nfs-volume: $*"; }
fail() {
  echo "prepare-nfs-volume: ERROR: $*" >&2
  exit 1
}

[ "$#" -eq 3 ] || fail "usage: $0 VOLUME_ID CLIENT_CIDR UID:GID"
[[ $3 =~ ^([0-9]+):([0-9]+)$ ]] || fail "'$3' is not UID:GID"
owner=$3
# all_squash: NFS takes the uid a client sends on trust, so every client is mapped to the users' own; the
# kubelet's root then creates each user's directory as theirs, and nobody gains more than a user has.
readonly EXPORT_OPTIONS="rw,sync,no_subtree_check,all_squash,anonuid=${BASH_REMATCH[1]},anongid=${BASH_REMATCH[2]},mp"

volume_id=$1
client_cidr=$2
export_path=${HUBSTACK_NFS_EXPORT_PATH:-/export/shared}
exports_file=${HUBSTACK_EXPORTS_FILE:-/etc/exports.d/hubstack.exports}
mount_volume=${HUBSTACK_MOUNT_VOLUME:-/usr/local/sbin/hubstack-mount-volume}

[[ $volume_id =~ ^[0-9a-f-]{20,64}$ ]] || fail "volume ID '$volume_id' is not a Cinder volume ID"
[[ $client_cidr =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}/[0-9]{1,2}$ ]] || fail "'$client_cidr' is not an IPv4 CIDR"

# --------------------------------------------------------------- 1.-3. the volume, mounted (a filesystem if blank)
# x-systemd.before: the NFS server starts after the mount attempt (and, with the export option mp below, exports
# the path only when the volume is mounted there).
"$mount_volume" "$volume_id" "$export_path" hubstack-data x-systemd.before=nfs-server.service
# data/: the shared data (render/shared_data.py); home/: the homes when they live on NFS (render/storage.py).
mkdir -p "$export_path/data" "$export_path/home"
# The users make their directories in home/ (and write in data/ when it is writable) as UID:GID, squashed; a
# user's directory made as root before the export squashed root (the kubelet makes it) becomes the user's too.
chown "$owner" "$export_path/data" "$export_path/home"
find "$export_path/home" -mindepth 1 -maxdepth 1 -type d ! -user "${owner%:*}" -exec chown "$owner" {} +

# ------------------------------------------------------------------------------------- 4. exported to the subnet
# mp: exported only while the volume is mounted, never the empty directory below.
mkdir -p "$(dirname "$exports_file")"
new_exports=$(mktemp "$exports_file.XXXXXX")
{
  echo "# hubstack: the NFS data volume $volume_id, for the hub's subnet only (written by prepare-nfs-volume)"
  echo "$export_path $client_cidr($EXPORT_OPTIONS)"
} >"$new_exports"
chmod 0644 "$new_exports"
mv "$new_exports" "$exports_file"
systemctl enable --now nfs-server.service
exportfs -ra
log "exported $export_path to $client_cidr"
