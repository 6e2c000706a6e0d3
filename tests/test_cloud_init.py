"""render/cloud_init.py: every user data passes cloud-init's own schema check, every shell passes shellcheck, and
the embedded scripts run for real: the NFS volume script against loop devices (twice), the certificate renewal
against certificates made with openssl."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import textwrap
from pathlib import Path
from typing import Callable, Iterator

import pytest
import yaml

from config import HubConfig, load_stack_file, parse
from render import cloud_init
from render.cloud_init import (
    EVICTION_HARD,
    IMAGE_GC_HIGH_THRESHOLD_PERCENT,
    IMAGE_GC_LOW_THRESHOLD_PERCENT,
    K3S_CONFIG_PATH,
    NFS_EXPORT_PATH,
    NfsServe,
    control_plane_user_data,
    nfs_server_user_data,
    read_kubeconfig_command,
    worker_user_data,
)
from render.placement import USER_NODE_PURPOSE_LABEL, USER_NODE_TAINT_KEY

from .conftest import PROJECT_DIR, set_path, stack_data

SETUP_HINT = (
    "run the README's setup (`make system-deps`: Debian packages cloud-init shellcheck e2fsprogs util-linux "
    "fdisk openssl)"
)
SCRIPTS = cloud_init.SCRIPTS_DIR
TOKEN = "K10hubstackTestJoinToken0123456789abcdef"
PRIVATE_ADDRESS = "10.0.42.10"
FLOATING_IP = "149.165.150.10"
VOLUME_ID = "0d4f3a5e-8c2b-4e7f-9a1d-3b5c7e9f1a2b"


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
    return {
        "dev": load_stack_file(PROJECT_DIR / "Pulumi.dev.yaml"),
        "prod": load_stack_file(PROJECT_DIR / "Pulumi.prod.yaml"),
        "prod-dedicated-nfs": parse(dedicated, offline=True, plaintext_secrets=True),
    }


CONFIGS = _configs()


def _render_all() -> dict[str, str]:
    rendered = {}
    for stack, config in CONFIGS.items():
        nfs = NfsServe(volume_id=VOLUME_ID, client_cidr=config.cloud.network_cidr)
        rendered[f"{stack}/nfs-server"] = nfs_server_user_data(config, nfs=nfs)
        if stack == "prod-dedicated-nfs":
            continue  # its k3s servers' user data is prod's: the component picks which server serves NFS
        rendered[f"{stack}/control-plane"] = control_plane_user_data(
            config, token=TOKEN, private_address=PRIVATE_ADDRESS, floating_ip=FLOATING_IP, nfs=None
        )
        rendered[f"{stack}/control-plane-nfs"] = control_plane_user_data(
            config, token=TOKEN, private_address=PRIVATE_ADDRESS, floating_ip=FLOATING_IP, nfs=nfs
        )
        rendered[f"{stack}/worker"] = worker_user_data(
            config, token=TOKEN, control_plane_address=config.cloud.control_plane_address
        )
    return rendered


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
    assert len(scripts) == 3
    for script in scripts:
        _shellcheck(script.read_text(), tmp_path, script.name)


def test_read_kubeconfig_command_passes_shellcheck(tmp_path: Path):
    command = read_kubeconfig_command(FLOATING_IP)
    _shellcheck(command, tmp_path, "read-kubeconfig.sh", shell="sh")
    assert "cloud-init status --wait" in command
    assert '[ "$status" -ne 2 ]' in command  # "done with recoverable errors" counts as done
    assert f"s#https://127.0.0.1:6443#https://{FLOATING_IP}:6443#" in command
    assert "sudo sed" in command and "sudo test -s /etc/rancher/k3s/k3s.yaml" in command


def test_read_kubeconfig_command_runs(tmp_path: Path):
    """The command itself, with cloud-init, sudo and the kubeconfig stubbed: done with recoverable errors (2)
    still prints the kubeconfig, pointed at the floating IP; a failed cloud-init (1) stops it."""
    kubeconfig = tmp_path / "k3s.yaml"
    kubeconfig.write_text("clusters:\n- cluster:\n    server: https://127.0.0.1:6443\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _stub(bin_dir / "sudo", 'exec "$@"')
    command = read_kubeconfig_command(FLOATING_IP).replace("/etc/rancher/k3s/k3s.yaml", str(kubeconfig))
    for status, expect_ok in ((0, True), (2, True), (1, False)):
        _stub(bin_dir / "cloud-init", f"exit {status}")
        result = subprocess.run(
            ["sh", "-c", command], capture_output=True, text=True, env=_env(bin_dir), timeout=30
        )
        if expect_ok:
            assert result.returncode == 0, result.stderr
            assert f"server: https://{FLOATING_IP}:6443" in result.stdout
        else:
            assert result.returncode == 1 and "cloud-init failed" in result.stderr


# ------------------------------------------------------------------------------------------------ contents


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_server_k3s_config(stack: str):
    config = CONFIGS[stack]
    k3s = _k3s_config(f"{stack}/control-plane")
    assert k3s["token"] == TOKEN
    assert k3s["tls-san"] == [FLOATING_IP, config.hostname]
    assert k3s["node-ip"] == k3s["advertise-address"] == PRIVATE_ADDRESS
    assert k3s["write-kubeconfig-mode"] == "0600"
    assert "disable" not in k3s  # k3s's traefik, servicelb and local-path stay
    assert "server" not in k3s and "node-taint" not in k3s
    runcmd = _doc(f"{stack}/control-plane")["runcmd"]
    assert f"/usr/local/sbin/hubstack-install-k3s server {config.cluster.k3s_version}" in runcmd


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_worker_k3s_config_and_no_nfs_server(stack: str):
    config = CONFIGS[stack]
    name = f"{stack}/worker"
    k3s = _k3s_config(name)
    assert k3s["server"] == f"https://{config.cloud.control_plane_address}:6443"
    assert k3s["token"] == TOKEN
    assert k3s["node-label"] == [f"{USER_NODE_PURPOSE_LABEL}=user"]
    assert k3s["node-taint"] == [f"{USER_NODE_TAINT_KEY}=user:NoSchedule"]
    document = _doc(name)
    assert f"/usr/local/sbin/hubstack-install-k3s agent {config.cluster.k3s_version}" in document["runcmd"]
    assert document["packages"] == ["nfs-common"]
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
def test_token_only_in_root_only_k3s_config(name: str):
    text = RENDERED[name]
    files = _files(name)
    if name.endswith("nfs-server"):
        assert TOKEN not in text and K3S_CONFIG_PATH not in files
        return
    assert text.count(TOKEN) == 1
    holder = [entry for entry in files.values() if TOKEN in entry["content"]]
    assert [entry["path"] for entry in holder] == [K3S_CONFIG_PATH]
    assert holder[0]["permissions"] == "0600" and holder[0]["owner"] == "root:root"


@pytest.mark.parametrize("name", sorted(n for n in RENDERED if n.endswith("nfs") or n.endswith("nfs-server")))
def test_nfs_server_parts(name: str):
    stack = name.split("/")[0]
    document = _doc(name)
    assert document["packages"] == ["nfs-common", "nfs-kernel-server"]
    script = _files(name)["/usr/local/sbin/hubstack-prepare-nfs-volume"]
    assert script["content"] == (SCRIPTS / "prepare-nfs-volume.sh").read_text()
    command = f"/usr/local/sbin/hubstack-prepare-nfs-volume {VOLUME_ID} {CONFIGS[stack].cloud.network_cidr}"
    assert document["runcmd"][-1] == command  # after k3s: the cluster comes up while the volume is attached
    if name.endswith("nfs-server"):
        assert document["runcmd"] == ["set -e", command]
        assert "k3s" not in RENDERED[name].replace("hubstack-k3s", "")  # not one k3s part on the NFS server
    assert f"HUBSTACK_NFS_EXPORT_PATH:-{NFS_EXPORT_PATH}}}" in script["content"]


def test_admin_keys_from_config():
    assert _doc("prod/worker")["ssh_authorized_keys"] == CONFIGS["prod"].cluster.ssh_public_keys
    assert "ssh_authorized_keys" not in _doc("dev/worker")  # dev lists none


def test_deterministic_and_within_nova_limit():
    again = _render_all()
    assert again == RENDERED
    for name, text in RENDERED.items():
        assert len(text.encode()) < cloud_init.MAX_USER_DATA_BYTES, name
        assert yaml.safe_dump(yaml.safe_load(text), sort_keys=False)  # plain YAML, nothing Python-specific


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda c: control_plane_user_data(c, token=TOKEN, private_address="10.0.42", floating_ip=FLOATING_IP,
                                           nfs=None), "private_address"),
        (lambda c: control_plane_user_data(c, token="a b", private_address=PRIVATE_ADDRESS,
                                           floating_ip=FLOATING_IP, nfs=None), "token"),
        (lambda c: worker_user_data(c, token=TOKEN, control_plane_address="cp; rm -rf /"), "control_plane_address"),
        (lambda c: nfs_server_user_data(c, nfs=NfsServe("vol-1; reboot", "10.0.42.0/24")), "volume_id"),
        (lambda c: nfs_server_user_data(c, nfs=NfsServe(VOLUME_ID, "10.0.42.1/24")), "client_cidr"),
        (lambda c: read_kubeconfig_command("example.org"), "floating_ip"),
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
            HUBSTACK_NFS_DEVICE=self.device,
            HUBSTACK_NFS_EXPORT_PATH=str(self.export_path),
            HUBSTACK_FSTAB=str(self.fstab),
            HUBSTACK_EXPORTS_FILE=str(self.exports),
            HUBSTACK_DEVICE_WAIT_SECONDS="0",
        )
        return subprocess.run(
            ["bash", str(SCRIPTS / "prepare-nfs-volume.sh"), VOLUME_ID, cidr],
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
    assert (host.export_path / "data").is_dir() and (host.export_path / "home").is_dir()
    assert host.exports.read_text().splitlines()[-1] == (
        f"{host.export_path} 10.0.42.0/24(rw,sync,no_subtree_check,no_root_squash,mp)"
    )
    assert "exportfs -ra" in host.calls.read_text()

    # Data written after the first run, then the script again (every boot, or an admin by hand) ...
    (host.export_path / "data" / "precious.nc").write_text("user data\n")
    second = host.run()
    assert second.returncode == 0, second.stdout + second.stderr
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
        ["bash", str(SCRIPTS / "renew-k3s-certificates.sh"), "k3s-agent.service", "60",
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
