"""cloud-init user data of the servers (DESIGN.md, The cluster): k3s as server or agent, the NFS data volume.

Pure functions of the validated config and plain strings (the component calls them inside `Output.all().apply`),
deterministic: the same input gives the same bytes, so `pulumi preview` never sees a spurious diff of user data,
which would replace a server.

Shell lives in render/scripts/ as real files, embedded with write_files and run from runcmd; the tests run
shellcheck over them and the NFS script against a loop device.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import yaml

from config import HubConfig
from config.model import UUID_PATTERN

from .placement import USER_NODE_PURPOSE_LABEL, USER_NODE_TAINT_KEY

# Where the NFS server mounts the data volume and what it exports (render/storage.py and render/shared_data.py
# mount subdirectories of it: data/ and home/).
NFS_EXPORT_PATH = "/export/shared"

# OpenStack (Nova) refuses user data over 64 KiB.
MAX_USER_DATA_BYTES = 65535

SCRIPTS_DIR = Path(__file__).resolve().parent / "scripts"
K3S_CONFIG_PATH = "/etc/rancher/k3s/config.yaml"
K3S_KUBECONFIG_PATH = "/etc/rancher/k3s/k3s.yaml"
K3S_API_PORT = 6443
K3S_SERVER_SERVICE = "k3s.service"
K3S_AGENT_SERVICE = "k3s-agent.service"
K3S_DATA_DIR = "/var/lib/rancher/k3s"
INSTALL_K3S = "/usr/local/sbin/hubstack-install-k3s"
PREPARE_NFS_VOLUME = "/usr/local/sbin/hubstack-prepare-nfs-volume"
RENEW_K3S_CERTIFICATES = "/usr/local/sbin/hubstack-renew-k3s-certificates"
CERTIFICATE_UNIT = "hubstack-k3s-certificates"

# Image garbage collection before disk pressure (the seeds' evicted-pods story): single-user images of ~10 GB on
# a 60 GB root disk (Jetstream2 m3.medium), and an image update keeps the old image next to the new one. With the
# kubelet's defaults (collect from 85% disk use down to 80%) and k3s's eviction at 95% use, collection starts with
# 9 GB left, less than one such image: the pull of a new one runs into eviction before the next collection (every
# five minutes) frees the old one. Collecting from 70% down to 50% starts with 25% of the disk (15 GB of 60 GB)
# before eviction, and ends with room for the old and the new image side by side.
IMAGE_GC_HIGH_THRESHOLD_PERCENT = 70  # disk use at which the kubelet starts deleting unused images
IMAGE_GC_LOW_THRESHOLD_PERCENT = 50  # ... down to this use
# Hard eviction, the last resort, above the collection range: k3s's own thresholds for the disks (it passes
# imagefs/nodefs.available<5%), plus the kubelet's defaults for memory and inodes. Every signal is listed because
# the flag replaces the whole set: a signal left out is not watched at all.
EVICTION_HARD = {
    "memory.available": "100Mi",
    "nodefs.available": "5%",
    "nodefs.inodesFree": "5%",
    "imagefs.available": "5%",
    "imagefs.inodesFree": "5%",
}

# k3s renews its 365-day certificates when it starts and they expire within 90 days (120 in newer releases): the
# timer restarts k3s once one expires within 60 days, inside that window, with two months of daily retries.
CERTIFICATE_RENEW_WITHIN_DAYS = 60
# read_kubeconfig_command's wait for the kubeconfig after cloud-init has finished.
KUBECONFIG_WAIT_SECONDS = 300


@dataclass(frozen=True)
class NfsServe:
    """This server serves the NFS share."""

    volume_id: str  # Cinder volume ID of the data volume (attached to this server by Pulumi after boot)
    client_cidr: str  # the hub's subnet (config.cloud.network_cidr): export to it only


# ------------------------------------------------------------------------------------------------ user data


def control_plane_user_data(
    config: HubConfig, *, token: str, private_address: str, floating_ip: str, nfs: Optional[NfsServe]
) -> str:
    private_address, floating_ip = _ipv4(private_address, "private_address"), _ipv4(floating_ip, "floating_ip")
    k3s_config = {
        "token": _token(token),
        "node-ip": private_address,
        "advertise-address": private_address,
        "tls-san": [floating_ip, config.hostname],
        "write-kubeconfig-mode": "0600",
        "kubelet-arg": kubelet_args(),
    }
    files = [_k3s_config_file(k3s_config), *_k3s_files(K3S_SERVER_SERVICE, f"{K3S_DATA_DIR}/server/tls")]
    commands = _k3s_commands("server", config.cluster.k3s_version)
    if nfs is not None:
        files.append(_script_file("prepare-nfs-volume.sh", PREPARE_NFS_VOLUME))
        commands.append(_prepare_nfs_command(nfs))
    return _document(config, packages=_packages(nfs_server=nfs is not None), files=files, commands=commands)


def worker_user_data(config: HubConfig, *, token: str, control_plane_address: str) -> str:
    control_plane_address = _ipv4(control_plane_address, "control_plane_address")
    k3s_config = {
        "server": f"https://{control_plane_address}:{K3S_API_PORT}",
        "token": _token(token),
        "node-label": [f"{USER_NODE_PURPOSE_LABEL}=user"],
        "node-taint": [f"{USER_NODE_TAINT_KEY}=user:NoSchedule"],
        "kubelet-arg": kubelet_args(),
    }
    files = [_k3s_config_file(k3s_config), *_k3s_files(K3S_AGENT_SERVICE)]
    commands = _k3s_commands("agent", config.cluster.k3s_version)
    return _document(config, packages=_packages(nfs_server=False), files=files, commands=commands)


def nfs_server_user_data(config: HubConfig, *, nfs: NfsServe) -> str:
    """The dedicated NFS server: no k3s, only the data volume and its export."""
    files = [_script_file("prepare-nfs-volume.sh", PREPARE_NFS_VOLUME)]
    commands = [_prepare_nfs_command(nfs)]
    return _document(config, packages=_packages(nfs_server=True), files=files, commands=commands)


def read_kubeconfig_command(floating_ip: str) -> str:
    """Shell run over SSH (as the image's sudoer) on the control plane: prints its kubeconfig for the API at
    the floating IP."""
    floating_ip = _ipv4(floating_ip, "floating_ip")
    attempts = KUBECONFIG_WAIT_SECONDS // 5
    rewrite = f"s#https://127.0.0.1:{K3S_API_PORT}#https://{floating_ip}:{K3S_API_PORT}#"
    return "\n".join(
        [
            "set -eu",
            # 2: done with recoverable errors (deprecated keys and such, cloud-init 23.4 and later).
            "status=0",
            "cloud-init status --wait >/dev/null || status=$?",
            'if [ "$status" -ne 0 ] && [ "$status" -ne 2 ]; then',
            '  echo "cloud-init failed on the control plane (exit $status):'
            ' see /var/log/cloud-init-output.log there" >&2',
            "  exit 1",
            "fi",
            "attempt=0",
            f"while ! sudo test -s {K3S_KUBECONFIG_PATH}; do",
            "  attempt=$((attempt + 1))",
            f'  if [ "$attempt" -gt {attempts} ]; then',
            f'    echo "no {K3S_KUBECONFIG_PATH} after {KUBECONFIG_WAIT_SECONDS}s:'
            ' is k3s running? (systemctl status k3s)" >&2',
            "    exit 1",
            "  fi",
            "  sleep 5",
            "done",
            f"sudo sed {shlex.quote(rewrite)} {K3S_KUBECONFIG_PATH}",
        ]
    ) + "\n"


def kubelet_args() -> list[str]:
    eviction = ",".join(f"{signal}<{threshold}" for signal, threshold in EVICTION_HARD.items())
    return [
        f"image-gc-high-threshold={IMAGE_GC_HIGH_THRESHOLD_PERCENT}",
        f"image-gc-low-threshold={IMAGE_GC_LOW_THRESHOLD_PERCENT}",
        f"eviction-hard={eviction}",
    ]


# -------------------------------------------------------------------------------------------------- pieces


def _packages(*, nfs_server: bool) -> list[str]:
    # nfs-common: every k3s node mounts the share (the kubelet's NFS volumes); the server also exports it.
    return ["nfs-common", "nfs-kernel-server"] if nfs_server else ["nfs-common"]


def _k3s_config_file(settings: dict[str, Any]) -> dict[str, Any]:
    # The only place the join token is written: root-only, read by the k3s service and `k3s` commands.
    content = yaml.safe_dump(settings, sort_keys=False, default_flow_style=False)
    return _file(K3S_CONFIG_PATH, content, "0600")


def _k3s_files(service: str, *certificate_dirs: str) -> list[dict[str, Any]]:
    directories = [*certificate_dirs, f"{K3S_DATA_DIR}/agent"]
    command = shlex.join([RENEW_K3S_CERTIFICATES, service, str(CERTIFICATE_RENEW_WITHIN_DAYS), *directories])
    unit = (
        "[Unit]\n"
        f"Description=Restart {service} when a k3s certificate expires within {CERTIFICATE_RENEW_WITHIN_DAYS}"
        " days, so that k3s renews it\n"
        f"After={service}\n"
        "ConditionPathExists=/usr/local/bin/k3s\n"
        "\n"
        "[Service]\n"
        "Type=oneshot\n"
        f"ExecStart={command}\n"
    )
    timer = (
        "[Unit]\n"
        "Description=Daily check of the k3s certificates\n"
        "\n"
        "[Timer]\n"
        "OnCalendar=daily\n"
        # Not every node of every hub at midnight; a day missed while the server was off is caught up at boot.
        "RandomizedDelaySec=1h\n"
        "Persistent=true\n"
        "\n"
        "[Install]\n"
        "WantedBy=timers.target\n"
    )
    return [
        _script_file("install-k3s.sh", INSTALL_K3S),
        _script_file("renew-k3s-certificates.sh", RENEW_K3S_CERTIFICATES),
        _file(f"/etc/systemd/system/{CERTIFICATE_UNIT}.service", unit, "0644"),
        _file(f"/etc/systemd/system/{CERTIFICATE_UNIT}.timer", timer, "0644"),
    ]


def _k3s_commands(role: str, version: str) -> list[str]:
    return [
        shlex.join([INSTALL_K3S, role, version]),
        "systemctl daemon-reload",
        f"systemctl enable --now {CERTIFICATE_UNIT}.timer",
    ]


def _prepare_nfs_command(nfs: NfsServe) -> str:
    if not re.fullmatch(UUID_PATTERN, nfs.volume_id):
        raise ValueError(f"NfsServe.volume_id {nfs.volume_id!r} is not a Cinder volume ID (a UUID)")
    try:
        cidr = ipaddress.IPv4Network(nfs.client_cidr, strict=True)
    except ValueError:
        raise ValueError(f"NfsServe.client_cidr {nfs.client_cidr!r} is not an IPv4 CIDR such as 10.0.42.0/24") from None
    return shlex.join([PREPARE_NFS_VOLUME, nfs.volume_id, str(cidr)])


def _script_file(name: str, path: str) -> dict[str, Any]:
    return _file(path, (SCRIPTS_DIR / name).read_text(), "0755")


def _file(path: str, content: str, permissions: str) -> dict[str, Any]:
    return {"path": path, "owner": "root:root", "permissions": permissions, "content": content}


def _document(
    config: HubConfig, *, packages: list[str], files: list[dict[str, Any]], commands: list[str]
) -> str:
    document: dict[str, Any] = {"package_update": True, "packages": packages}
    if config.cluster.ssh_public_keys:
        # Admins' keys, for humans; Pulumi's own key reaches the server through the Nova key pair.
        document["ssh_authorized_keys"] = list(config.cluster.ssh_public_keys)
    document["write_files"] = files
    # cloud-init writes runcmd into one sh script: `set -e` makes a failed step fail cloud-init (which
    # read_kubeconfig_command reports) instead of being hidden by the steps after it.
    document["runcmd"] = ["set -e", *commands]
    text = "#cloud-config\n" + yaml.dump(document, Dumper=_Dumper, sort_keys=False, width=1000)
    size = len(text.encode())
    if size > MAX_USER_DATA_BYTES:
        raise ValueError(f"cloud-init user data is {size} bytes; OpenStack accepts at most {MAX_USER_DATA_BYTES}")
    return text


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (scripts, units) as readable literal blocks."""


def _string(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _string)


def _ipv4(value: str, name: str) -> str:
    try:
        return str(ipaddress.IPv4Address(value))
    except ValueError:
        raise ValueError(f"{name} {value!r} is not an IPv4 address") from None


def _token(token: str) -> str:
    if not token or any(character.isspace() for character in token):
        raise ValueError("the k3s token must be a non-empty string without whitespace")
    return token
