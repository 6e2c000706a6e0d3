"""The hub's certificate: cert-manager with a Let's Encrypt ClusterIssuer, or a Secret with the one you bring."""

from __future__ import annotations

from typing import Any

from config.model import LetsEncrypt

from . import kubernetes, placement

CERT_MANAGER_REPOSITORY = "https://charts.jetstack.io"
CERT_MANAGER_RELEASE = "cert-manager"
# k3s ships traefik as its ingress controller; the hub's ingress and the HTTP-01 solver both use it.
INGRESS_CLASS = "traefik"
TLS_SECRET = "hub-tls"

ACME_SERVERS = {
    "production": "https://acme-v02.api.letsencrypt.org/directory",
    "staging": "https://acme-staging-v02.api.letsencrypt.org/directory",
}


def cert_manager_values() -> dict[str, Any]:
    # Every component on the control plane: on Jetstream2 only that node reaches its own floating IP, which
    # the HTTP-01 self-check needs. The controller's settings sit at the top level of the chart's values.
    return {
        "crds": {"enabled": True},
        **placement.on_control_plane(),
        "webhook": placement.on_control_plane(),
        "cainjector": placement.on_control_plane(),
        "startupapicheck": placement.on_control_plane(),
    }


def issuer_name(letsencrypt: LetsEncrypt) -> str:
    return f"letsencrypt-{letsencrypt.environment}"


def cluster_issuer(letsencrypt: LetsEncrypt) -> dict[str, Any]:
    name = issuer_name(letsencrypt)
    return {
        "apiVersion": "cert-manager.io/v1",
        "kind": "ClusterIssuer",
        "metadata": kubernetes.metadata(name),
        "spec": {
            "acme": {
                "email": letsencrypt.email,
                "server": ACME_SERVERS[letsencrypt.environment],
                "privateKeySecretRef": {"name": f"{name}-account-key"},
                "solvers": [
                    {
                        "http01": {
                            "ingress": {
                                "ingressClassName": INGRESS_CLASS,
                                # The solver answers on the control plane, beside the controller's self-check.
                                "podTemplate": {"spec": placement.on_control_plane()},
                            }
                        }
                    }
                ],
            }
        },
    }


def tls_secret(namespace: Any, certificate: str, key: Any) -> dict[str, Any]:
    """The certificate you bring, as the ingress's TLS Secret (the chain: server certificate, then intermediates)."""
    chain = certificate if certificate.endswith("\n") else f"{certificate}\n"
    return kubernetes.secret(TLS_SECRET, namespace, {"tls.crt": chain, "tls.key": key}, "kubernetes.io/tls")
