"""A stand-in for the hub's Kubernetes API, as far as hubctl calls it: claims and PersistentVolumes, on plain HTTP
on loopback, every request recorded. Started on construction; `shutdown()` stops it."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import yaml


class FakeKubernetes(ThreadingHTTPServer):
    """The two kinds of object deleting a home touches, as the API serves them; every request recorded."""

    def __init__(self, claims: dict[str, str]) -> None:
        self.claims = dict(claims)  # "<namespace>/<claim>" -> the PersistentVolume it is bound to
        self.volumes = set(claims.values())
        self.requests: list[str] = []
        super().__init__(("127.0.0.1", 0), _FakeKubernetesHandler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def kubeconfig(self) -> str:
        server = f"http://127.0.0.1:{self.server_port}"
        return yaml.safe_dump({"apiVersion": "v1", "kind": "Config", "users": [{"name": "admin", "user": {}}],
                               "clusters": [{"name": "hub", "cluster": {"server": server}}]})


class _FakeKubernetesHandler(BaseHTTPRequestHandler):
    server: FakeKubernetes

    def _answer(self) -> None:
        self.server.requests.append(f"{self.command} {self.path}")
        parts = self.path.strip("/").split("/")
        is_claim = parts[2:3] == ["namespaces"]
        key = f"{parts[3]}/{parts[5]}" if is_claim else parts[3]
        if key not in (self.server.claims if is_claim else self.server.volumes):
            self.send_response(404)
            self.end_headers()
            return
        body = {"spec": {"volumeName": self.server.claims[key] if is_claim else key}}
        if self.command == "DELETE":
            if is_claim:
                del self.server.claims[key]
            else:
                self.server.volumes.discard(key)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps(body).encode())

    do_GET = do_DELETE = _answer

    def log_message(self, *_: Any) -> None:
        pass
