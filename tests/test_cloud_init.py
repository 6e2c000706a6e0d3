"""render/cloud_init.py: every user data passes cloud-init's own schema check, every shell passes shellcheck, and
the embedded scripts run for real: the NFS volume and k3s state scripts against loop devices (again and again, as
every boot runs them), the certificate renewal against certificates made with openssl."""

from __future__ import annotations

import atexit
import base64
import contextlib
import dataclasses
import hashlib
import http.server
import json
import os
import re
import shutil
import subprocess
import tempfile
import textwrap
import threading
from pathlib import Path
from typing import Callable, Iterator

import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from config import HubConfig, load_stack_file, parse
from config.model import USER_GID, USER_UID
from render import cloud_init
from render.cloud_init import (
    EVICTION_HARD,
    IMAGE_GC_HIGH_THRESHOLD_PERCENT,
    IMAGE_GC_LOW_THRESHOLD_PERCENT,
    K3S_CA_STAGING_DIR,
    K3S_CONFIG_PATH,
    K3S_TLS_FILES,
    NFS_EXPORT_PATH,
    ClusterState,
    NfsServe,
    control_plane_user_data,
    nfs_server_user_data,
    wait_for_cluster_command,
    worker_user_data,
)
from render.placement import USER_NODE_PURPOSE_LABEL, USER_NODE_TAINT_KEY

from . import certs
from .variants import CLASSIC_PROVIDER, VARIANTS, Variant
from .conftest import PROJECT_DIR, set_path, stack_data

SETUP_HINT = (
    "run the README's setup (`make system-deps`: Debian packages cloud-init shellcheck e2fsprogs util-linux "
    "fdisk openssl)"
)
SCRIPTS = cloud_init.SCRIPTS_DIR


def _code_of(script: str) -> str:
    """A script of render/scripts/ as the user data embeds it: without its comment lines, shellcheck's directives
    kept."""
    first, *rest = (SCRIPTS / script).read_text().split("\n")
    return "\n".join([first, *(line for line in rest if not line.lstrip().startswith("#") or "# shellcheck " in line)])


def _embedded_scripts() -> Path:
    """The scripts as the servers get them, in a folder of their own: the tests below run these."""
    folder = Path(tempfile.mkdtemp(prefix="hubstack-embedded-scripts-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    for script in SCRIPTS.glob("*.sh"):
        (folder / script.name).write_text(_code_of(script.name))
        (folder / script.name).chmod(0o755)
    return folder


EMBEDDED = _embedded_scripts()
SERVER_TOKEN = "hubstackTestServerToken0123456789abcdef"
AGENT_TOKEN = "hubstackTestAgentToken0123456789abcdef"
PRIVATE_ADDRESS = "10.0.42.10"
FLOATING_IP = "149.165.150.10"
HOST_KEY = cloud_init.HostKey("-----BEGIN OPENSSH PRIVATE KEY-----\nhost\n-----END OPENSSH PRIVATE KEY-----\n",
                              "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKeyOfTheControlPlane0000000000000000000")
PROGRAM_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIProgramsOwnKeyForTheApiWait000000000000000 hubstack"
VOLUME_ID = "0d4f3a5e-8c2b-4e7f-9a1d-3b5c7e9f1a2b"
STATE_VOLUME_ID = "7c1e2d3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f"
CA_FILES = {path: f"-----BEGIN TEST-----\n{path}\n-----END TEST-----\n" for path in sorted(K3S_TLS_FILES)}
STATE = ClusterState(server_token=SERVER_TOKEN, agent_token=AGENT_TOKEN, state_volume_id=STATE_VOLUME_ID,
                     certificate_authorities=CA_FILES)


def _tool(name: str) -> str:
    path = shutil.which(name) or next(
        (str(Path(d) / name) for d in ("/usr/sbin", "/sbin") if (Path(d) / name).exists()), None
    )
    if path is None:
        pytest.fail(f"{name} is not installed: {SETUP_HINT}")
    return path


def _configs() -> dict[str, HubConfig]:
    dedicated = stack_data("prod")
    set_path(dedicated, "sharedData.server", "dedicated")
    set_path(dedicated, "sharedData.serverFlavor", "m3.small")
    existing = (Variant("", "prod", {"cloud.externalNetworkId": "~", "cloud.networkId": CLASSIC_PROVIDER,
                                     "floatingIp": {"enabled": False}}))
    return {
        "dev": load_stack_file(PROJECT_DIR / "Pulumi.dev.yaml"),
        "prod": load_stack_file(PROJECT_DIR / "Pulumi.prod.yaml"),
        "prod-dedicated-nfs": parse(dedicated, offline=True, plaintext_secrets=True),
        "prod-existing-network": existing.config(),
        "dev-gpu-workers": next(variant for variant in VARIANTS if variant.name == "gpu-workers").config(),
    }


CONFIGS = _configs()


def _control_plane(config: HubConfig, **given) -> str:
    """The control plane's user data, from the test's cluster state and addresses unless `given`."""
    return control_plane_user_data(config, **({"state": STATE, "private_address": PRIVATE_ADDRESS,
                                               "public_address": FLOATING_IP, "host_key": HOST_KEY, "nfs": None,
                                               "program_key": PROGRAM_KEY}
                                              | given))


def _render_all() -> dict[str, str]:
    rendered = {}
    for stack, config in CONFIGS.items():
        nfs = NfsServe(volume_id=VOLUME_ID, client_cidr=_boot_clients(config))
        rendered[f"{stack}/nfs-server"] = nfs_server_user_data(config, nfs=nfs)
        if stack == "prod-dedicated-nfs":
            continue  # its k3s servers' user data is prod's: the component picks which server serves NFS
        rendered[f"{stack}/control-plane"] = _control_plane(config)
        rendered[f"{stack}/control-plane-nfs"] = _control_plane(config, nfs=nfs)
        rendered[f"{stack}/worker"] = worker_user_data(
            config, agent_token=AGENT_TOKEN, control_plane_address=config.cloud.control_plane_address
        )
    return rendered


def _boot_clients(config: HubConfig) -> str:
    # What the component gives: the subnet it made, or on an existing network the serving server alone.
    return config.cloud.subnet_cidr if config.cloud.makes_network else f"{PRIVATE_ADDRESS}/32"


RENDERED = _render_all()


def _doc(name: str) -> dict:
    text = RENDERED[name]
    assert text.startswith("#cloud-config\n")
    return yaml.safe_load(text)


def _files(name: str) -> dict[str, dict]:
    return {entry["path"]: entry for entry in _doc(name)["write_files"]}


def _k3s_config(name: str) -> dict:
    return yaml.safe_load(_files(name)[K3S_CONFIG_PATH]["content"])


# ------------------------------------------------------------------------------------------ upstream checks


@pytest.fixture(scope="module")
def cloud_init_schema() -> dict:
    _tool("cloud-init")
    # The schema of the installed cloud-init (Debian's package, system Python), to refuse keys it does not know:
    # `cloud-init schema` itself lets unknown top-level keys pass.
    found = subprocess.run(
        ["/usr/bin/python3", "-c", "import cloudinit.config.schema as s; print(s.get_schema_dir())"],
        capture_output=True, text=True,
    )
    assert found.returncode == 0, f"cloud-init's Python package is missing: {SETUP_HINT}\n{found.stderr}"
    return json.loads((Path(found.stdout.strip()) / "schema-cloud-config-v1.json").read_text())


@pytest.mark.parametrize("name", sorted(RENDERED))
def test_user_data_passes_cloud_init_schema(name: str, tmp_path: Path, cloud_init_schema: dict):
    path = tmp_path / "user-data"
    path.write_text(RENDERED[name])
    result = subprocess.run(
        [_tool("cloud-init"), "schema", "--config-file", str(path)], capture_output=True, text=True
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Valid cloud-config" in output, output
    assert "deprecat" not in output.lower(), output
    known = {key for part in cloud_init_schema["allOf"] for key in _properties(cloud_init_schema, part)}
    assert set(_doc(name)) <= known, f"keys cloud-init does not know: {set(_doc(name)) - known}"


def _properties(schema: dict, part: dict) -> set[str]:
    if "$ref" in part:
        name = part["$ref"].rsplit("/", 1)[-1]
        return set(schema["$defs"][name].get("properties", {}))
    return set(part.get("properties", {}))


_SHELLCHECKED: set[tuple[str, str]] = set()


def _shellcheck(script: str, tmp_path: Path, name: str, shell: str = "bash") -> None:
    if (script, shell) in _SHELLCHECKED:  # the same script embedded in several documents: checked once
        return
    path = tmp_path / name
    path.write_text(script)
    result = subprocess.run(
        [_tool("shellcheck"), "--severity=style", f"--shell={shell}", str(path)], capture_output=True, text=True
    )
    assert result.returncode == 0, f"{name}:\n{result.stdout}{result.stderr}\n--- script ---\n{script}"
    _SHELLCHECKED.add((script, shell))


@pytest.mark.parametrize("name", sorted(RENDERED))
def test_runcmd_and_embedded_scripts_pass_shellcheck(name: str, tmp_path: Path):
    document = _doc(name)
    # runcmd as cloud-init writes it (its own shellify, from the installed package): one sh script.
    shellified = subprocess.run(
        ["/usr/bin/python3", "-c", "import json, sys; from cloudinit.util import shellify; "
         "sys.stdout.write(shellify(json.load(sys.stdin)))"],
        input=json.dumps(document["runcmd"]), capture_output=True, text=True,
    )
    assert shellified.returncode == 0, f"{SETUP_HINT}\n{shellified.stderr}"
    assert shellified.stdout.startswith("#!/bin/sh\nset -e\n")
    _shellcheck(shellified.stdout, tmp_path, "runcmd.sh", shell="sh")
    scripts = [entry for entry in document["write_files"] if entry["content"].startswith("#!")]
    assert scripts, "no embedded scripts"
    for entry in scripts:
        assert entry["permissions"] == "0755"
        _shellcheck(entry["content"], tmp_path, Path(entry["path"]).name)


def test_script_files_pass_shellcheck(tmp_path: Path):
    scripts = sorted(SCRIPTS.glob("*.sh"))
    assert len(scripts) == 9
    for script in scripts:
        _shellcheck(script.read_text(), tmp_path, script.name)


def test_wait_for_cluster_command_passes_shellcheck(tmp_path: Path):
    command = wait_for_cluster_command()
    _shellcheck(command, tmp_path, "wait-for-cluster.sh", shell="sh")
    assert "cloud-init status --wait" in command
    assert '[ "$status" -ne 2 ]' in command  # "done with recoverable errors" counts as done


def test_wait_for_cluster_command_runs(tmp_path: Path):
    """The command itself, with cloud-init, sudo and k3s stubbed: done (0) or done with recoverable errors (2)
    waits for the API server and returns once it is ready; a failed cloud-init (1) is reported and, once k3s is
    installed, waited past (the API server decides); before k3s was installed it stops the command at once."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _stub(bin_dir / "sudo", 'exec "$@"')
    calls = tmp_path / "readyz-calls"
    k3s = bin_dir / "k3s"
    _stub(bin_dir / "sleep", "exit 0")
    for status, installed, expect_ok in ((0, True, True), (2, True, True), (1, True, True), (1, False, False)):
        calls.unlink(missing_ok=True)
        k3s.unlink(missing_ok=True)
        if installed:  # not ready on the first call, ready on the second: one 5 s sleep, then it returns
            _stub(k3s, f'echo x >> "{calls}"; [ "$(wc -l < "{calls}")" -ge 2 ]')
        _stub(bin_dir / "cloud-init", f"exit {status}")
        result = subprocess.run(
            ["sh", "-c", wait_for_cluster_command()], capture_output=True, text=True,
            env={**_env(bin_dir), "PATH": f"{bin_dir}:/usr/bin:/bin"}, timeout=30
        )
        if expect_ok:
            assert result.returncode == 0, result.stderr
            assert calls.read_text().count("x") == 2
            assert ("warning: cloud-init reported an error" in result.stderr) == (status == 1)
        else:
            assert result.returncode == 1 and "before k3s was installed" in result.stderr
            assert not calls.exists()


# ------------------------------------------------------------------------------------------------ contents


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_server_k3s_config(stack: str):
    config = CONFIGS[stack]
    k3s = _k3s_config(f"{stack}/control-plane")
    assert k3s["token"] == SERVER_TOKEN and k3s["agent-token"] == AGENT_TOKEN
    assert k3s["tls-san"] == [FLOATING_IP, config.hostname]
    assert k3s["node-ip"] == k3s["advertise-address"] == PRIVATE_ADDRESS
    assert k3s["write-kubeconfig-mode"] == "0600"
    # k3s's traefik and servicelb stay; its local-path goes where the Cinder class is the default (below).
    assert k3s.get("disable", []) == (["local-storage"] if "openstack-cinder-csi" in config.charts_in_use else [])
    assert "server" not in k3s and "node-taint" not in k3s
    runcmd = _doc(f"{stack}/control-plane")["runcmd"]
    install = f"/usr/local/sbin/hubstack-sync-node server {config.cloud.image_user}"
    prepare = f"/usr/local/sbin/hubstack-prepare-k3s-state {STATE_VOLUME_ID} {K3S_CA_STAGING_DIR}"
    # The state volume is mounted where k3s keeps its server state before k3s is installed (and so started).
    assert runcmd.index(prepare) < runcmd.index(install)


@pytest.mark.parametrize("name", ["dev/control-plane", "prod/control-plane-nfs"])
def test_control_plane_keeps_its_cluster_on_the_state_volume(name: str):
    files = _files(name)
    staged = {path[len(K3S_CA_STAGING_DIR) + 1:]: entry for path, entry in files.items()
              if path.startswith(K3S_CA_STAGING_DIR + "/")}
    assert {path: entry["content"] for path, entry in staged.items()} == CA_FILES
    assert {(entry["permissions"], entry["owner"]) for entry in staged.values()} == {("0600", "root:root")}
    drop_in = files["/etc/systemd/system/k3s.service.d/hubstack-state.conf"]["content"]
    assert "RequiresMountsFor=/var/lib/rancher/k3s/server /etc/rancher/node /var/lib/rancher/k3s/storage\n" in drop_in
    for script in ("mount-volume.sh", "prepare-k3s-state.sh"):
        path = "/usr/local/sbin/hubstack-" + script.removesuffix(".sh")
        assert files[path]["content"] == _code_of(script)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_worker_k3s_config_and_no_nfs_server(stack: str):
    config = CONFIGS[stack]
    name = f"{stack}/worker"
    k3s = _k3s_config(name)
    assert k3s["server"] == f"https://{config.cloud.control_plane_address}:6443"
    assert k3s["token"] == AGENT_TOKEN and SERVER_TOKEN not in RENDERED[name]
    assert k3s["with-node-id"] is True
    assert k3s["node-label"] == [f"{USER_NODE_PURPOSE_LABEL}=user"]
    assert k3s["node-taint"] == [f"{USER_NODE_TAINT_KEY}=user:NoSchedule"]
    document = _doc(name)
    assert f"/usr/local/sbin/hubstack-sync-node agent {config.cloud.image_user}" in document["runcmd"]
    assert document["packages"] == ["nfs-common", "iptables"]
    assert "nfs-kernel-server" not in RENDERED[name]
    assert "exportfs" not in RENDERED[name] and cloud_init.PREPARE_NFS_VOLUME not in RENDERED[name]


@pytest.mark.parametrize("name", sorted(n for n in RENDERED if not n.endswith("nfs-server")))
def test_every_k3s_node_collects_images_before_eviction(name: str):
    arguments = dict(argument.split("=", 1) for argument in _k3s_config(name)["kubelet-arg"])
    high, low = int(arguments["image-gc-high-threshold"]), int(arguments["image-gc-low-threshold"])
    assert (high, low) == (IMAGE_GC_HIGH_THRESHOLD_PERCENT, IMAGE_GC_LOW_THRESHOLD_PERCENT)
    eviction = dict(signal.split("<") for signal in arguments["eviction-hard"].split(","))
    assert eviction == EVICTION_HARD
    # Collection starts with room for a large image (>= 20% of the disk) before the disk-pressure eviction.
    for signal in ("imagefs.available", "nodefs.available"):
        evict_at_use = 100 - int(eviction[signal].rstrip("%"))
        assert low < high and evict_at_use - high >= 20, (signal, high, evict_at_use)


@pytest.mark.parametrize("name", sorted(n for n in RENDERED if not n.endswith("nfs-server")))
def test_every_k3s_node_has_certificate_timer(name: str):
    files = _files(name)
    service = "k3s-agent.service" if name.endswith("worker") else "k3s.service"
    unit = files["/etc/systemd/system/hubstack-k3s-certificates.service"]["content"]
    timer = files["/etc/systemd/system/hubstack-k3s-certificates.timer"]["content"]
    assert f"ExecStart=/usr/local/sbin/hubstack-renew-k3s-certificates {service} 60 " in unit
    assert ("/var/lib/rancher/k3s/server/tls" in unit) == (service == "k3s.service")
    assert "OnCalendar=daily" in timer and "Persistent=true" in timer
    assert "systemctl enable --now hubstack-k3s-certificates.timer" in _doc(name)["runcmd"]


@pytest.mark.parametrize("name", sorted(RENDERED))
def test_tokens_only_in_root_only_k3s_config(name: str):
    text = RENDERED[name]
    files = _files(name)
    expected = {"control-plane": (SERVER_TOKEN, AGENT_TOKEN), "worker": (AGENT_TOKEN,)}
    tokens = next((tokens for role, tokens in expected.items() if name.split("/")[1].startswith(role)), ())
    for token in (SERVER_TOKEN, AGENT_TOKEN):
        assert text.count(token) == (1 if token in tokens else 0), (name, token)
    for token in tokens:
        holder = [entry for entry in files.values() if token in entry["content"]]
        assert [entry["path"] for entry in holder] == [K3S_CONFIG_PATH]
        assert holder[0]["permissions"] == "0600" and holder[0]["owner"] == "root:root"


@pytest.mark.parametrize("name", sorted(n for n in RENDERED if n.endswith("nfs") or n.endswith("nfs-server")))
def test_nfs_server_parts(name: str):
    stack = name.split("/")[0]
    document = _doc(name)
    assert document["packages"] == (["nfs-common", "nfs-kernel-server"] if name.endswith("nfs-server")
                                    else ["nfs-common", "iptables", "nfs-kernel-server"])
    script = _files(name)["/usr/local/sbin/hubstack-prepare-nfs-volume"]
    assert script["content"] == _code_of("prepare-nfs-volume.sh")
    commands = [f"/usr/local/sbin/hubstack-prepare-nfs-volume {VOLUME_ID} {_boot_clients(CONFIGS[stack])} 1000:100"]
    if not CONFIGS[stack].cloud.makes_network:
        commands.append(cloud_init.EXPORT_NFS_NODES)
    # After k3s: the cluster comes up while the volume is attached.
    assert document["runcmd"][-len(commands):] == commands
    if name.endswith("nfs-server"):
        image_user = CONFIGS[stack].cloud.image_user
        assert document["runcmd"] == ["set -e", f"/usr/local/sbin/hubstack-sync-node none {image_user}",
                                      "systemctl enable --now hubstack-sync-node.timer", *commands]
        # Not one k3s part on the NFS server: no k3s file, no k3s command, no token.
        assert not [path for path in _files(name) if "k3s" in path]
        assert SERVER_TOKEN not in RENDERED[name] and AGENT_TOKEN not in RENDERED[name]
    assert f"HUBSTACK_NFS_EXPORT_PATH:-{NFS_EXPORT_PATH}}}" in script["content"]
    for script in ("mount-volume", "grow-filesystem"):
        assert _files(name)[f"/usr/local/sbin/hubstack-{script}"]["content"] == _code_of(f"{script}.sh")
    # The server that holds the shared data grows its filesystem when the volume was extended, every sync.
    unit = _files(name)["/etc/systemd/system/hubstack-sync-node.service"]["content"]
    assert f"ExecStart=-/usr/local/sbin/hubstack-grow-filesystem {NFS_EXPORT_PATH}\n" in unit


@pytest.mark.parametrize("name", sorted(RENDERED))
def test_user_data_holds_neither_admin_keys_nor_the_k3s_version(name: str):
    """What admins change on a running hub is server metadata, changed in place: user data would replace servers."""
    config = CONFIGS[name.split("/")[0]]
    assert config.cluster.k3s_version not in RENDERED[name]
    # The program's own key alone (the control plane's, for the API wait), never an admin's.
    assert _doc(name).get("ssh_authorized_keys") in (None, [PROGRAM_KEY])
    for key in config.cluster.ssh_public_keys:
        assert key.split()[1] not in RENDERED[name]
    files = _files(name)
    assert files["/usr/local/sbin/hubstack-sync-node"]["content"] == _code_of("sync-node.sh")
    timer = files["/etc/systemd/system/hubstack-sync-node.timer"]["content"]
    assert "OnUnitActiveSec=2min" in timer
    runcmd = _doc(name)["runcmd"]
    # The first sync (which installs k3s) is over before its timer starts: never two at once.
    sync = next(command for command in runcmd if command.startswith("/usr/local/sbin/hubstack-sync-node "))
    assert runcmd.index(sync) < runcmd.index("systemctl enable --now hubstack-sync-node.timer")


@pytest.mark.parametrize("role", ["control-plane", "worker-1", "nfs-server"])
def test_server_metadata_carries_the_version_and_the_keys(role: str):
    config = CONFIGS["prod"]
    metadata = cloud_init.server_metadata(config, role, nfs_server=config.cloud.control_plane_address)
    assert metadata["hubstack-hub"] == config.name and metadata["hubstack-role"] == role
    assert metadata.get("hubstack-k3s-version") == (None if role == "nfs-server" else config.cluster.k3s_version)
    pieces = sorted(key for key in metadata if key.startswith("hubstack-ssh-keys-"))
    assert pieces and all(len(metadata[key]) <= 255 for key in metadata)
    workers = "".join(value for key, value in sorted(metadata.items()) if key.startswith("hubstack-workers-"))
    assert workers == (" ".join(cloud_init.worker_names(config)) if role == "control-plane" else "")
    # prod serves its share from the control plane: every k3s node mounts it from there.
    assert metadata.get("hubstack-nfs-server") == (None if role == "nfs-server" else config.cloud.control_plane_address)

    assert "".join(metadata[key] for key in pieces).split("\n") == config.cluster.ssh_public_keys


def test_long_keys_are_cut_in_metadata_pieces_and_joined_back():
    rsa = "ssh-rsa " + "A" * 700 + " admin@example.org"
    keys = [rsa, rsa.replace("admin", "ta")]
    metadata = cloud_init.ssh_keys_metadata(keys)
    assert list(metadata) == [f"hubstack-ssh-keys-{index:02d}" for index in range(6)]
    assert "".join(metadata.values()) == "\n".join(keys)
    assert cloud_init.ssh_keys_metadata([]) == {}


def test_deterministic_and_plain_yaml():
    again = _render_all()
    assert again == RENDERED
    for text in RENDERED.values():
        assert yaml.safe_dump(yaml.safe_load(text), sort_keys=False)  # plain YAML, nothing Python-specific


def _real_size_state_and_host_key() -> tuple[ClusterState, cloud_init.HostKey]:
    """Keys and certificates of the kinds components/cluster_identity.py makes (ECDSA P-256 CAs, an RSA 2048
    service account key, an ed25519 host key): what the test's short placeholders stand for, at their real size."""
    authorities = {}
    for authority in cloud_init.K3S_CERTIFICATE_AUTHORITIES:
        issued = certs.self_signed(f"k3s-{authority.role}")
        authorities[f"{authority.path}.crt"] = issued.pem
        authorities[f"{authority.path}.key"] = issued.key_pem
    service_account = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    authorities[cloud_init.K3S_SERVICE_ACCOUNT_KEY] = service_account.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode()
    host = ed25519.Ed25519PrivateKey.generate()
    host_key = cloud_init.HostKey(
        host.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                           serialization.NoEncryption()).decode(),
        host.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode(),
    )
    return dataclasses.replace(STATE, certificate_authorities=authorities), host_key


def test_every_user_data_with_real_keys_fits_novas_limit():
    # Nova's refusal of a larger one echoes it, keys and all, into the error: the renderer refuses it first.
    state, host_key = _real_size_state_and_host_key()
    sizes = {}
    for stack, config in CONFIGS.items():
        nfs = NfsServe(volume_id=VOLUME_ID, client_cidr=_boot_clients(config))
        text = _control_plane(config, state=state, host_key=host_key, nfs=nfs)
        sizes[stack] = len(base64.b64encode(text.encode()))
    sizes.update({name: len(base64.b64encode(text.encode())) for name, text in RENDERED.items()})
    assert max(sizes.values()) <= cloud_init.MAX_USER_DATA_BASE64, sizes
    # With room to grow: 16 KiB left on the largest (the scripts' comments alone would take 21 KiB).
    assert max(sizes.values()) < cloud_init.MAX_USER_DATA_BASE64 - 16 * 1024, sizes


def test_a_user_data_over_novas_limit_is_refused_before_nova_sees_it():
    huge = dataclasses.replace(STATE, server_token="x" * 50_000)
    with pytest.raises(ValueError, match="Nova accepts at most 65535"):
        _control_plane(CONFIGS["dev"], state=huge)


def test_embedded_scripts_are_the_script_files_without_their_comment_lines():
    embedded = {Path(entry["path"]).name: entry["content"] for name in RENDERED
                for entry in _doc(name)["write_files"] if entry["content"].startswith("#!")}
    assert len(embedded) == 9
    for script in sorted(SCRIPTS.glob("*.sh")):
        content = embedded[f"hubstack-{script.stem}"]
        assert content == _code_of(script.name)
        assert content.startswith("#!/bin/bash\n") and "\n#" not in content.replace("\n# shellcheck ", ""), script.name
        assert len(content) < len(script.read_text()), script.name  # every script explains itself in comments
        checked = subprocess.run(["bash", "-n"], input=content, capture_output=True, text=True)
        assert checked.returncode == 0, f"{script.name}: {checked.stderr}"
        # A here-document's line that starts with # is text, not a comment: none may, or it would be dropped.
        for body in re.findall(r"<<-?\s*'?(\w+)'?\n(.*?)\n\1\n", script.read_text(), re.DOTALL):
            assert not [line for line in body[1].splitlines() if line.lstrip().startswith("#")], script.name


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda c: _control_plane(c, private_address="10.0.42"), "private_address"),
        (lambda c: _control_plane(c, state=dataclasses.replace(STATE, agent_token="a b")), "token"),
        (lambda c: _control_plane(c, state=dataclasses.replace(STATE, state_volume_id="vol; reboot")),
         "not a Cinder volume ID"),
        (lambda c: _control_plane(c, state=dataclasses.replace(STATE, certificate_authorities={"server-ca.crt": "x"})),
         "must hold exactly"),
        (lambda c: worker_user_data(c, agent_token=AGENT_TOKEN, control_plane_address="cp; rm -rf /"),
         "control_plane_address"),
        (lambda c: nfs_server_user_data(c, nfs=NfsServe("vol-1; reboot", "10.0.42.0/24")), "not a Cinder volume ID"),
        (lambda c: nfs_server_user_data(c, nfs=NfsServe(VOLUME_ID, "10.0.42.1/24")), "client_cidr"),
    ],
)
def test_invalid_inputs_refused(call, message: str):
    with pytest.raises(ValueError, match=message):
        call(CONFIGS["dev"])


# -------------------------------------------------------------------------------- the NFS script, for real


def _stub(path: Path, body: str) -> None:
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


def _env(bin_dir: Path, **extra: str) -> dict[str, str]:
    return {"PATH": f"{bin_dir}:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C", **extra}


@contextlib.contextmanager
def _loop_device(image: Path) -> Iterator[str]:
    if os.geteuid() != 0:
        pytest.fail("the NFS volume test makes loop devices and mounts: run the tests as root (as in the CI container)")
    attached = subprocess.run([_tool("losetup"), "--find", "--show", str(image)], capture_output=True, text=True)
    assert attached.returncode == 0, f"cannot make a loop device: {attached.stderr}"
    device = attached.stdout.strip()
    try:
        yield device
    finally:
        subprocess.run([_tool("losetup"), "--detach", device], check=False)


class NfsHost:
    """A fake host root in a temp dir: fstab, exports.d, the export path; systemctl and exportfs stubbed."""

    def __init__(self, root: Path, device: str):
        self.root = root
        self.device = device
        self.export_path = root / "export" / "shared"
        self.fstab = root / "etc" / "fstab"
        self.exports = root / "etc" / "exports.d" / "hubstack.exports"
        self.calls = root / "calls.log"
        bin_dir = root / "bin"
        bin_dir.mkdir(parents=True)
        self.fstab.parent.mkdir(parents=True)
        self.fstab.write_text("# /etc/fstab\nLABEL=cloudimg-rootfs / ext4 defaults 0 1\n")
        for command in ("systemctl", "exportfs"):
            _stub(bin_dir / command, f'echo "{command} $*" >> "{self.calls}"')
        self.bin_dir = bin_dir

    def run(self, cidr: str = "10.0.42.0/24") -> subprocess.CompletedProcess:
        env = _env(
            self.bin_dir,
            HUBSTACK_VOLUME_DEVICE=self.device,
            HUBSTACK_MOUNT_VOLUME=str(EMBEDDED / "mount-volume.sh"),
            HUBSTACK_GROW_FILESYSTEM=str(EMBEDDED / "grow-filesystem.sh"),
            HUBSTACK_NFS_EXPORT_PATH=str(self.export_path),
            HUBSTACK_FSTAB=str(self.fstab),
            HUBSTACK_EXPORTS_FILE=str(self.exports),
            HUBSTACK_DEVICE_WAIT_SECONDS="0",
        )
        return subprocess.run(
            ["bash", str(EMBEDDED / "prepare-nfs-volume.sh"), VOLUME_ID, cidr, f"{USER_UID}:{USER_GID}"],
            capture_output=True, text=True, env=env, timeout=60,
        )

    def unmount(self) -> None:
        while subprocess.run(["mountpoint", "-q", str(self.export_path)]).returncode == 0:
            subprocess.run(["umount", str(self.export_path)], check=True)


@pytest.fixture
def nfs_host(tmp_path: Path) -> Iterator[Callable[[Path], NfsHost]]:
    hosts: list[NfsHost] = []
    with contextlib.ExitStack() as stack:

        def make(image: Path) -> NfsHost:
            device = stack.enter_context(_loop_device(image))
            host = NfsHost(tmp_path / f"host{len(hosts)}", device)
            hosts.append(host)
            stack.callback(host.unmount)  # before the loop device goes (ExitStack unwinds in reverse)
            return host

        yield make


def _image(tmp_path: Path, name: str = "volume.img", size_mb: int = 64) -> Path:
    image = tmp_path / name
    with image.open("wb") as handle:
        handle.truncate(size_mb * 1024 * 1024)
    return image


def _probe(device: str) -> str:
    return subprocess.run([_tool("blkid"), "-p", "-o", "export", device], capture_output=True, text=True).stdout


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_nfs_script_formats_blank_volume_once_and_keeps_data_on_second_run(tmp_path: Path, nfs_host):
    host = nfs_host(_image(tmp_path))
    first = host.run()
    assert first.returncode == 0, first.stdout + first.stderr
    assert "creating ext4" in first.stdout
    probe = _probe(host.device)
    assert "TYPE=ext4" in probe and "LABEL=hubstack-data" in probe
    uuid = next(line.split("=", 1)[1] for line in probe.splitlines() if line.startswith("UUID="))
    entry = f"UUID={uuid} {host.export_path} ext4 defaults,nofail,x-systemd.before=nfs-server.service 0 2"
    assert host.fstab.read_text().splitlines() == ["# /etc/fstab", "LABEL=cloudimg-rootfs / ext4 defaults 0 1", entry]
    assert subprocess.run(["mountpoint", "-q", str(host.export_path)]).returncode == 0
    for folder in ("data", "home"):
        # The users', who make their directories there as the export maps them: every client is uid 1000.
        stat = (host.export_path / folder).stat()
        assert (host.export_path / folder).is_dir() and (stat.st_uid, stat.st_gid) == (USER_UID, USER_GID)
    assert host.exports.read_text().splitlines()[-1] == (
        f"{host.export_path} 10.0.42.0/24(rw,sync,no_subtree_check,all_squash,anonuid={USER_UID},anongid={USER_GID},"
        "mp)"
    )
    assert "exportfs -ra" in host.calls.read_text()

    # Data written after the first run, and a user's directory made as root (as the kubelet did before the export
    # squashed root), then the script again (every boot, or an admin by hand) ...
    (host.export_path / "data" / "precious.nc").write_text("user data\n")
    (host.export_path / "home" / "alice").mkdir()
    (host.export_path / "home" / "alice" / "notes.txt").write_text("hers\n")
    second = host.run()
    assert second.returncode == 0, second.stdout + second.stderr
    alice = (host.export_path / "home" / "alice").stat()
    assert (alice.st_uid, alice.st_gid) == (USER_UID, USER_GID)
    assert (host.export_path / "home" / "alice" / "notes.txt").stat().st_uid == 0  # the directory only, not in it
    assert "creating" not in second.stdout
    assert (host.export_path / "data" / "precious.nc").read_text() == "user data\n"
    assert host.fstab.read_text().count(entry) == 1 and len(host.fstab.read_text().splitlines()) == 3

    # ... and after a reboot (unmounted): mounted again by UUID from fstab, the file still there.
    host.unmount()
    third = host.run()
    assert third.returncode == 0, third.stdout + third.stderr
    assert "creating" not in third.stdout and "mounted" in third.stdout
    assert (host.export_path / "data" / "precious.nc").read_text() == "user data\n"
    assert uuid in _probe(host.device)


def _grow(image: Path, device: str, size_mb: int) -> None:
    with image.open("r+b") as handle:
        handle.truncate(size_mb * 1024 * 1024)
    subprocess.run([_tool("losetup"), "--set-capacity", device], check=True)


def _filesystem_mb(device: str) -> int:
    header = subprocess.run([_tool("dumpe2fs"), "-h", device], capture_output=True, text=True, check=True).stdout
    fields = dict(line.split(":", 1) for line in header.splitlines() if ":" in line)
    return int(fields["Block count"]) * int(fields["Block size"]) // (1024 * 1024)


def test_an_extended_volume_gets_its_room_when_it_is_mounted_again(tmp_path: Path, nfs_host):
    """Grown while detached or its server was off: the next mount grows the filesystem first (offline, after a
    forced check), with the data in it whole. Not grown again on the run after."""
    image = _image(tmp_path)
    host = nfs_host(image)
    assert host.run().returncode == 0
    (host.export_path / "data" / "precious.nc").write_text("user data\n")
    assert _filesystem_mb(host.device) == 64
    host.unmount()
    _grow(image, host.device, 192)
    result = host.run()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "growing it" in result.stdout
    assert _filesystem_mb(host.device) == 192
    assert (host.export_path / "data" / "precious.nc").read_text() == "user data\n"
    again = host.run()
    assert again.returncode == 0 and "growing" not in again.stdout


def test_a_mounted_filesystem_is_grown_online_when_its_volume_was_extended(tmp_path: Path, nfs_host):
    """On a running server the sync timer grows the mounted filesystem. This sandbox lacks CAP_SYS_RESOURCE, which
    the kernel's online resize needs, so resize2fs is a stub that records its call: the decision (sizes read from
    the real device and filesystem) and the call are what is tested."""
    image = _image(tmp_path)
    host = nfs_host(image)
    assert host.run().returncode == 0
    calls = tmp_path / "resize2fs.log"
    _stub(host.bin_dir / "resize2fs", f'echo "$*" >> "{calls}"')
    grow = [str(EMBEDDED / "grow-filesystem.sh"), str(host.export_path)]
    unchanged = subprocess.run(grow, capture_output=True, text=True, env=_env(host.bin_dir), timeout=60)
    assert unchanged.returncode == 0 and not calls.exists()
    _grow(image, host.device, 192)
    grown = subprocess.run(grow, capture_output=True, text=True, env=_env(host.bin_dir), timeout=60)
    assert grown.returncode == 0, grown.stdout + grown.stderr
    assert calls.read_text().split() == [host.device]  # online: no e2fsck of a mounted filesystem first
    assert "is 192 MiB, its filesystem 64 MiB" in grown.stdout


def test_nfs_script_never_formats_partitioned_disk(tmp_path: Path, nfs_host):
    image = _image(tmp_path)
    subprocess.run([_tool("sfdisk"), "--quiet", str(image)], input="label: gpt\n,16M\n", text=True, check=True)
    before = _digest(image)
    host = nfs_host(image)
    result = host.run()
    assert result.returncode == 1
    assert "gpt partition table: not formatting" in result.stderr
    assert "PTTYPE=gpt" in _probe(host.device)
    assert _digest(image) == before
    assert not host.exports.exists() and "UUID=" not in host.fstab.read_text()


def test_nfs_script_never_touches_foreign_signature(tmp_path: Path, nfs_host):
    image = _image(tmp_path)
    subprocess.run([_tool("mkswap"), str(image)], capture_output=True, check=True)
    before = _digest(image)
    host = nfs_host(image)
    result = host.run()
    assert result.returncode == 1
    assert "holds 'swap'" in result.stderr and "not touching it" in result.stderr
    assert _digest(image) == before and "TYPE=swap" in _probe(host.device)


def test_nfs_script_mounts_existing_filesystem_as_is(tmp_path: Path, nfs_host):
    """A volume that already holds a filesystem (another type than the script would make) is used, not remade."""
    image = _image(tmp_path)
    subprocess.run([_tool("mkfs.ext2"), "-q", "-L", "restored", str(image)], check=True)
    uuid_before = subprocess.run(
        [_tool("blkid"), "-p", "-s", "UUID", "-o", "value", str(image)], capture_output=True, text=True
    ).stdout.strip()
    host = nfs_host(image)
    result = host.run()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "creating" not in result.stdout
    probe = _probe(host.device)
    assert "TYPE=ext2" in probe and "LABEL=restored" in probe and f"UUID={uuid_before}" in probe
    entry = f"UUID={uuid_before} {host.export_path} ext2 defaults,nofail,x-systemd.before=nfs-server.service 0 2"
    assert entry in host.fstab.read_text()


def test_nfs_script_waits_for_missing_device_and_says_so(tmp_path: Path):
    host = NfsHost(tmp_path / "host", str(tmp_path / "no-such-device"))
    result = host.run()
    assert result.returncode == 1
    assert f"volume {VOLUME_ID} did not appear within 0s" in result.stderr
    assert "openstack server volume list" in result.stderr
    assert not host.calls.exists()


def test_nfs_script_refuses_bad_arguments(tmp_path: Path):
    host = NfsHost(tmp_path / "host", str(tmp_path / "no-such-device"))
    result = host.run(cidr="0.0.0.0/0; reboot")
    assert result.returncode == 1 and "is not an IPv4 CIDR" in result.stderr


# ------------------------------------------------------------------------ the k3s state script, for real


class StateHost:
    """A fake control plane in a temp dir: fstab, the state path, k3s's server and node directories, the CA files
    from the user data; systemctl stubbed."""

    def __init__(self, root: Path, device: str):
        self.root = root
        self.device = device
        self.state = root / "var" / "lib" / "hubstack" / "k3s-state"
        self.server_dir = root / "var" / "lib" / "rancher" / "k3s" / "server"
        self.node_dir = root / "etc" / "rancher" / "node"
        self.storage_dir = root / "var" / "lib" / "rancher" / "k3s" / "storage"
        self.ca_dir = root / "run" / "hubstack" / "k3s-ca"
        self.fstab = root / "etc" / "fstab"
        self.bin_dir = root / "bin"
        self.bin_dir.mkdir(parents=True)
        self.fstab.parent.mkdir(parents=True)
        self.fstab.write_text("LABEL=cloudimg-rootfs / ext4 defaults 0 1\n")
        _stub(self.bin_dir / "systemctl", "exit 0")

    def boot(self, ca_files: dict[str, str]) -> subprocess.CompletedProcess:
        """A new server's first boot: the user data's CA files written, then the script."""
        for path, pem in ca_files.items():
            (self.ca_dir / path).parent.mkdir(parents=True, exist_ok=True)
            (self.ca_dir / path).write_text(pem)
        return self.run()

    def run(self) -> subprocess.CompletedProcess:
        env = _env(
            self.bin_dir,
            HUBSTACK_VOLUME_DEVICE=self.device,
            HUBSTACK_MOUNT_VOLUME=str(EMBEDDED / "mount-volume.sh"),
            HUBSTACK_GROW_FILESYSTEM=str(EMBEDDED / "grow-filesystem.sh"),
            HUBSTACK_K3S_STATE_PATH=str(self.state),
            HUBSTACK_K3S_SERVER_DIR=str(self.server_dir),
            HUBSTACK_K3S_NODE_DIR=str(self.node_dir),
            HUBSTACK_K3S_STORAGE_DIR=str(self.storage_dir),
            HUBSTACK_FSTAB=str(self.fstab),
            HUBSTACK_DEVICE_WAIT_SECONDS="0",
        )
        return subprocess.run(["bash", str(EMBEDDED / "prepare-k3s-state.sh"), STATE_VOLUME_ID, str(self.ca_dir)],
                              capture_output=True, text=True, env=env, timeout=60)

    def unmount(self) -> None:
        for path in (self.storage_dir, self.node_dir, self.server_dir, self.state):
            while subprocess.run(["mountpoint", "-q", str(path)]).returncode == 0:
                subprocess.run(["umount", str(path)], check=True)


@pytest.fixture
def state_host(tmp_path: Path) -> Iterator[Callable[[Path], StateHost]]:
    with contextlib.ExitStack() as stack:

        devices: dict[Path, str] = {}

        def make(image: Path, name: str) -> StateHost:
            """A host named `name` with the volume `image` (one loop device per image: the same volume)."""
            if image not in devices:
                devices[image] = stack.enter_context(_loop_device(image))
            host = StateHost(tmp_path / name, devices[image])
            stack.callback(host.unmount)
            return host

        yield make


def test_k3s_state_survives_a_new_control_plane(tmp_path: Path, state_host):
    """First boot of a cluster: the program's CAs go onto the blank state volume, which is bind-mounted where k3s
    keeps its server state and node password. A second run changes nothing; a reboot mounts it all again; a new
    control plane (a new root disk, the same volume) resumes the cluster: same CAs, same datastore, same password."""
    image = _image(tmp_path, "state.img")
    first = state_host(image, "control-plane-1")
    result = first.boot(CA_FILES)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "a new cluster" in result.stdout and "creating ext4" in result.stdout
    assert "LABEL=hubstack-k3s" in _probe(first.device)
    tls = first.server_dir / "tls"
    assert {str(path.relative_to(tls)): path.read_text() for path in tls.rglob("*") if path.is_file()} == CA_FILES
    assert {oct(path.stat().st_mode & 0o777) for path in tls.rglob("*.key")} == {"0o600"}
    assert not first.ca_dir.exists()  # the keys live on the volume only
    fstab = first.fstab.read_text()
    for source, target in ((first.state / "server", first.server_dir), (first.state / "node", first.node_dir),
                           (first.state / "storage", first.storage_dir)):
        assert f"{source} {target} none bind,nofail,x-systemd.requires-mounts-for={first.state} 0 0" in fstab
    # What k3s writes goes onto the volume: the datastore, the node password, a local-path volume (the hub
    # database of a hub whose homes are on NFS).
    (first.server_dir / "db").mkdir()
    (first.server_dir / "db" / "state.db").write_text("the datastore\n")
    (first.node_dir / "password").write_text("node password\n")
    (first.storage_dir / "pvc-1234_jhub_hub-db-dir").mkdir()
    (first.storage_dir / "pvc-1234_jhub_hub-db-dir" / "jupyterhub.sqlite").write_text("the hub database\n")
    assert (first.state / "server" / "db" / "state.db").read_text() == "the datastore\n"

    again = first.run()
    assert again.returncode == 0, again.stdout + again.stderr
    assert "resuming" in again.stdout and "creating" not in again.stdout and "mounted" not in again.stdout
    assert first.fstab.read_text() == fstab

    first.unmount()  # a reboot: the mounts come back from fstab
    rebooted = first.run()
    assert rebooted.returncode == 0, rebooted.stdout + rebooted.stderr
    assert (first.server_dir / "db" / "state.db").read_text() == "the datastore\n"
    first.unmount()

    # A new control plane boots with the same volume: its user data carries the same CAs.
    second = state_host(image, "control-plane-2")
    resumed = second.boot(CA_FILES)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "resuming" in resumed.stdout and "creating" not in resumed.stdout
    assert (second.server_dir / "db" / "state.db").read_text() == "the datastore\n"
    assert (second.node_dir / "password").read_text() == "node password\n"
    assert (second.storage_dir / "pvc-1234_jhub_hub-db-dir" / "jupyterhub.sqlite").read_text() == "the hub database\n"
    assert (second.server_dir / "tls" / "server-ca.crt").read_text() == CA_FILES["server-ca.crt"]


def test_k3s_state_of_another_cluster_is_not_started_on(tmp_path: Path, state_host):
    image = _image(tmp_path, "state.img")
    first = state_host(image, "control-plane-1")
    assert first.boot(CA_FILES).returncode == 0
    first.unmount()
    other = state_host(image, "control-plane-2")
    foreign = {**CA_FILES, "server-ca.crt": "-----BEGIN TEST-----\nanother CA\n-----END TEST-----\n"}
    result = other.boot(foreign)
    assert result.returncode == 1
    assert "holds another cluster" in result.stderr
    assert subprocess.run(["mountpoint", "-q", str(other.server_dir)]).returncode != 0
    assert (other.state / "server" / "tls" / "server-ca.crt").read_text() == CA_FILES["server-ca.crt"]


# ------------------------------------------------------------------------ the node's sync script, for real

CLOUD_INIT_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOfflinePlanPlaceholderKey0000000000000000 hubstack"
HOSTS = "127.0.0.1 localhost\n10.0.42.10 lab-hub.novalocal lab-hub\n"


class MetadataService:
    """Nova's metadata service as the script sees it (meta_data.json, its `meta`), and the API server's /version
    as an agent's proxy answers it."""

    def __init__(self) -> None:
        self.meta: dict[str, str] = {}
        self.api_version = ""
        service = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
                if self.path == "/openstack/latest/meta_data.json":
                    body = {"uuid": "server-id", "meta": service.meta}
                elif self.path == "/version" and service.api_version:
                    body = {"gitVersion": service.api_version}
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


class SyncedNode:
    """A server's root in a temp dir: the image user's authorized_keys (with the key cloud-init wrote), and k3s as
    an installer stub that records its calls and a `k3s --version` that reports what it installed."""

    def __init__(self, root: Path, metadata: MetadataService, role: str):
        self.root, self.metadata, self.role = root, metadata, role
        self.authorized_keys = root / "home" / "ubuntu" / ".ssh" / "authorized_keys"
        self.authorized_keys.parent.mkdir(parents=True)
        self.authorized_keys.write_text(CLOUD_INIT_KEY + "\n")
        self.hosts = root / "etc" / "hosts"
        self.hosts.parent.mkdir()
        self.hosts.write_text(HOSTS)
        self.installs = root / "installs.log"
        self.bin_dir = root / "bin"
        self.bin_dir.mkdir()
        self.k3s = root / "k3s"
        version_stub = f'#!/bin/sh\necho "k3s version $(cat {root}/installed) (0123abcd)"\n'
        _stub(self.bin_dir / "install-k3s", f'echo "$1 $2" >> "{self.installs}"; echo "$2" > "{root}/installed"; '
                                            f"printf '%s' '{version_stub}' > \"{self.k3s}\"; chmod 0755 \"{self.k3s}\"")

    def installed(self, version: str) -> None:
        self.k3s.write_text(f'#!/bin/sh\necho "k3s version {version} (0123abcd)"\n')
        self.k3s.chmod(0o755)

    def run(self) -> subprocess.CompletedProcess:
        env = _env(
            self.bin_dir,
            HUBSTACK_METADATA_URL=f"{self.metadata.url}/openstack/latest/meta_data.json",
            HUBSTACK_METADATA_RETRIES="1",
            HUBSTACK_AUTHORIZED_KEYS=str(self.authorized_keys),
            HUBSTACK_HOSTS=str(self.hosts),
            HUBSTACK_INSTALL_K3S=str(self.bin_dir / "install-k3s"),
            HUBSTACK_K3S=str(self.k3s),
            HUBSTACK_API_VERSION_URL=f"{self.metadata.url}/version",
            HUBSTACK_K3S_AGENT_DIR=str(self.root / "agent"),
        )
        return subprocess.run(["bash", str(EMBEDDED / "sync-node.sh"), self.role, "ubuntu"],
                              capture_output=True, text=True, env=env, timeout=60)

    def install_calls(self) -> list[str]:
        return self.installs.read_text().splitlines() if self.installs.exists() else []


@pytest.fixture
def metadata_service() -> Iterator[MetadataService]:
    service = MetadataService()
    yield service
    service.server.shutdown()


def _metadata(version: str, keys: list[str]) -> dict[str, str]:
    return {"hubstack-hub": "lab", "hubstack-k3s-version": version, **cloud_init.ssh_keys_metadata(keys)}


ADMIN = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK0wmN/Cr3JXqmLW7u+g9pTh+wyqDHpSQEQQhIfa0jnI admin@example.org"
TA_RSA = "ssh-rsa " + "B" * 540 + " ta@example.org"  # longer than one metadata value


def test_sync_installs_k3s_and_the_keys_on_a_new_server_and_then_changes_nothing(tmp_path: Path, metadata_service):
    metadata_service.meta = _metadata("v1.33.5+k3s1", [ADMIN, TA_RSA])
    node = SyncedNode(tmp_path, metadata_service, "server")
    first = node.run()
    assert first.returncode == 0, first.stdout + first.stderr
    assert node.install_calls() == ["server v1.33.5+k3s1"]
    lines = node.authorized_keys.read_text().splitlines()
    assert lines[0] == CLOUD_INIT_KEY and lines[2:4] == [ADMIN, TA_RSA] and len(lines) == 5
    assert oct(node.authorized_keys.stat().st_mode & 0o777) == "0o600"
    before = node.authorized_keys.read_text()
    again = node.run()
    assert again.returncode == 0, again.stdout + again.stderr
    assert node.install_calls() == ["server v1.33.5+k3s1"] and node.authorized_keys.read_text() == before


def test_sync_follows_key_changes_and_keeps_the_line_cloud_init_wrote(tmp_path: Path, metadata_service):
    node = SyncedNode(tmp_path, metadata_service, "none")
    for keys in ([ADMIN], [ADMIN, TA_RSA], [TA_RSA], []):
        metadata_service.meta = _metadata("v1.33.5+k3s1", keys)
        result = node.run()
        assert result.returncode == 0, result.stdout + result.stderr
        lines = node.authorized_keys.read_text().splitlines()
        assert lines[0] == CLOUD_INIT_KEY
        assert [line for line in lines[1:] if not line.startswith("#")] == keys
    assert node.authorized_keys.read_text() == CLOUD_INIT_KEY + "\n"
    assert node.install_calls() == []  # role none: the NFS server has no k3s


def test_sync_points_the_nfs_name_at_whichever_server_serves_the_share(tmp_path: Path, metadata_service):
    """Kubernetes' NFS volumes mount from hubstack-nfs: a move of the share is a metadata change on every node."""
    node = SyncedNode(tmp_path, metadata_service, "agent")
    node.installed("v1.33.5+k3s1")
    prod, dedicated, without = CONFIGS["prod"], CONFIGS["prod-dedicated-nfs"], CONFIGS["dev"]  # dev has no share
    for config, address in ((prod, prod.cloud.control_plane_address), (dedicated, dedicated.cloud.nfs_server_address),
                            (without, None), (prod, prod.cloud.control_plane_address)):
        metadata_service.meta = cloud_init.server_metadata(config, "worker-1", nfs_server=address)
        result = node.run()
        assert result.returncode == 0, result.stdout + result.stderr
        expected = HOSTS + ("" if address is None else (
            "# hubstack: the NFS server (hub.sharedData), kept by hubstack-sync-node; do not edit\n"
            f"{address} {cloud_init.NFS_SERVER_NAME}\n"
            "# hubstack: end of the NFS server\n"))
        assert node.hosts.read_text() == expected
        assert oct(node.hosts.stat().st_mode & 0o777) == "0o644"
        again = node.run()
        assert again.returncode == 0 and "hubstack-nfs is" not in again.stdout
    metadata_service.meta = {**metadata_service.meta, "hubstack-nfs-server": "10.0.42.11; reboot"}
    refused = node.run()
    assert refused.returncode == 1 and "is not an IPv4 address" in refused.stderr
    assert f"{prod.cloud.control_plane_address} hubstack-nfs" in node.hosts.read_text()


@pytest.mark.parametrize("installed, wanted, message", [
    ("v1.33.5+k3s1", "v1.33.6+k3s1", None),
    ("v1.33.5+k3s1", "v1.34.1+k3s1", None),
    ("v1.32.9+k3s1", "v1.34.1+k3s1", "one minor version at a time, so set cluster.k3sVersion to a v1.33 release"),
    ("v1.33.6+k3s1", "v1.33.5+k3s1", "k3s does not go back"),
])
def test_sync_upgrades_the_server_in_place_one_minor_at_a_time(tmp_path: Path, metadata_service, installed: str,
                                                              wanted: str, message):
    metadata_service.meta = _metadata(wanted, [])
    node = SyncedNode(tmp_path, metadata_service, "server")
    node.installed(installed)
    result = node.run()
    if message is None:
        assert result.returncode == 0, result.stdout + result.stderr
        assert node.install_calls() == [f"server {wanted}"]
    else:
        assert result.returncode == 1 and message in result.stderr
        assert node.install_calls() == []


def test_an_agent_upgrades_after_the_api_server(tmp_path: Path, metadata_service):
    metadata_service.meta = _metadata("v1.33.6+k3s1", [])
    node = SyncedNode(tmp_path, metadata_service, "agent")
    node.installed("v1.33.5+k3s1")
    metadata_service.api_version = "v1.33.5+k3s1"
    waiting = node.run()
    assert waiting.returncode == 0 and "waiting for the server" in waiting.stdout
    assert node.install_calls() == []
    metadata_service.api_version = "v1.33.6+k3s1"
    upgraded = node.run()
    assert upgraded.returncode == 0, upgraded.stdout + upgraded.stderr
    assert node.install_calls() == ["agent v1.33.6+k3s1"]


def _node(name: str, ready: bool, hostname: str = "") -> dict:
    labels = {"hub.jupyter.org/node-purpose": "user", **({"k3s.io/hostname": hostname} if hostname else {})}
    return {"metadata": {"name": name, "labels": labels},
            "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "Unknown"}]}}


def test_the_control_plane_deletes_the_nodes_of_workers_that_went(tmp_path: Path, metadata_service):
    """Listed workers stay, even when down; a replaced worker's old Node (NotReady, a Ready twin of the same
    hostname) and a removed worker's Node (NotReady, not listed) go."""
    data = stack_data("prod")
    set_path(data, "cluster.workerCount", 2)  # down from 3
    config = parse(data, offline=True, plaintext_secrets=True)
    workers = cloud_init.worker_names(config)
    assert workers == [f"{config.name}-worker-1", f"{config.name}-worker-2"]
    metadata_service.meta = cloud_init.server_metadata(config, "control-plane",
                                                       nfs_server=config.cloud.control_plane_address)
    nodes = {"items": [
        _node(f"{workers[0]}-0a1b2c3d", ready=True),
        _node(f"{workers[0]}-9f8e7d6c", ready=False),  # the worker before its replacement
        _node(f"{workers[1]}-11111111", ready=False, hostname=workers[1]),  # listed, only down: stays
        _node(f"{config.name}-worker-3-22222222", ready=False),  # removed
    ]}
    node = SyncedNode(tmp_path, metadata_service, "server")
    (tmp_path / "nodes.json").write_text(json.dumps(nodes))
    node.k3s.write_text(textwrap.dedent(f"""\
        #!/bin/sh
        case "$1 $2" in
          "--version ") echo "k3s version {config.cluster.k3s_version} (0123abcd)" ;;
          "kubectl get") cat "{tmp_path}/nodes.json" ;;
          "kubectl delete") echo "$4" >> "{tmp_path}/deleted" ;;
          *) exit 9 ;;
        esac
        """))
    node.k3s.chmod(0o755)
    result = node.run()
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "deleted").read_text().split() == [f"{workers[0]}-9f8e7d6c", f"{config.name}-worker-3-22222222"]
    assert node.install_calls() == []


def test_sync_without_the_metadata_service_says_so(tmp_path: Path, metadata_service):
    node = SyncedNode(tmp_path, metadata_service, "server")
    metadata_service.server.shutdown()
    metadata_service.server.server_close()
    result = node.run()
    assert result.returncode == 1 and "is Nova's metadata service reachable?" in result.stderr
    assert node.authorized_keys.read_text() == CLOUD_INIT_KEY + "\n" and node.install_calls() == []


# --------------------------------------------------------------------- pods and the metadata service, for real


@pytest.mark.parametrize("name", sorted(n for n in RENDERED if not n.endswith("nfs-server")))
def test_every_k3s_node_keeps_pods_from_the_metadata_service_and_nfs_before_k3s_runs(name: str):
    unit = _files(name)["/etc/systemd/system/hubstack-block-pod-access.service"]["content"]
    assert f"ExecStart=/usr/local/sbin/hubstack-block-pod-access {cloud_init.K3S_POD_CIDR}\n" in unit
    assert "Before=k3s.service k3s-agent.service" in unit and "WantedBy=multi-user.target" in unit
    runcmd = _doc(name)["runcmd"]
    sync = next(command for command in runcmd if command.startswith("/usr/local/sbin/hubstack-sync-node "))
    assert runcmd.index("systemctl enable --now hubstack-block-pod-access.service") < runcmd.index(sync)
    if "control-plane" in name:
        assert _k3s_config(name)["cluster-cidr"] == cloud_init.K3S_POD_CIDR


def test_block_pod_access_adds_its_rules_once(tmp_path: Path):
    """In a network namespace of its own, twice: DROP rules from the pod network to 169.254.169.254 and to NFS's
    ports (rpcbind, nfsd) on any address, over TCP and UDP, each once."""
    if os.geteuid() != 0:
        pytest.fail("the iptables test needs a network namespace: run the tests as root (as in the CI container)")
    script = EMBEDDED / "block-pod-access.sh"
    result = subprocess.run(
        [_tool("unshare"), "--net", "sh", "-c",
         f"bash {script} 10.42.0.0/16 && bash {script} 10.42.0.0/16 && iptables -t raw -S PREROUTING"],
        capture_output=True, text=True, env=_env(tmp_path), timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    rules = [line for line in result.stdout.splitlines() if line.startswith("-A PREROUTING")]
    assert sorted(rules) == sorted([
        "-A PREROUTING -s 10.42.0.0/16 -d 169.254.169.254/32 -j DROP",
        "-A PREROUTING -s 10.42.0.0/16 -p tcp -m multiport --dports 111,2049 -j DROP",
        "-A PREROUTING -s 10.42.0.0/16 -p udp -m multiport --dports 111,2049 -j DROP",
    ])
    assert result.stdout.count("cannot reach") == 3  # the second run found the rules and added none
    refused = subprocess.run(["bash", str(script), "10.42.0.0/16; reboot"], capture_output=True, text=True)
    assert refused.returncode == 2 and "is not an IPv4 CIDR" in refused.stderr


def test_the_control_plane_encrypts_secrets_in_its_datastore():
    for name in RENDERED:
        if name.endswith(("/control-plane", "/control-plane-nfs")):
            assert _k3s_config(name)["secrets-encryption"] is True, name
        elif name.endswith("/worker"):
            assert "secrets-encryption" not in _k3s_config(name), name  # a server flag: agents do not take it


# ------------------------------------------------------------------------- certificate renewal, for real


def _certificate(path: Path, days: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [_tool("openssl"), "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-days", str(days), "-subj", f"/CN={path.stem}", "-keyout", str(path.with_suffix(".key")),
         "-out", str(path)],
        capture_output=True, check=True,
    )


def _renew(tmp_path: Path, restart_renews: bool) -> tuple[subprocess.CompletedProcess, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    calls = tmp_path / "calls.log"
    # k3s, restarted, renews the certificates that expire soon: the stub renews client-kubelet.crt.
    renew = textwrap.dedent(f"""\
        echo "systemctl $*" >> "{calls}"
        {'openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 -subj /CN=renewed '
         f'-keyout {tmp_path}/agent/new.key -out {tmp_path}/agent/client-kubelet.crt 2>/dev/null'
         if restart_renews else ':'}
    """)
    _stub(bin_dir / "systemctl", renew)
    result = subprocess.run(
        ["bash", str(EMBEDDED / "renew-k3s-certificates.sh"), "k3s-agent.service", "60",
         str(tmp_path / "server" / "tls"), str(tmp_path / "agent")],
        capture_output=True, text=True, env=_env(bin_dir, HUBSTACK_RENEW_WAIT_SECONDS="0"), timeout=60,
    )
    return result, calls.read_text() if calls.exists() else ""


def test_certificates_valid_long_enough_no_restart(tmp_path: Path):
    _certificate(tmp_path / "agent" / "client-kubelet.crt", 300)
    _certificate(tmp_path / "agent" / "server-ca.crt", 10)  # a CA: a restart would not renew it, left out
    result, calls = _renew(tmp_path, restart_renews=True)
    assert result.returncode == 0, result.stderr
    assert "valid for more than 60 days" in result.stdout
    assert calls == ""


def test_expiring_certificate_restarts_k3s_which_renews_it(tmp_path: Path):
    _certificate(tmp_path / "agent" / "client-kubelet.crt", 30)
    _certificate(tmp_path / "agent" / "serving-kubelet.crt", 300)
    result, calls = _renew(tmp_path, restart_renews=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert calls == "systemctl restart k3s-agent.service\n"
    assert "client-kubelet.crt" in result.stdout and "renewed" in result.stdout


def test_certificate_not_renewed_by_restart_fails_loudly(tmp_path: Path):
    _certificate(tmp_path / "agent" / "client-kubelet.crt", 30)
    result, calls = _renew(tmp_path, restart_renews=False)
    assert result.returncode == 1
    assert "still expiring within 60 days after restarting k3s-agent.service" in result.stderr
    assert calls == "systemctl restart k3s-agent.service\n"


# ------------------------------------------------------------------- the share on an existing network, for real


def test_on_an_existing_network_the_share_is_exported_to_the_hubs_servers_alone(tmp_path: Path, nfs_host,
                                                                                 metadata_service):
    """prepare-nfs-volume.sh admits the serving server alone at boot; export-nfs-nodes.sh then exports the share to
    each server its metadata lists, with the same options, follows the list as workers come and go, and reloads
    the exports only when they change."""
    host = nfs_host(_image(tmp_path))
    prepared = host.run("198.51.100.78/32")
    assert prepared.returncode == 0, prepared.stdout + prepared.stderr
    node_exports = host.exports.with_name("hubstack-nodes.exports")
    env = _env(host.bin_dir, HUBSTACK_METADATA_URL=f"{metadata_service.url}/openstack/latest/meta_data.json",
               HUBSTACK_EXPORTS_FILE=str(host.exports), HUBSTACK_NODE_EXPORTS_FILE=str(node_exports))

    def export(*clients: str) -> subprocess.CompletedProcess:
        metadata_service.meta = cloud_init.server_metadata(CONFIGS["prod"], "control-plane",
                                                           nfs_server="198.51.100.78", nfs_clients=clients)
        host.calls.write_text("")
        return subprocess.run(["bash", str(EMBEDDED / "export-nfs-nodes.sh")], capture_output=True, text=True,
                              env=env, timeout=60)

    (boot_line,) = [line for line in host.exports.read_text().splitlines() if not line.startswith("#")]
    options = boot_line.split("(", 1)[1]
    many = [f"198.51.100.{last}" for last in range(2, 40)]  # more than one metadata value's 255 characters
    for clients in (["198.51.100.78", "198.51.100.213"], ["198.51.100.78", *many], ["198.51.100.78"]):
        result = export(*clients)
        assert result.returncode == 0, result.stdout + result.stderr
        lines = [line for line in node_exports.read_text().splitlines() if not line.startswith("#")]
        assert lines == [f"{host.export_path} {client}({options}" for client in clients]
        assert host.calls.read_text() == "exportfs -ra\n"
        again = export(*clients)
        assert again.returncode == 0 and host.calls.read_text() == ""  # unchanged: no reload
    metadata_service.meta = {"hubstack-nfs-clients-00": "198.51.100.78 10.0.0.1;reboot"}
    refused = subprocess.run(["bash", str(EMBEDDED / "export-nfs-nodes.sh")], capture_output=True, text=True,
                             env=env, timeout=60)
    assert refused.returncode == 1 and "'10.0.0.1;reboot' in hubstack-nfs-clients is not an IPv4 address" in (
        refused.stderr)
    assert "198.51.100.78(" in node_exports.read_text()  # the last good exports stay


def test_export_to_the_hubs_servers_only_on_an_existing_network():
    """The serving server's sync runs export-nfs-nodes.sh on an existing network, and its pod network is WireGuard;
    on the program's own network the subnet is the hub's, and nothing of either is in the user data."""
    for name, document in RENDERED.items():
        existing = name.startswith("prod-existing-network/")
        serving = name.endswith("nfs") or name.endswith("nfs-server")
        files = _files(name)
        assert (cloud_init.EXPORT_NFS_NODES in files) == (existing and serving), name
        unit = files["/etc/systemd/system/hubstack-sync-node.service"]["content"]
        assert (f"ExecStart=-{cloud_init.EXPORT_NFS_NODES}\n" in unit) == (existing and serving), name
        if existing and serving:
            runcmd = _doc(name)["runcmd"]
            prepare = runcmd.index(f"{cloud_init.PREPARE_NFS_VOLUME} {VOLUME_ID} {PRIVATE_ADDRESS}/32 1000:100")
            assert runcmd[prepare + 1] == cloud_init.EXPORT_NFS_NODES
        if name.endswith(("/control-plane", "/control-plane-nfs")):
            assert ("flannel-backend: wireguard-native" in document) == existing, name


def test_gpu_workers_get_nvidias_container_runtime_before_k3s_and_the_gpu_label():
    """On a GPU flavor the worker installs NVIDIA's container toolkit from NVIDIA's repository, its key pinned by
    fingerprint, as a package (before runcmd installs k3s, which adds the runtime it finds), and says it has a GPU;
    every other server has neither."""
    for name, document in RENDERED.items():
        parsed = _doc(name)
        gpu = name == "dev-gpu-workers/worker"
        assert (cloud_init.NVIDIA_TOOLKIT_PACKAGE in parsed["packages"]) == gpu, name
        assert ("apt" in parsed) == gpu, name
        if name.endswith("/worker"):
            labels = yaml.safe_load(_files(name)[cloud_init.K3S_CONFIG_PATH]["content"])["node-label"]
            assert ("nvidia.com/gpu.present=true" in labels) == gpu, name
    (source,) = _doc("dev-gpu-workers/worker")["apt"]["sources"].values()
    assert re.fullmatch(r"[0-9A-F]{40}", source["keyid"])  # a whole fingerprint, not a short ID
    assert source["source"].startswith("deb [signed-by=$KEY_FILE] https://nvidia.github.io/libnvidia-container/")


def test_one_default_storage_class_whatever_the_homes():
    """With Cinder homes the Cinder class is the default and k3s's local-path is not there; with homes on NFS there
    is no Cinder class, and local-path (the hub database's) is kept. The hub database's claim names its class
    either way (tests/test_render.py), so it never depends on which default the cluster has."""
    for stack in ("dev", "prod"):
        config = CONFIGS[stack]
        assert not config.homes_on_nfs
        assert _k3s_config(f"{stack}/control-plane")["disable"] == ["local-storage"]
    # Homes on NFS (no Cinder class), or a Kubernetes layer that is the admin's (hub.layers: openstack): k3s's
    # local-path stays, the cluster's one default.
    nfs_homes = next(variant for variant in VARIANTS if variant.name == "azuread-nfs-homes").config()
    admins_layer = parse(stack_data("prod") | {"layers": "openstack"}, offline=True, plaintext_secrets=True)
    for config in (nfs_homes, admins_layer):
        document = _control_plane(config)
        (k3s,) = [entry for entry in yaml.safe_load(document)["write_files"] if entry["path"] == K3S_CONFIG_PATH]
        assert "disable" not in yaml.safe_load(k3s["content"])


def test_the_control_plane_boots_with_the_host_key_the_program_checks_and_its_key():
    """Its ed25519 host key is the one Pulumi made (the API wait's SSH checks it), and the program's SSH key is
    authorized there by cloud-init, not by a Nova key pair; no other server gets either."""
    for name in RENDERED:
        keys, authorized = _doc(name).get("ssh_keys"), _doc(name).get("ssh_authorized_keys")
        if name.endswith(("/control-plane", "/control-plane-nfs")):
            assert keys == {"ed25519_private": HOST_KEY.private_openssh, "ed25519_public": HOST_KEY.public_openssh}
            assert authorized == [PROGRAM_KEY], name
        else:
            assert keys is None and authorized is None, name
    for wrong in ("ssh-ed25519 AAAA key\nruncmd: [reboot]", "ssh-rsa AAAAB3Nza", ""):
        with pytest.raises(ValueError, match="program_key is not one OpenSSH ed25519 public key line"):
            _control_plane(CONFIGS["dev"], program_key=wrong)


# ------------------------------------------------------------------------------- the k3s installer, for real

K3S_RELEASE = "v1.33.5+k3s1"


class K3sRelease:
    """A k3s release on a stand-in for GitHub (curl serves files of a folder), and the host it installs onto:
    bin and systemd folders of its own, systemctl recorded."""

    def __init__(self, root: Path, binary: bytes = b"#!/bin/sh\necho 'k3s version v1.33.5+k3s1 (abc)'\n"):
        self.root = root
        self.release = root / "releases" / K3S_RELEASE.replace("+", "%2B")
        self.release.mkdir(parents=True)
        (self.release / "k3s").write_bytes(binary)
        self.listed = hashlib.sha256(binary).hexdigest()
        self.list_checksums({"k3s": self.listed, "k3s-airgap-images-amd64.tar": "0" * 64})
        self.bin_dir, self.systemd_dir, stubs = root / "usr-local-bin", root / "systemd", root / "stubs"
        for folder in (self.bin_dir, self.systemd_dir, stubs):
            folder.mkdir()
        self.calls, self.fetched = root / "systemctl.log", root / "curl.log"
        _stub(stubs / "systemctl", f'echo "$*" >> "{self.calls}"')
        _stub(stubs / "curl", textwrap.dedent(f"""\
            out=""; url=""
            while [ "$#" -gt 0 ]; do
              case "$1" in -o) out=$2; shift ;; https://*) url=$1 ;; esac
              shift
            done
            echo "$url" >> "{self.fetched}"
            cp "{root}/releases/${{url#https://releases.test/}}" "$out" 2>/dev/null || exit 22"""))
        self.env = _env(stubs, HUBSTACK_K3S_RELEASES="https://releases.test", HUBSTACK_BIN_DIR=str(self.bin_dir),
                        HUBSTACK_SYSTEMD_DIR=str(self.systemd_dir))

    def list_checksums(self, checksums: dict[str, str]) -> None:
        (self.release / "sha256sum-amd64.txt").write_text(
            "".join(f"{checksum}  {name}\n" for name, checksum in checksums.items()))

    def install(self, role: str, version: str = K3S_RELEASE) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["bash", str(EMBEDDED / "install-k3s.sh"), role, version], env=self.env,
                              capture_output=True, text=True, timeout=60)

    def systemctl(self) -> list[str]:
        return self.calls.read_text().splitlines() if self.calls.exists() else []


@pytest.mark.parametrize("role, service, service_type", [("server", "k3s", "notify"), ("agent", "k3s-agent", "exec")])
def test_the_installer_installs_the_release_binary_its_checksum_list_names(tmp_path, role, service, service_type):
    host = K3sRelease(tmp_path)
    (host.bin_dir / "kubectl").write_text("an admin's own kubectl\n")
    installed = host.install(role)
    assert installed.returncode == 0, installed.stderr
    assert (host.bin_dir / "k3s").read_bytes() == (host.release / "k3s").read_bytes()
    assert os.access(host.bin_dir / "k3s", os.X_OK) and not (host.bin_dir / ".k3s.new").exists()
    assert os.readlink(host.bin_dir / "crictl") == "k3s" and os.readlink(host.bin_dir / "ctr") == "k3s"
    assert (host.bin_dir / "kubectl").read_text() == "an admin's own kubectl\n"  # left as it was
    unit = (host.systemd_dir / f"{service}.service").read_text()
    assert f"\nType={service_type}\n" in unit and f"\nExecStart={host.bin_dir}/k3s {role}\n" in unit
    assert "\nDelegate=yes\n" in unit and "\nKillMode=process\n" in unit and "\nWantedBy=multi-user.target\n" in unit
    assert host.systemctl() == ["daemon-reload", f"enable {service}.service", f"restart {service}.service"]
    # The release's own files, by its URL-encoded tag, over HTTPS only.
    assert host.fetched.read_text().splitlines() == [
        "https://releases.test/v1.33.5%2Bk3s1/sha256sum-amd64.txt", "https://releases.test/v1.33.5%2Bk3s1/k3s"]
    assert host.listed in installed.stdout


@pytest.mark.parametrize("change, message", [
    (lambda host: host.list_checksums({"k3s": "f" * 64}), "its release lists " + "f" * 64 + ": not installing it"),
    (lambda host: host.list_checksums({"k3s-arm64": "f" * 64}), "the checksum list of v1.33.5+k3s1 names no k3s"),
    (lambda host: (host.release / "k3s").unlink(), "cannot download https://releases.test/v1.33.5%2Bk3s1/k3s"),
], ids=["checksum-differs", "binary-not-listed", "binary-missing"])
def test_the_installer_installs_nothing_it_cannot_verify(tmp_path, change, message):
    host = K3sRelease(tmp_path)
    (host.bin_dir / "k3s").write_text("the running k3s\n")
    change(host)
    refused = host.install("server")
    assert refused.returncode == 1 and message in refused.stderr, refused.stderr
    assert (host.bin_dir / "k3s").read_text() == "the running k3s\n"
    assert not list(host.systemd_dir.iterdir()) and host.systemctl() == []


def test_the_installer_refuses_what_is_no_k3s_release(tmp_path):
    host = K3sRelease(tmp_path)
    refused = host.install("server", "latest")
    assert refused.returncode == 1 and "'latest' is not a k3s release" in refused.stderr
    assert not host.fetched.exists()
    refused = host.install("master")
    assert refused.returncode == 2 and "role must be server or agent" in refused.stderr
