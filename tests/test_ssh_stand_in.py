"""The local cloud's stand-in for the control plane's sshd (tests/cloud/ssh_server.py) lets in what the control
plane's cloud-init would (the image's user with the program's key, to a server showing the stack's host key) and
nothing else, and runs the program's wait for the API with the control plane's commands stood in for."""

from __future__ import annotations

import base64
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import paramiko
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from render.cloud_init import wait_for_cluster_command

from .conftest import PROJECT_DIR

USER = "ubuntu"


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Ed25519 key pairs in OpenSSH's formats, as the stack's TLS keys give them: <name> and <name>.pub."""
    folder = tmp_path_factory.mktemp("ssh")
    for name in ("host", "program", "stranger"):
        key = Ed25519PrivateKey.generate()
        (folder / name).write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.OpenSSH, NoEncryption()))
        (folder / f"{name}.pub").write_bytes(key.public_key().public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH))
    return {name: folder / name for name in ("host", "program", "stranger")}


@pytest.fixture(scope="module")
def server(keys: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = tmp_path_factory.mktemp("log") / "ssh_server.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.cloud.ssh_server", "--address", "127.0.0.1", "--port", str(port),
             "--host-key", str(keys["host"]), "--authorized-key", f"{keys['program']}.pub", "--user", USER],
            cwd=PROJECT_DIR, stdout=output, stderr=output)
    try:
        deadline = time.monotonic() + 10
        while "listening" not in log.read_text():
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def _client(port: int, keys: dict[str, Path], user: str = USER, key: str = "program",
            host_key: str = "host") -> paramiko.SSHClient:
    """A client that accepts no host key but `host_key`'s (as the program's SSH, which is given the stack's)."""
    client = paramiko.SSHClient()
    kind, blob = Path(f"{keys[host_key]}.pub").read_text().split()[:2]
    known = paramiko.PKey.from_type_string(kind, base64.b64decode(blob))
    client.get_host_keys().add(f"[127.0.0.1]:{port}", kind, known)
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    client.connect("127.0.0.1", port=port, username=user, key_filename=str(keys[key]), look_for_keys=False,
                   allow_agent=False, timeout=10)
    return client


def _run(client: paramiko.SSHClient, command: str) -> tuple[int, str, str]:
    _, stdout, stderr = client.exec_command(command, timeout=30)
    status = stdout.channel.recv_exit_status()
    return status, stdout.read().decode(), stderr.read().decode()


def test_the_programs_key_runs_commands_with_the_control_planes_stood_in_for(
        server: int, keys: dict[str, Path], tmp_path: Path):
    # A kubectl that says the API is ready (the local API's, in the guest).
    (tmp_path / "kubectl").write_text('#!/bin/sh\n[ "$*" = "get --raw /readyz" ] && echo ok\n')
    (tmp_path / "kubectl").chmod(0o755)
    with _client(server, keys) as client:
        assert _run(client, "cloud-init status --wait; sudo id -u") == (0, "status: done\n0\n", "")
        assert _run(client, "echo gone >&2; exit 7") == (7, "", "gone\n")
        assert _run(client, "cloud-init init") == (1, "", "cloud-init stand-in: only 'status --wait' is known, not: "
                                                          "init\n")
        # The program's own wait for the API, as its Command sends it.
        assert _run(client, f"PATH={tmp_path}:$PATH\n{wait_for_cluster_command()}") == (0, "", "")


@pytest.mark.parametrize("user, key", [(USER, "stranger"), ("root", "program")])
def test_another_key_or_user_is_refused(server: int, keys: dict[str, Path], user: str, key: str):
    with pytest.raises(paramiko.AuthenticationException):
        _client(server, keys, user=user, key=key)


def test_it_shows_the_host_key_it_was_given(server: int, keys: dict[str, Path]):
    with pytest.raises(paramiko.BadHostKeyException):
        _client(server, keys, host_key="stranger")
