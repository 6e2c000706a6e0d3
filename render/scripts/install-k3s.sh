#!/bin/bash
# Installs k3s at a given version and (re)starts it (embedded by render/cloud_init.py, run by sync-node.sh at first
# boot and on every upgrade).
#
#   install-k3s.sh server|agent VERSION
#
# hubstack's own installer, not get.k3s.io's: what runs as root is what the program put in the user data, never a
# script fetched unpinned. It downloads the release's binary and checksum list from the k3s release on GitHub,
# refuses a binary whose SHA-256 is not the listed one, installs it in one rename, and writes the systemd unit that
# k3s's installer writes (k3s.service or k3s-agent.service; k3s reads /etc/rancher/k3s/config.yaml, written by
# cloud-init, 0600: it holds the join token).
#
# The tests run it with stand-ins for curl and systemctl; these variables move its paths (defaults: the production
# ones):
#   HUBSTACK_K3S_RELEASES   https://github.com/k3s-io/k3s/releases/download
#   HUBSTACK_BIN_DIR        /usr/local/bin
#   HUBSTACK_SYSTEMD_DIR    /etc/systemd/system
set -euo pipefail

log() { echo "install-k3s: $*"; }
fail() {
  echo "install-k3s: ERROR: $*" >&2
  exit 1
}

[ "$#" -eq 2 ] || {
  echo "usage: $0 server|agent VERSION" >&2
  exit 2
}
role=$1
version=$2
case "$role" in
  server) service=k3s type=notify ;;
  agent) service=k3s-agent type=exec ;;
  *)
    echo "install-k3s: ERROR: role must be server or agent, not '$role'" >&2
    exit 2
    ;;
esac
[[ $version =~ ^v1\.[0-9]+\.[0-9]+\+k3s[0-9]+$ ]] || fail "'$version' is not a k3s release (v1.X.Y+k3sN)"
case "$(uname -m)" in
  x86_64 | amd64) arch=amd64 binary=k3s ;;
  aarch64 | arm64) arch=arm64 binary=k3s-arm64 ;;
  *) fail "no k3s release for this machine's architecture ($(uname -m))" ;;
esac
releases=${HUBSTACK_K3S_RELEASES:-https://github.com/k3s-io/k3s/releases/download}
bin_dir=${HUBSTACK_BIN_DIR:-/usr/local/bin}
systemd_dir=${HUBSTACK_SYSTEMD_DIR:-/etc/systemd/system}

download=$(mktemp -d)
trap 'rm -rf "$download"' EXIT
release="$releases/${version//+/%2B}"
fetch() { curl -sfL --retry 10 --retry-delay 5 --retry-all-errors --proto =https -o "$1" "$2"; }
fetch "$download/sha256sum.txt" "$release/sha256sum-$arch.txt" || fail "cannot download $release/sha256sum-$arch.txt"
expected=$(awk -v name="$binary" '$2 == name {print $1}' "$download/sha256sum.txt")
[[ $expected =~ ^[0-9a-f]{64}$ ]] || fail "the checksum list of $version names no $binary"
fetch "$download/k3s" "$release/$binary" || fail "cannot download $release/$binary"
actual=$(sha256sum "$download/k3s" | awk '{print $1}')
[ "$actual" = "$expected" ] ||
  fail "$release/$binary has SHA-256 $actual, its release lists $expected: not installing it"

install -m 0755 "$download/k3s" "$bin_dir/.k3s.new"
mv -f "$bin_dir/.k3s.new" "$bin_dir/k3s"
for command in kubectl crictl ctr; do
  [ -e "$bin_dir/$command" ] || ln -s k3s "$bin_dir/$command"
done
cat >"$systemd_dir/$service.service" <<EOF
[Unit]
Description=Lightweight Kubernetes
Documentation=https://k3s.io
Wants=network-online.target
After=network-online.target

[Install]
WantedBy=multi-user.target

[Service]
Type=$type
EnvironmentFile=-/etc/default/%N
KillMode=process
Delegate=yes
User=root
LimitNOFILE=1048576
LimitNPROC=infinity
LimitCORE=infinity
TasksMax=infinity
TimeoutStartSec=0
Restart=always
RestartSec=5s
ExecStartPre=-/sbin/modprobe br_netfilter
ExecStartPre=-/sbin/modprobe overlay
ExecStart=$bin_dir/k3s $role
EOF
systemctl daemon-reload
systemctl enable "$service.service"
systemctl restart "$service.service"
log "k3s $version ($actual) installed; $service.service restarted"
