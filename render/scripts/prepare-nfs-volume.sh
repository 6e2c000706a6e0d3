#!/bin/bash
# Prepares the NFS data volume on the server that exports it (embedded by render/cloud_init.py, run by cloud-init).
#
#   prepare-nfs-volume.sh VOLUME_ID CLIENT_CIDR
#
# 1. Waits (bounded) for the Cinder volume's device: Pulumi attaches the volume after the server has booted.
# 2. Creates a filesystem only when the device holds neither a filesystem nor a partition table. A volume that
#    holds data, and anything this script cannot identify for certain, is never formatted.
# 3. Mounts it by filesystem UUID through fstab (nofail) at the export path, with data/ and home/ in it.
# 4. Exports the path to the hub's subnet only and reloads the NFS exports.
# Safe to run again, at any time: a second run changes nothing.
#
# The tests run it against a loop device; these variables move its paths (defaults: the production paths):
#   HUBSTACK_NFS_DEVICE            the block device, instead of looking it up by the volume ID
#   HUBSTACK_NFS_EXPORT_PATH       mount point and export (/export/shared, render/cloud_init.py NFS_EXPORT_PATH)
#   HUBSTACK_FSTAB                 /etc/fstab
#   HUBSTACK_EXPORTS_FILE          /etc/exports.d/hubstack.exports
#   HUBSTACK_DEVICE_WAIT_SECONDS   how long to wait for the device (900)
set -euo pipefail

readonly NEW_FILESYSTEM=ext4
readonly LABEL=hubstack-data
# Filesystems mounted as they are found (made by this script, or by an admin restoring data by hand).
readonly MOUNTABLE_FILESYSTEMS=" ext4 ext3 ext2 xfs btrfs "
readonly EXPORT_OPTIONS="rw,sync,no_subtree_check,no_root_squash,mp"

log() { echo "prepare-nfs-volume: $*"; }
fail() {
  echo "prepare-nfs-volume: ERROR: $*" >&2
  exit 1
}

[ "$#" -eq 2 ] || fail "usage: $0 VOLUME_ID CLIENT_CIDR"
volume_id=$1
client_cidr=$2
export_path=${HUBSTACK_NFS_EXPORT_PATH:-/export/shared}
fstab=${HUBSTACK_FSTAB:-/etc/fstab}
exports_file=${HUBSTACK_EXPORTS_FILE:-/etc/exports.d/hubstack.exports}
wait_seconds=${HUBSTACK_DEVICE_WAIT_SECONDS:-900}

[[ $volume_id =~ ^[0-9a-f-]{20,64}$ ]] || fail "volume ID '$volume_id' is not a Cinder volume ID"
[[ $client_cidr =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}/[0-9]{1,2}$ ]] || fail "'$client_cidr' is not an IPv4 CIDR"

# --------------------------------------------------------------------------------------------- 1. the device
if [ -n "${HUBSTACK_NFS_DEVICE:-}" ]; then
  candidates=("$HUBSTACK_NFS_DEVICE")
else
  # virtio-blk names the disk by its serial, the volume ID cut to 20 characters; virtio-scsi by the whole ID
  # (some clouds cut that one too).
  candidates=(
    "/dev/disk/by-id/virtio-${volume_id:0:20}"
    "/dev/disk/by-id/scsi-0QEMU_QEMU_HARDDISK_${volume_id}"
    "/dev/disk/by-id/scsi-0QEMU_QEMU_HARDDISK_${volume_id:0:20}"
  )
fi

device=""
deadline=$((SECONDS + wait_seconds))
while [ -z "$device" ]; do
  for candidate in "${candidates[@]}"; do
    if [ -b "$candidate" ]; then
      device=$(readlink -f "$candidate")
      break
    fi
  done
  if [ -z "$device" ]; then
    if [ "$SECONDS" -ge "$deadline" ]; then
      fail "volume $volume_id did not appear within ${wait_seconds}s (looked for ${candidates[*]});" \
        "is it attached to this server? (openstack server volume list <server>)"
    fi
    sleep 5
  fi
done
log "volume $volume_id is $device"

# ---------------------------------------------------------------------------- 2. a filesystem, only on a blank disk
# blkid also answers "nothing found" (2) for a device it cannot open: read the device first.
dd if="$device" of=/dev/null bs=4096 count=1 status=none || fail "cannot read $device: not touching it"

probe() { blkid -p -o export "$device"; }
value_of() { sed -n "s/^$1=//p" <<<"$2"; }

probe_status=0
probe_output=$(probe) || probe_status=$?
case "$probe_status" in
  0) ;;
  2)
    log "$device holds no filesystem and no partition table: creating $NEW_FILESYSTEM"
    # -m 0: no blocks reserved for root, the volume holds only data (5% of a large volume would be lost).
    mkfs."$NEW_FILESYSTEM" -q -m 0 -L "$LABEL" "$device"
    probe_status=0
    probe_output=$(probe) || probe_status=$?
    [ "$probe_status" -eq 0 ] || fail "blkid does not see the filesystem just made on $device (exit $probe_status)"
    ;;
  *) fail "blkid cannot tell what $device holds (exit $probe_status): not touching it" ;;
esac

partition_table=$(value_of PTTYPE "$probe_output")
filesystem=$(value_of TYPE "$probe_output")
uuid=$(value_of UUID "$probe_output")
if [ -n "$partition_table" ]; then
  fail "$device has a $partition_table partition table: not formatting or mounting it;" \
    "mount the partition that holds the data at $export_path by hand"
fi
if [[ $MOUNTABLE_FILESYSTEMS != *" $filesystem "* ]]; then
  fail "$device holds '${filesystem:-an unknown signature}', not one of:$MOUNTABLE_FILESYSTEMS: not touching it"
fi
[ -n "$uuid" ] || fail "the $filesystem filesystem on $device has no UUID"
log "$device holds a $filesystem filesystem, UUID $uuid"

# ------------------------------------------------------------------------------- 3. mounted by UUID through fstab
# nofail: a missing volume does not stop the boot; x-systemd.before: the NFS server starts after the mount attempt
# (and, with the export option mp below, exports the path only when the volume is mounted there).
entry="UUID=$uuid $export_path $filesystem defaults,nofail,x-systemd.before=nfs-server.service 0 2"
touch "$fstab"
if ! grep -qxF "$entry" "$fstab"; then
  # Another volume mounted here before (a restored one replaces it): its line goes, ours comes in.
  new_fstab=$(mktemp "$fstab.XXXXXX")
  awk -v path="$export_path" '$1 ~ /^#/ || $2 != path' "$fstab" >"$new_fstab"
  echo "$entry" >>"$new_fstab"
  chmod 0644 "$new_fstab"
  mv "$new_fstab" "$fstab"
  systemctl daemon-reload
  log "fstab: $entry"
fi

mkdir -p "$export_path"
if mountpoint -q "$export_path"; then
  source=$(findmnt -n -o SOURCE --mountpoint "$export_path")
  mounted_uuid=$(blkid -p -s UUID -o value "$source" || true)
  [ "$mounted_uuid" = "$uuid" ] || fail "$export_path already holds $source (UUID '$mounted_uuid'), not $uuid"
else
  mount --fstab "$fstab" "$export_path"
  log "mounted $device at $export_path"
fi
# data/: the shared data (render/shared_data.py); home/: the homes when they live on NFS (render/storage.py).
mkdir -p "$export_path/data" "$export_path/home"

# ------------------------------------------------------------------------------------- 4. exported to the subnet
# no_root_squash: the kubelet creates each user's subPath directory as root and the hub's init container then
# chowns it (render/jupyterhub.py). mp: exported only while the volume is mounted, never the empty directory below.
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
