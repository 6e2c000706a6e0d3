"""cloud-init user data of the servers (DESIGN.md, The cluster): k3s as server or agent, its state volume, the NFS
data volume.

Pure functions of the validated config and plain strings (the component calls them inside `Output.all().apply`),
deterministic: the same input gives the same bytes, so `pulumi preview` never sees a spurious diff of user data,
which would replace a server.

Shell lives in render/scripts/ as real files, embedded with write_files and run from runcmd; the tests run
shellcheck over them and the NFS script against a loop device.
"""

from __future__ import annotations

import base64
import ipaddress
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence

import yaml

from config import HubConfig
from config.model import CINDER_CSI_CHART, SSH_KEYS_MAX_CHARACTERS, USER_GID, USER_UID, UUID_PATTERN

from .placement import GPU_NODE_LABEL, USER_NODE_PURPOSE_LABEL, USER_NODE_TAINT_KEY

# Where the NFS server mounts the data volume and what it exports (render/storage.py and render/shared_data.py
# mount subdirectories of it: data/ and home/).
NFS_EXPORT_PATH = "/export/shared"
# The name every k3s node knows the NFS server by (its /etc/hosts, kept by sync-node.sh from NFS_SERVER_METADATA).
# Kubernetes' NFS volumes name this, not an address: moving the share between the control plane and a dedicated
# server changes server metadata in place, never a PersistentVolume (whose server cannot change).
NFS_SERVER_NAME = "hubstack-nfs"

# NVIDIA's container toolkit on GPU workers, from NVIDIA's apt repository (the one its install guide gives, for any
# Debian-based release), whose signing key cloud-init fetches from Ubuntu's key server by this fingerprint. The
# guest driver is the image's (Jetstream2's featured images bring it); k3s finds the toolkit's runtime when it
# starts and adds it to its containerd as `nvidia`.
NVIDIA_TOOLKIT_PACKAGE = "nvidia-container-toolkit"
NVIDIA_APT_SOURCE = {
    "source": "deb [signed-by=$KEY_FILE] https://nvidia.github.io/libnvidia-container/stable/deb/$(ARCH) /",
    "keyid": "C95B321B61E88C1809C4F759DDCAE044F796ECB0",
}

# Nova takes user data base64-encoded and refuses more than this many characters of it (its API schema's maxLength):
# 48 KiB of cloud-config. Its refusal would echo the user data, secrets and all, into the error.
MAX_USER_DATA_BASE64 = 65535

SCRIPTS_DIR = Path(__file__).resolve().parent / "scripts"
K3S_CONFIG_PATH = "/etc/rancher/k3s/config.yaml"
K3S_API_PORT = 6443
K3S_SERVER_SERVICE = "k3s.service"
K3S_AGENT_SERVICE = "k3s-agent.service"
K3S_DATA_DIR = "/var/lib/rancher/k3s"
K3S_NODE_DIR = "/etc/rancher/node"
# k3s's local-path provisioner (the packaged component local-storage, its StorageClass local-path) keeps its volumes
# here: the hub database, when homes are on NFS.
K3S_LOCAL_STORAGE = "local-storage"
K3S_LOCAL_STORAGE_CLASS = "local-path"
K3S_STORAGE_DIR = f"{K3S_DATA_DIR}/storage"
INSTALL_K3S = "/usr/local/sbin/hubstack-install-k3s"
MOUNT_VOLUME = "/usr/local/sbin/hubstack-mount-volume"
GROW_FILESYSTEM = "/usr/local/sbin/hubstack-grow-filesystem"
PREPARE_NFS_VOLUME = "/usr/local/sbin/hubstack-prepare-nfs-volume"
EXPORT_NFS_NODES = "/usr/local/sbin/hubstack-export-nfs-nodes"
PREPARE_K3S_STATE = "/usr/local/sbin/hubstack-prepare-k3s-state"
# The CA files from the user data wait here (tmpfs, root only) until prepare-k3s-state puts them on the volume.
K3S_CA_STAGING_DIR = "/run/hubstack/k3s-ca"


@dataclass(frozen=True)
class CertificateAuthority:
    role: str  # the resource name's role in components/cluster_identity.py
    path: str  # under k3s's server/tls/, without .crt/.key


# The CAs k3s takes from server/tls/ when they are there before its first start, instead of making its own.
K3S_CERTIFICATE_AUTHORITIES = (
    CertificateAuthority("server-ca", "server-ca"),
    CertificateAuthority("client-ca", "client-ca"),
    CertificateAuthority("request-header-ca", "request-header-ca"),
    CertificateAuthority("etcd-peer-ca", "etcd/peer-ca"),
    CertificateAuthority("etcd-server-ca", "etcd/server-ca"),
)
K3S_SERVICE_ACCOUNT_KEY = "service.key"
K3S_TLS_FILES = frozenset(
    [f"{authority.path}.{suffix}" for authority in K3S_CERTIFICATE_AUTHORITIES for suffix in ("crt", "key")]
    + [K3S_SERVICE_ACCOUNT_KEY]
)
RENEW_K3S_CERTIFICATES = "/usr/local/sbin/hubstack-renew-k3s-certificates"
CERTIFICATE_UNIT = "hubstack-k3s-certificates"
BLOCK_POD_ACCESS = "/usr/local/sbin/hubstack-block-pod-access"
BLOCK_POD_ACCESS_UNIT = "hubstack-block-pod-access"
# k3s's default cluster CIDR, set explicitly: block-pod-access.sh drops its traffic to the metadata service and NFS.
K3S_POD_CIDR = "10.42.0.0/16"
# The pod network between nodes on a network other projects share (hub.cloud.networkId): flannel over WireGuard,
# in the kernel (Ubuntu's since 20.04), instead of plain VXLAN.
ENCRYPTED_FLANNEL_BACKEND = "wireguard-native"
SYNC_NODE = "/usr/local/sbin/hubstack-sync-node"
SYNC_UNIT = "hubstack-sync-node"
# How often a running server looks at its metadata for new SSH keys or a new k3s version.
SYNC_INTERVAL = "2min"

# Server metadata that sync-node.sh reads: Pulumi changes it in place (user data would replace the server).
K3S_VERSION_METADATA = "hubstack-k3s-version"
NFS_SERVER_METADATA = "hubstack-nfs-server"  # the private address behind NFS_SERVER_NAME
# On the server that serves the share, on an existing network: the hub's servers' addresses, space-separated, in
# pieces like the keys (export-nfs-nodes.sh exports the share to each).
NFS_CLIENTS_METADATA = "hubstack-nfs-clients-"
SSH_KEYS_METADATA = "hubstack-ssh-keys-"  # + two digits: the keys' text in pieces, in order
# On the control plane: the workers' server names, space-separated, in pieces like the keys (the config requires
# one worker at least).
WORKERS_METADATA = "hubstack-workers-"
METADATA_VALUE_MAX = 255  # Nova's limit for one metadata value

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
# wait_for_cluster_command's wait for the API server after cloud-init has finished.
API_WAIT_SECONDS = 300


@dataclass(frozen=True)
class ClusterState:
    """What makes the control plane resume its cluster (components/cluster_identity.py)."""

    server_token: str
    agent_token: str
    state_volume_id: str  # Cinder volume ID, attached at boot
    certificate_authorities: dict[str, str]  # server/tls/ path -> PEM, exactly K3S_TLS_FILES


@dataclass(frozen=True)
class HostKey:
    """The control plane's SSH host key (ed25519, made by Pulumi): the program's SSH to it checks this key."""

    private_openssh: str
    public_openssh: str


@dataclass(frozen=True)
class NfsServe:
    """This server serves the NFS share."""

    volume_id: str  # Cinder volume ID of the data volume (attached to this server by Pulumi after boot)
    # The hub's subnet (config.cloud.subnet_cidr): export to it only. On an existing network, this server's own
    # address (/32): export-nfs-nodes.sh adds the hub's other servers from NFS_CLIENTS_METADATA.
    client_cidr: str


# ------------------------------------------------------------------------------------------------ user data


def control_plane_user_data(
    config: HubConfig, *, state: ClusterState, private_address: str, public_address: str, nfs: Optional[NfsServe],
    host_key: HostKey, program_key: str,
) -> str:
    """public_address: where the hub and its API are reached, the floating IP or (without one) private_address.
    program_key: the public key of the program's SSH (its wait for the API), authorized for the image's user."""
    private_address = _ipv4(private_address, "private_address")
    public_address = _ipv4(public_address, "public_address")
    k3s_config = {
        "token": _token(state.server_token),
        "agent-token": _token(state.agent_token),
        "node-ip": private_address,
        "advertise-address": private_address,
        "tls-san": list(dict.fromkeys([public_address, config.hostname])),
        "cluster-cidr": K3S_POD_CIDR,
        "write-kubeconfig-mode": "0600",
        "kubelet-arg": kubelet_args(),
        # Secrets encrypted in the datastore (AES-CBC; k3s makes the key at first start with it, in server/cred/ on
        # the state volume). A cluster that had it off encrypts each secret as it is next written.
        "secrets-encryption": True,
    }
    if CINDER_CSI_CHART in config.charts_in_use:
        # One default StorageClass: the program's Cinder class (render/storage.py), not k3s's local-path beside it,
        # which a hub with homes on NFS uses (its hub database, on the state volume), and a cluster whose
        # Kubernetes layer is the admin's (hub.layers: openstack) keeps as its default.
        k3s_config["disable"] = [K3S_LOCAL_STORAGE]
    if not config.cloud.makes_network:
        k3s_config["flannel-backend"] = ENCRYPTED_FLANNEL_BACKEND
    files = [
        _k3s_config_file(k3s_config),
        *_k3s_state_files(state),
        *_k3s_files(K3S_SERVER_SERVICE, f"{K3S_DATA_DIR}/server/tls"),
        *_sync_files("server", config, nfs=nfs),
    ]
    commands = [
        shlex.join([PREPARE_K3S_STATE, _volume_id(state.state_volume_id), K3S_CA_STAGING_DIR]),
        *_k3s_commands("server", config),
    ]
    if nfs is not None:
        files.extend(_nfs_files(config))
        commands.extend(_nfs_commands(config, nfs))
    return _document(packages=_packages(k3s=True, nfs_server=nfs is not None), files=files, commands=commands,
                     host_key=host_key, authorized_keys=[_ssh_public_key(program_key, "program_key")])


def worker_user_data(config: HubConfig, *, agent_token: str, control_plane_address: str) -> str:
    control_plane_address = _ipv4(control_plane_address, "control_plane_address")
    k3s_config = {
        "server": f"https://{control_plane_address}:{K3S_API_PORT}",
        # The agent token joins agents only: root on a worker cannot join the cluster as a server.
        "token": _token(agent_token),
        # A replaced worker is a new node beside the old one's Node object, not a second claim to its name (which
        # the server refuses: the old node's password is not on the new disk).
        "with-node-id": True,
        "node-label": [f"{USER_NODE_PURPOSE_LABEL}=user",
                       *([f"{GPU_NODE_LABEL}=true"] if config.gpu_workers else [])],
        "node-taint": [f"{USER_NODE_TAINT_KEY}=user:NoSchedule"],
        "kubelet-arg": kubelet_args(),
    }
    files = [_k3s_config_file(k3s_config), *_k3s_files(K3S_AGENT_SERVICE), *_sync_files("agent", config)]
    commands = _k3s_commands("agent", config)
    if config.gpu_workers:
        # Packages go in before runcmd installs k3s, which looks for the NVIDIA runtime as it starts.
        return _document(packages=[*_packages(k3s=True, nfs_server=False), NVIDIA_TOOLKIT_PACKAGE], files=files,
                         commands=commands, apt_sources={"nvidia-container-toolkit": NVIDIA_APT_SOURCE})
    return _document(packages=_packages(k3s=True, nfs_server=False), files=files, commands=commands)


def nfs_server_user_data(config: HubConfig, *, nfs: NfsServe) -> str:
    """The dedicated NFS server: no k3s, only the data volume and its export."""
    files = [*_volume_scripts(), *_nfs_files(config), *_sync_files("none", config, nfs=nfs)]
    commands = [*_sync_commands("none", config), *_nfs_commands(config, nfs)]
    return _document(packages=_packages(k3s=False, nfs_server=True), files=files, commands=commands)


def server_metadata(
    config: HubConfig, role: str, *, nfs_server: Optional[str], nfs_clients: Sequence[str] = ()
) -> dict[str, str]:
    """The Nova metadata of a server: what it is, and what its sync brings it to: on k3s servers the k3s version and
    `nfs_server`, the private address of the server that serves the share (None: no server does); on the server
    that serves it on an existing network, `nfs_clients`, the hub's servers' addresses; the admins' SSH keys on
    all."""
    metadata = {"hubstack-hub": config.name, "hubstack-role": role}
    if role != "nfs-server":
        metadata[K3S_VERSION_METADATA] = config.cluster.k3s_version
        if nfs_server is not None:
            metadata[NFS_SERVER_METADATA] = _ipv4(nfs_server, "nfs_server")
    if role == "control-plane":
        # Which k3s nodes should be there: the control plane deletes the Node objects of workers that went.
        metadata.update(_pieces(WORKERS_METADATA, " ".join(worker_names(config))))
    if nfs_clients:
        metadata.update(_pieces(NFS_CLIENTS_METADATA, " ".join(_ipv4(address, "nfs_clients")
                                                                for address in nfs_clients)))
    metadata.update(ssh_keys_metadata(config.cluster.ssh_public_keys))
    return metadata


def worker_names(config: HubConfig) -> list[str]:
    """The workers' server names, which are their hostnames."""
    return [f"{config.name}-worker-{index}" for index in range(1, config.cluster.worker_count + 1)]


def ssh_keys_metadata(keys: list[str]) -> dict[str, str]:
    text = "\n".join(keys)
    if len(text) > SSH_KEYS_MAX_CHARACTERS:  # the config refuses it first (cluster.sshPublicKeys)
        raise ValueError(f"the SSH keys take {len(text)} characters; server metadata holds at most "
                         f"{SSH_KEYS_MAX_CHARACTERS}")
    return _pieces(SSH_KEYS_METADATA, text)


def _pieces(prefix: str, text: str) -> dict[str, str]:
    pieces = [text[start:start + METADATA_VALUE_MAX] for start in range(0, len(text), METADATA_VALUE_MAX)]
    return {f"{prefix}{index:02d}": piece for index, piece in enumerate(pieces)}


def wait_for_cluster_command() -> str:
    """Shell run over SSH (as the image's sudoer) on the control plane: returns once cloud-init is done and the
    API server is ready, or fails saying where to look. A cloud-init that failed after k3s was installed (a
    package mirror that did not answer, a module of the image's own) is reported, not fatal: the API decides."""
    attempts = API_WAIT_SECONDS // 5
    return "\n".join(
        [
            "set -eu",
            # 2: done with recoverable errors (deprecated keys and such, cloud-init 23.4 and later).
            "status=0",
            "cloud-init status --wait >/dev/null || status=$?",
            'if [ "$status" -ne 0 ] && [ "$status" -ne 2 ]; then',
            "  if ! command -v k3s >/dev/null; then",
            '    echo "cloud-init failed on the control plane (exit $status) before k3s was installed:'
            ' see /var/log/cloud-init-output.log there" >&2',
            "    exit 1",
            "  fi",
            '  echo "warning: cloud-init reported an error on the control plane (exit $status), after k3s was'
            ' installed: waiting for the API server all the same; see /var/log/cloud-init-output.log there" >&2',
            "fi",
            "attempt=0",
            "while ! sudo k3s kubectl get --raw /readyz >/dev/null 2>&1; do",
            "  attempt=$((attempt + 1))",
            f'  if [ "$attempt" -gt {attempts} ]; then',
            f'    echo "the API server is not ready {API_WAIT_SECONDS}s after cloud-init:'
            ' is k3s running? (systemctl status k3s)" >&2',
            "    exit 1",
            "  fi",
            "  sleep 5",
            "done",
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


def _packages(*, k3s: bool, nfs_server: bool) -> list[str]:
    # nfs-common: every k3s node mounts the share (the kubelet's NFS volumes); the server also exports it.
    # iptables: the block of the metadata service and NFS (block-pod-access.sh) runs before k3s, which brings its own.
    return ["nfs-common", *(["iptables"] if k3s else []), *(["nfs-kernel-server"] if nfs_server else [])]


def _k3s_config_file(settings: dict[str, Any]) -> dict[str, Any]:
    # The only place the join token is written: root-only, read by the k3s service and `k3s` commands.
    content = yaml.safe_dump(settings, sort_keys=False, default_flow_style=False)
    return _file(K3S_CONFIG_PATH, content, "0600")


def _k3s_state_files(state: ClusterState) -> list[dict[str, Any]]:
    if set(state.certificate_authorities) != K3S_TLS_FILES:
        raise ValueError(f"ClusterState.certificate_authorities must hold exactly {sorted(K3S_TLS_FILES)}")
    # RequiresMountsFor: k3s waits for the state volume's bind mounts and does not start without them.
    drop_in = (
        "[Unit]\n"
        "# The cluster lives on the state volume (prepare-k3s-state): never start a new one on the root disk.\n"
        f"RequiresMountsFor={K3S_DATA_DIR}/server {K3S_NODE_DIR} {K3S_STORAGE_DIR}\n"
    )
    return [
        *_volume_scripts(),
        _script_file("prepare-k3s-state.sh", PREPARE_K3S_STATE),
        _file(f"/etc/systemd/system/{K3S_SERVER_SERVICE}.d/hubstack-state.conf", drop_in, "0644"),
        *(
            _file(f"{K3S_CA_STAGING_DIR}/{path}", _pem(pem, path), "0600")
            for path, pem in sorted(state.certificate_authorities.items())
        ),
    ]


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
    block = (
        "[Unit]\n"
        "Description=Keep pods away from Nova's metadata service (the user data, join token included) and from NFS "
        "(every home)\n"
        "Before=k3s.service k3s-agent.service\n"
        "\n"
        "[Service]\n"
        "Type=oneshot\n"
        "RemainAfterExit=yes\n"
        f"ExecStart={BLOCK_POD_ACCESS} {K3S_POD_CIDR}\n"
        "\n"
        "[Install]\n"
        "WantedBy=multi-user.target\n"
    )
    return [
        _script_file("install-k3s.sh", INSTALL_K3S),
        _script_file("renew-k3s-certificates.sh", RENEW_K3S_CERTIFICATES),
        _file(f"/etc/systemd/system/{CERTIFICATE_UNIT}.service", unit, "0644"),
        _file(f"/etc/systemd/system/{CERTIFICATE_UNIT}.timer", timer, "0644"),
        _script_file("block-pod-access.sh", BLOCK_POD_ACCESS),
        _file(f"/etc/systemd/system/{BLOCK_POD_ACCESS_UNIT}.service", block, "0644"),
    ]


def _k3s_commands(role: str, config: HubConfig) -> list[str]:
    # Pods are kept from the metadata service before k3s (installed by the first sync) runs one.
    return [
        "systemctl daemon-reload",
        f"systemctl enable --now {BLOCK_POD_ACCESS_UNIT}.service",
        *_sync_commands(role, config, f"{CERTIFICATE_UNIT}.timer"),
    ]


def _volume_scripts() -> list[dict[str, Any]]:
    return [_script_file("mount-volume.sh", MOUNT_VOLUME), _script_file("grow-filesystem.sh", GROW_FILESYSTEM)]


def _sync_files(role: str, config: HubConfig, *, nfs: Optional[NfsServe] = None) -> list[dict[str, Any]]:
    # nfs: this server holds the shared data, whose volume an admin may extend, and on an existing network exports
    # it to the hub's servers of the moment; "-": a failed step does not stop the sync after it.
    nfs_lines = f"ExecStart=-{GROW_FILESYSTEM} {NFS_EXPORT_PATH}\n" if nfs else ""
    if nfs and not config.cloud.makes_network:
        nfs_lines += f"ExecStart=-{EXPORT_NFS_NODES}\n"
    unit = (
        "[Unit]\n"
        "Description=Bring this server to its Nova metadata (admins' SSH keys, k3s version) and its volumes' size\n"
        "After=network-online.target cloud-final.service\n"
        "\n"
        "[Service]\n"
        "Type=oneshot\n"
        f"{nfs_lines}"
        f"ExecStart={shlex.join([SYNC_NODE, role, config.cloud.image_user])}\n"
    )
    timer = (
        "[Unit]\n"
        "Description=Look at this server's Nova metadata for new SSH keys or a new k3s version\n"
        "\n"
        "[Timer]\n"
        f"OnBootSec={SYNC_INTERVAL}\n"
        f"OnUnitActiveSec={SYNC_INTERVAL}\n"
        "\n"
        "[Install]\n"
        "WantedBy=timers.target\n"
    )
    return [
        _script_file("sync-node.sh", SYNC_NODE),
        _file(f"/etc/systemd/system/{SYNC_UNIT}.service", unit, "0644"),
        _file(f"/etc/systemd/system/{SYNC_UNIT}.timer", timer, "0644"),
    ]


def _sync_commands(role: str, config: HubConfig, *timers: str) -> list[str]:
    # The first sync installs k3s; the timer starts after it, so the two never run at once.
    return [
        shlex.join([SYNC_NODE, role, config.cloud.image_user]),
        *(f"systemctl enable --now {timer}" for timer in (*timers, f"{SYNC_UNIT}.timer")),
    ]


def _volume_id(volume_id: str) -> str:
    if not re.fullmatch(UUID_PATTERN, volume_id):
        raise ValueError(f"volume ID {volume_id!r} is not a Cinder volume ID (a UUID)")
    return volume_id


def _nfs_files(config: HubConfig) -> list[dict[str, Any]]:
    files = [_script_file("prepare-nfs-volume.sh", PREPARE_NFS_VOLUME)]
    if not config.cloud.makes_network:
        files.append(_script_file("export-nfs-nodes.sh", EXPORT_NFS_NODES))
    return files


def _nfs_commands(config: HubConfig, nfs: NfsServe) -> list[str]:
    commands = [_prepare_nfs_command(nfs)]
    if not config.cloud.makes_network:
        commands.append(EXPORT_NFS_NODES)
    return commands


def _prepare_nfs_command(nfs: NfsServe) -> str:
    _volume_id(nfs.volume_id)
    try:
        cidr = ipaddress.IPv4Network(nfs.client_cidr, strict=True)
    except ValueError:
        raise ValueError(f"NfsServe.client_cidr {nfs.client_cidr!r} is not an IPv4 CIDR such as 10.0.42.0/24") from None
    return shlex.join([PREPARE_NFS_VOLUME, nfs.volume_id, str(cidr), f"{USER_UID}:{USER_GID}"])


def _script_file(name: str, path: str) -> dict[str, Any]:
    return _file(path, _without_comment_lines((SCRIPTS_DIR / name).read_text()), "0755")


def _without_comment_lines(script: str) -> str:
    """The script as the server needs it: its comment lines (a third of the scripts) would take the control plane's
    user data past Nova's limit. The shebang and shellcheck's directives stay; no line of the scripts' here-documents
    starts with # (the tests check)."""
    first, *rest = script.split("\n")
    return "\n".join([first, *(line for line in rest if not _COMMENT_LINE.match(line))])


_COMMENT_LINE = re.compile(r"\s*#(?! shellcheck )")


def _file(path: str, content: str, permissions: str) -> dict[str, Any]:
    return {"path": path, "owner": "root:root", "permissions": permissions, "content": content}


def _document(*, packages: list[str], files: list[dict[str, Any]], commands: list[str],
              apt_sources: Optional[dict[str, Any]] = None, host_key: Optional[HostKey] = None,
              authorized_keys: Sequence[str] = ()) -> str:
    # No admin SSH key and no k3s version here: they are metadata (server_metadata), changed in place.
    document: dict[str, Any] = {"package_update": True, "packages": packages}
    if host_key is not None:
        # The server's ed25519 host key is this one, known to the program before the server boots (cloud-init
        # still makes the other types).
        document["ssh_keys"] = {"ed25519_private": host_key.private_openssh, "ed25519_public": host_key.public_openssh}
    if authorized_keys:
        # The image's default user's; sync-node.sh keeps them, outside the admins' keys it writes between markers.
        document["ssh_authorized_keys"] = list(authorized_keys)
    if apt_sources:
        document["apt"] = {"sources": apt_sources}
    document["write_files"] = files
    # cloud-init writes runcmd into one sh script: `set -e` makes a failed step fail cloud-init (which
    # wait_for_cluster_command reports) instead of being hidden by the steps after it.
    document["runcmd"] = ["set -e", *commands]
    text = "#cloud-config\n" + yaml.dump(document, Dumper=_Dumper, sort_keys=False, width=1000)
    size = len(base64.b64encode(text.encode()))
    if size > MAX_USER_DATA_BASE64:
        raise ValueError(f"cloud-init user data is {size} characters in base64; Nova accepts at most "
                         f"{MAX_USER_DATA_BASE64}")
    return text


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (scripts, units) as readable literal blocks."""


def _string(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _string)


def _ssh_public_key(value: str, name: str) -> str:
    key = value.strip()
    if not re.fullmatch(r"ssh-ed25519 [A-Za-z0-9+/]+=*( [^\n]*)?", key):
        raise ValueError(f"{name} is not one OpenSSH ed25519 public key line: {value!r}")
    return key


def _ipv4(value: str, name: str) -> str:
    try:
        return str(ipaddress.IPv4Address(value))
    except ValueError:
        raise ValueError(f"{name} {value!r} is not an IPv4 address") from None


def _pem(pem: str, path: str) -> str:
    if not pem.strip():
        raise ValueError(f"the k3s CA file {path} is empty")
    return pem if pem.endswith("\n") else pem + "\n"


def _token(token: str) -> str:
    if not token or any(character.isspace() for character in token):
        raise ValueError("the k3s token must be a non-empty string without whitespace")
    return token
