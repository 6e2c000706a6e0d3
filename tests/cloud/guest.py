"""The control plane's guest, for the whole hub on the local cloud: Nova's FakeDriver boots nothing, so this plays the
one server the program talks to (tests/cloud/test_whole_hub.py).

While a `pulumi up` runs, it watches Nova and Neutron as the cloud's admin. When the hub's control plane is ACTIVE
with its floating IP, it boots it from the user data Nova holds for it, as cloud-init would: k3s's certificate
authorities and service-account key from the files the user data writes, the host key and the authorized key from
its ssh_keys and ssh_authorized_keys. Booting is starting the local Kubernetes API (kube/kube.sh) with those
authorities at the floating IP, with k3s's own CRDs (its Helm controller's) installed as k3s has them, and an SSH
server (tests/cloud/ssh_server.py) at the floating IP's port 22 for the program's wait for the API. A replaced
control plane boots again; a deleted one shuts down. The datastore outlives both, as k3s's does on the hub's state
volume.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Optional

import yaml

from render.cloud_init import K3S_CA_STAGING_DIR

from ..conftest import PROJECT_DIR
from ..upstream import HELM_CONTROLLER_MODULE, go_module
from .api import connect

KUBE_SCRIPT = PROJECT_DIR / "kube" / "kube.sh"
POLL_SECONDS = 0.5
BOOT_SECONDS = 120
_RAN = re.compile(r": ran \d+ lines as (\S+): exit (\d+)$")


class ControlPlaneGuest:
    def __init__(self, cloud: dict[str, Any], hub: str, image_user: str, work: Path) -> None:
        self._admin = connect(cloud, "adminCloud")
        self.hub = hub
        self.image_user = image_user
        self.work = work
        self.kube_environment = {"HUBSTACK_KUBE_DIR": str(work / "kube")}
        # Each boot: (server ID, seconds from the server's ACTIVE state being seen to the SSH server answering).
        self.boots: list[tuple[str, float]] = []
        self.error: Optional[BaseException] = None
        self._booted: Optional[str] = None
        self._ssh: Optional[subprocess.Popen[bytes]] = None
        self._stopping = threading.Event()
        self._watcher = threading.Thread(target=self._watch, name="control-plane-guest", daemon=True)

    def __enter__(self) -> "ControlPlaneGuest":
        self.work.mkdir(parents=True, exist_ok=True)
        self._watcher.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stopping.set()
        self._watcher.join(timeout=BOOT_SECONDS)
        self._shut_down()

    def commands(self) -> list[tuple[str, int]]:
        """Each command the SSH server ran so far: (user, exit status)."""
        log = self.work / "ssh_server.log"
        lines = log.read_text(errors="replace").splitlines() if log.exists() else []
        return [(match[1], int(match[2])) for line in lines if (match := _RAN.search(line))]

    @property
    def running(self) -> bool:
        return self._booted is not None

    def kube(self, *args: str, stdin: Optional[str] = None, timeout: int = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(KUBE_SCRIPT), *args], input=stdin, capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, **self.kube_environment})

    def kubectl(self, *args: str, stdin: Optional[str] = None) -> str:
        done = self.kube("exec", "--", "kubectl", *args, stdin=stdin)
        assert done.returncode == 0, f"kubectl {' '.join(args)}: {done.stderr}"
        return done.stdout

    def _watch(self) -> None:
        while not self._stopping.wait(POLL_SECONDS):
            try:
                self._look()
            except Exception as error:  # noqa: BLE001 - reported by the test that runs `pulumi up`
                self.error = error
                return

    def _look(self) -> None:
        found = self._control_plane()
        if found is None:
            if self._booted is not None:
                self._shut_down()  # the server was deleted: a teardown
            return
        server, address = found
        if server.id != self._booted:
            started = time.monotonic()
            self._boot(server, address)
            self.boots.append((server.id, time.monotonic() - started))

    def _control_plane(self) -> Optional[tuple[Any, str]]:
        """The hub's control plane and its floating IP, once Nova says it runs and Neutron that the address is its (of
        an old and a new control plane, the one that holds the port the address is on)."""
        for server in self._admin.compute.servers(all_projects=True, name=f"^{self.hub}$"):
            if server.status != "ACTIVE":
                continue
            for port in self._admin.network.ports(device_id=server.id):
                for address in self._admin.network.ips(port_id=port.id):
                    return self._admin.compute.get_server(server.id), address.floating_ip_address
        return None

    def _boot(self, server: Any, address: str) -> None:
        user_data = yaml.safe_load(base64.b64decode(server.user_data))
        authorities = self.work / "k3s-ca"
        shutil.rmtree(authorities, ignore_errors=True)
        for written in user_data["write_files"]:
            relative = os.path.relpath(written["path"], K3S_CA_STAGING_DIR)
            if not relative.startswith(".."):
                _private(authorities / relative, written["content"])
        host_key = _private(self.work / "ssh_host_ed25519_key", user_data["ssh_keys"]["ed25519_private"])
        (program_key,) = user_data["ssh_authorized_keys"]
        authorized_key = _private(self.work / "authorized_key", program_key + "\n")

        self._shut_down()
        self.kube_environment.update({"HUBSTACK_KUBE_CA_DIR": str(authorities), "HUBSTACK_KUBE_ADDRESSES": address,
                                      "HUBSTACK_KUBE_DATASTORE": str(self.work / "datastore")})
        started = self.kube("start", timeout=BOOT_SECONDS)
        if started.returncode != 0:
            raise RuntimeError(f"kube/kube.sh start failed:\n{started.stdout}{started.stderr}")
        crds = go_module(HELM_CONTROLLER_MODULE) / "pkg" / "crds" / "yaml" / "generated"
        self.kubectl("apply", "-f", str(crds))
        log = self.work / "ssh_server.log"
        with log.open("ab") as output:
            earlier = output.tell()  # what earlier boots logged
            self._ssh = subprocess.Popen(
                [str(KUBE_SCRIPT), "exec", "--", sys.executable, "-m", "tests.cloud.ssh_server", "--address", address,
                 "--host-key", str(host_key), "--authorized-key", str(authorized_key), "--user", self.image_user],
                cwd=PROJECT_DIR, env={**os.environ, **self.kube_environment}, stdin=subprocess.DEVNULL,
                stdout=output, stderr=output, start_new_session=True)
        deadline = time.monotonic() + 30
        while f"listening on {address}:22" not in (logged := log.read_bytes()[earlier:].decode(errors="replace")):
            if self._ssh.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the SSH server did not start:\n{logged[-2000:]}")
            time.sleep(0.1)
        self._booted = server.id

    def _shut_down(self) -> None:
        # Stopping the API stops whatever runs in its namespace, the SSH server too.
        self.kube("stop")
        if self._ssh is not None:
            self._ssh.wait(timeout=30)
            self._ssh = None
        self._booted = None


def _private(path: Path, content: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.touch(mode=0o600)
    path.write_text(content)
    return path
