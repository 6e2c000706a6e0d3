"""The admin kubeconfig, composed from values the program knows (DESIGN.md, The cluster): the API server's
address, the cluster's server CA and a client certificate signed by its client CA. Nothing is read back from a
server, so a replaced control plane changes nothing here."""

from __future__ import annotations

import base64

import yaml

from .cloud_init import K3S_API_PORT

CONTEXT = "hubstack"


def admin_kubeconfig(*, address: str, ca_certificate: str, client_certificate: str, client_key: str) -> str:
    for name, pem in (("ca_certificate", ca_certificate), ("client_certificate", client_certificate),
                      ("client_key", client_key)):
        if not pem.strip():
            raise ValueError(f"admin_kubeconfig: {name} is empty")

    def data(pem: str) -> str:
        return base64.b64encode(pem.encode()).decode()

    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": CONTEXT, "cluster": {
            "server": f"https://{address}:{K3S_API_PORT}",
            "certificate-authority-data": data(ca_certificate),
        }}],
        "users": [{"name": CONTEXT, "user": {
            "client-certificate-data": data(client_certificate),
            "client-key-data": data(client_key),
        }}],
        "contexts": [{"name": CONTEXT, "context": {"cluster": CONTEXT, "user": CONTEXT}}],
        "current-context": CONTEXT,
    }
    return yaml.safe_dump(document, sort_keys=False)
