#!/bin/bash
# Mounts a Cinder volume by its ID, making a filesystem on it only when it is blank (embedded by
# render/cloud_init.py; run by prepare-nfs-volume.sh and prepare-k3s-state.sh).
#
#   mount-volume.sh VOLUME_ID MOUNT_PATH LABEL [MOUNT_OPTIONS]
#   mount-volume.sh --bind SOURCE TARGET
#
# 1. Waits (bounded) for the volume's device: it may be attached after the server has booted.
# 2. Creates a filesystem (labelled LABEL) only when the device holds neither a filesystem nor a partition table.
#    A volume that holds data, and anything this script cannot identify for certain, is never formatted.
# 3. Mounts it by filesystem UUID through fstab (nofail, plus MOUNT_OPTIONS) at MOUNT_PATH, after growing its
#    filesystem to the device when the volume was extended (grow-filesystem.sh).
# --bind: SOURCE, a directory on a mounted volume, bind-mounted at TARGET through fstab (nofail, and only once the
# volume's own mount is there: x-systemd.requires-mounts-for).
# Safe to run again, at any time: a second run changes nothing.
#
# The tests run it against a loop device; these variables move its paths (defaults: the production paths):
#   HUBSTACK_VOLUME_DEVICE         the block device, instead of looking it up by the volume ID
#   HUBSTACK_FSTAB                 /etc/fstab
#   HUBSTACK_DEVICE_WAIT_SECONDS   how long to wait for the device (900)
#   HUBSTACK_GROW_FILESYSTEM       grow-filesystem.sh (/usr/local/sbin/hubstack-grow-filesystem)
set -euo pipefail

readonly NEW_FILESYSTEM=ext4
# Filesystems mounted as they are found (made by this script, or by an admin restoring data by hand).
readonly MOUNTABLE_FILESYSTEMS=" ext4 ext3 ext2 xfs btrfs "

log() { echo "mount-volume: $*"; }
fail() {
  echo "mount-volume: ERROR: $*" >&2
  exit 1
}

fstab=${HUBSTACK_FSTAB:-/etc/fstab}

# fstab gets `entry` for `path`; another line for that path (a volume mounted there before, a restored one that
# replaces it) goes.
fstab_entry() {
  local path=$1 entry=$2 new_fstab
  touch "$fstab"
  grep -qxF "$entry" "$fstab" && return 0
  new_fstab=$(mktemp "$fstab.XXXXXX")
  awk -v path="$path" '$1 ~ /^#/ || $2 != path' "$fstab" >"$new_fstab"
  echo "$entry" >>"$new_fstab"
  chmod 0644 "$new_fstab"
  mv "$new_fstab" "$fstab"
  systemctl daemon-reload
  log "fstab: $entry"
}

if [ "${1:-}" = --bind ]; then
  [ "$#" -eq 3 ] || fail "usage: $0 --bind SOURCE TARGET"
  source=$2
  target=$3
  [[ $source == /* && $target == /* ]] || fail "bind mount paths '$source' and '$target' must be absolute"
  volume_mount=$(findmnt -n -o TARGET -T "$source")
  fstab_entry "$target" "$source $target none bind,nofail,x-systemd.requires-mounts-for=$volume_mount 0 0"
  mkdir -p "$target"
  if mountpoint -q "$target"; then
    # A bind mount of the source is the same directory: the same device and inode.
    [ "$(stat -c %d:%i "$target")" = "$(stat -c %d:%i "$source")" ] ||
      fail "$target is already a mount point, not of $source"
  else
    mount --fstab "$fstab" "$target"
    log "mounted $source at $target"
  fi
  exit 0
fi

[ "$#" -eq 3 ] || [ "$#" -eq 4 ] || fail "usage: $0 VOLUME_ID MOUNT_PATH LABEL [MOUNT_OPTIONS]"
volume_id=$1
mount_path=$2
label=$3
extra_options=${4:-}
wait_seconds=${HUBSTACK_DEVICE_WAIT_SECONDS:-900}
grow_filesystem=${HUBSTACK_GROW_FILESYSTEM:-/usr/local/sbin/hubstack-grow-filesystem}

[[ $volume_id =~ ^[0-9a-f-]{20,64}$ ]] || fail "volume ID '$volume_id' is not a Cinder volume ID"
[[ $mount_path == /* ]] || fail "mount path '$mount_path' is not absolute"
[[ $extra_options =~ ^[A-Za-z0-9_.=,/-]*$ ]] || fail "mount options '$extra_options' are not a plain option list"

# --------------------------------------------------------------------------------------------- 1. the device
if [ -n "${HUBSTACK_VOLUME_DEVICE:-}" ]; then
  candidates=("$HUBSTACK_VOLUME_DEVICE")
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
    mkfs."$NEW_FILESYSTEM" -q -m 0 -L "$label" "$device"
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
    "mount the partition that holds the data at $mount_path by hand"
fi
if [[ $MOUNTABLE_FILESYSTEMS != *" $filesystem "* ]]; then
  fail "$device holds '${filesystem:-an unknown signature}', not one of:$MOUNTABLE_FILESYSTEMS: not touching it"
fi
[ -n "$uuid" ] || fail "the $filesystem filesystem on $device has no UUID"
log "$device holds a $filesystem filesystem, UUID $uuid"

# ------------------------------------------------------------------------------- 3. mounted by UUID through fstab
# nofail: a missing volume does not stop the boot (the services that need it say so: RequiresMountsFor, or the
# NFS export option mp).
fstab_entry "$mount_path" "UUID=$uuid $mount_path $filesystem defaults,nofail${extra_options:+,$extra_options} 0 2"

mkdir -p "$mount_path"
if mountpoint -q "$mount_path"; then
  source=$(findmnt -n -o SOURCE --mountpoint "$mount_path")
  mounted_uuid=$(blkid -p -s UUID -o value "$source" || true)
  [ "$mounted_uuid" = "$uuid" ] || fail "$mount_path already holds $source (UUID '$mounted_uuid'), not $uuid"
else
  # A volume grown while it was detached (or while its server was off) gets the room before it is mounted.
  "$grow_filesystem" "$device" || log "WARNING: could not grow the filesystem on $device; mounting it as it is"
  mount --fstab "$fstab" "$mount_path"
  log "mounted $device at $mount_path"
fi
