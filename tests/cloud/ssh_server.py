"""The control plane's sshd, for the local cloud's stand-in of its guest (tests/cloud/guest.py starts it inside the
local Kubernetes API's network namespace): the host key and the one authorized key that the control plane's
cloud-init installs, the image's user, and each exec request run by /bin/sh with the control plane's own commands
(cloud-init, sudo, k3s) stood in for by tests/cloud/control_plane_bin/.

    python -m tests.cloud.ssh_server --address A --host-key FILE --authorized-key FILE --user U
"""

from __future__ import annotations

import argparse
import base64
import os
import queue
import socket
import subprocess
import sys
import threading
from pathlib import Path

import paramiko

CONTROL_PLANE_BIN = Path(__file__).resolve().parent / "control_plane_bin"
COMMAND_TIMEOUT = 900


class _Session(paramiko.ServerInterface):
    """One client's connection: its exec requests, one per channel, queued in order."""

    def __init__(self, user: str, authorized: paramiko.PKey) -> None:
        self.user = user
        self.authorized = authorized
        self.requests: queue.Queue[tuple[paramiko.Channel, str]] = queue.Queue()

    def check_channel_request(self, kind: str, chanid: int) -> int:
        return paramiko.OPEN_SUCCEEDED if kind == "session" else paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def get_allowed_auths(self, username: str) -> str:
        return "publickey"

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        if username == self.user and key.asbytes() == self.authorized.asbytes():
            return paramiko.AUTH_SUCCESSFUL
        return paramiko.AUTH_FAILED

    def check_channel_exec_request(self, channel: paramiko.Channel, command: bytes) -> bool:
        self.requests.put((channel, command.decode()))
        return True


def _serve(connection: socket.socket, peer: str, host_key: paramiko.PKey, session: _Session) -> None:
    transport = paramiko.Transport(connection)
    transport.add_server_key(host_key)
    try:
        transport.start_server(server=session)
        while transport.is_active():
            try:
                channel, command = session.requests.get(timeout=0.5)
            except queue.Empty:
                continue
            _run(channel, command)
            _log(f"{peer}: ran {len(command.splitlines())} lines as {session.user}: exit {channel.exit_status}")
    except Exception as error:  # noqa: BLE001 - one connection's failure is logged, the server goes on
        _log(f"{peer}: {type(error).__name__}: {error}")
    finally:
        transport.close()


def _run(channel: paramiko.Channel, command: str) -> None:
    environment = {**os.environ, "PATH": f"{CONTROL_PLANE_BIN}:{os.environ['PATH']}"}
    done = subprocess.run(["/bin/sh", "-c", command], capture_output=True, env=environment, stdin=subprocess.DEVNULL,
                          timeout=COMMAND_TIMEOUT)
    channel.sendall(done.stdout)
    channel.sendall_stderr(done.stderr)
    channel.exit_status = done.returncode
    channel.send_exit_status(done.returncode)
    channel.close()


def _log(line: str) -> None:
    print(f"ssh_server: {line}", file=sys.stderr, flush=True)


def _authorized_key(path: Path) -> paramiko.PKey:
    kind, blob = path.read_text().split()[:2]
    return paramiko.PKey.from_type_string(kind, base64.b64decode(blob))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--address", required=True)
    parser.add_argument("--port", type=int, default=22)
    parser.add_argument("--host-key", type=Path, required=True, help="OpenSSH private ed25519 key")
    parser.add_argument("--authorized-key", type=Path, required=True, help="OpenSSH public key")
    parser.add_argument("--user", required=True)
    arguments = parser.parse_args()
    host_key = paramiko.Ed25519Key(filename=str(arguments.host_key))
    authorized = _authorized_key(arguments.authorized_key)
    listener = socket.create_server((arguments.address, arguments.port), reuse_port=False)
    _log(f"listening on {arguments.address}:{arguments.port}")
    while True:
        connection, (peer, _) = listener.accept()
        threading.Thread(target=_serve, args=(connection, peer, host_key, _Session(arguments.user, authorized)),
                         daemon=True).start()


if __name__ == "__main__":
    main()
