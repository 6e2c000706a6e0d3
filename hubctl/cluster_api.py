"""The few calls hubctl makes to the hub's Kubernetes API, with the stack's own admin kubeconfig (a secret output).

Only what deleting a user's home needs: a claim and its PersistentVolume, each deleted and waited for. The
kubeconfig's certificates are written to a private temporary folder for the HTTP client and removed after.
"""

from __future__ import annotations

import base64
import tempfile
import time
from pathlib import Path
from typing import Any, Optional

import yaml

WAIT_SECONDS = 120


class ClusterError(Exception):
    """The cluster could not be reached or refused: one line that says what to do."""


class Cluster:
    def __init__(self, kubeconfig: str) -> None:
        document = yaml.safe_load(kubeconfig)
        (cluster,) = document["clusters"]
        (user,) = document["users"]
        self.server = cluster["cluster"]["server"].rstrip("/")
        self._files = tempfile.TemporaryDirectory(prefix="hubctl-kube-")
        folder = Path(self._files.name)
        self._verify: Any = True
        self._cert: Optional[tuple[str, str]] = None
        if "certificate-authority-data" in cluster["cluster"]:
            self._verify = self._write(folder / "ca.crt", cluster["cluster"]["certificate-authority-data"])
        if "client-certificate-data" in user.get("user", {}):
            self._cert = (self._write(folder / "client.crt", user["user"]["client-certificate-data"]),
                          self._write(folder / "client.key", user["user"]["client-key-data"]))

    @staticmethod
    def _write(path: Path, data: str) -> str:
        path.touch(mode=0o600)
        path.write_bytes(base64.b64decode(data))
        return str(path)

    def close(self) -> None:
        self._files.cleanup()

    def __enter__(self) -> "Cluster":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _request(self, method: str, path: str) -> Any:
        import requests

        try:
            response = requests.request(method, self.server + path, verify=self._verify, cert=self._cert,
                                        timeout=10)
        except requests.RequestException as error:
            raise ClusterError(f"cannot reach the cluster's API at {self.server} ({type(error).__name__}): is the "
                               "cluster running? (after `hubctl teardown`, `pulumi up` first)") from None
        if response.status_code == 404:
            return None
        if response.status_code >= 300:
            raise ClusterError(f"{method} {path}: the API answered {response.status_code} "
                               f"{response.text.strip()[:200]}")
        return response.json()

    def _delete_and_wait(self, path: str) -> None:
        if self._request("DELETE", path) is None:
            return
        deadline = time.monotonic() + WAIT_SECONDS
        while self._request("GET", path) is not None:
            if time.monotonic() > deadline:
                raise ClusterError(f"{path} still there after {WAIT_SECONDS} s (a pod still uses it?)")
            time.sleep(1)

    def claim_volume(self, namespace: str, claim: str) -> Optional[str]:
        """The PersistentVolume a claim is bound to; None when the claim does not exist."""
        found = self._request("GET", f"/api/v1/namespaces/{namespace}/persistentvolumeclaims/{claim}")
        return None if found is None else (found.get("spec") or {}).get("volumeName") or ""

    def delete_claim(self, namespace: str, claim: str) -> None:
        self._delete_and_wait(f"/api/v1/namespaces/{namespace}/persistentvolumeclaims/{claim}")

    def delete_volume(self, name: str) -> None:
        self._delete_and_wait(f"/api/v1/persistentvolumes/{name}")
