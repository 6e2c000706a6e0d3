#!/bin/bash
# Grows a volume's ext2/3/4 filesystem to the size of its device (embedded by render/cloud_init.py; run by
# mount-volume.sh before it mounts a volume, and by the sync timer on the server that holds the shared data).
#
#   grow-filesystem.sh DEVICE|MOUNT_PATH
#
# Growing hub.sharedData.sizeGb extends the Cinder volume in place (online); the guest sees a larger disk, and this
# makes the filesystem use it: online (resize2fs on the mounted filesystem) on a running server, offline (after a
# forced e2fsck) before a mount. Nothing happens unless the device is at least GROW_THRESHOLD_MB larger than the
# filesystem. Other filesystems are left as they are, with a note.
set -euo pipefail

readonly GROW_THRESHOLD_MB=64

log() { echo "grow-filesystem: $*"; }
fail() {
  echo "grow-filesystem: ERROR: $*" >&2
  exit 1
}

[ "$#" -eq 1 ] || fail "usage: $0 DEVICE|MOUNT_PATH"
if [ -b "$1" ]; then
  device=$(readlink -f "$1")
else
  device=$(findmnt -n -o SOURCE --mountpoint "$1") || fail "$1 is neither a block device nor a mount point"
fi
type=$(blkid -p -s TYPE -o value "$device" || true)
case "$type" in
  ext2 | ext3 | ext4) ;;
  *)
    log "$device holds '${type:-nothing known}': not grown by this script"
    exit 0
    ;;
esac

header=$(dumpe2fs -h "$device" 2>/dev/null)
block_count=$(sed -n 's/^Block count: *//p' <<<"$header")
block_size=$(sed -n 's/^Block size: *//p' <<<"$header")
if [ -z "$block_count" ] || [ -z "$block_size" ]; then
  fail "cannot read the size of the filesystem on $device"
fi
filesystem_bytes=$((block_count * block_size))
device_bytes=$(blockdev --getsize64 "$device")
if [ $((device_bytes - filesystem_bytes)) -lt $((GROW_THRESHOLD_MB * 1024 * 1024)) ]; then
  exit 0
fi

log "$device is $((device_bytes / 1048576)) MiB, its filesystem $((filesystem_bytes / 1048576)) MiB: growing it"
if findmnt -n -S "$device" >/dev/null; then
  resize2fs "$device"
else
  # resize2fs wants a freshly checked filesystem when it is not mounted; -p repairs only what is safe (exit 1).
  status=0
  e2fsck -f -p "$device" || status=$?
  [ "$status" -le 1 ] || fail "e2fsck found problems on $device (exit $status): not growing it; check it by hand"
  resize2fs "$device"
fi
log "grown: $(dumpe2fs -h "$device" 2>/dev/null | sed -n 's/^Block count: *//p') blocks of $block_size bytes"
