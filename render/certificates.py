"""The hub's certificate: cert-manager with an ACME ClusterIssuer (Let's Encrypt or another CA), or a Secret with
the one you bring."""

from __future__ import annotations

from typing import Any

import yaml

from config.model import Acme, AcmeIssuer

from . import kubernetes, placement

CERT_MANAGER_REPOSITORY = "https://charts.jetstack.io"
CERT_MANAGER_RELEASE = "cert-manager"
# k3s ships traefik as its ingress controller; the hub's ingress and the HTTP-01 solver both use it.
INGRESS_CLASS = "traefik"
TLS_SECRET = "hub-tls"
# k3s installs its Traefik chart with its own values; a HelmChartConfig of the same name and namespace adds to them.
TRAEFIK_CHART = "traefik"
# Traefik's own entry-point redirect: the chart's values that render these arguments changed between majors (web's
# redirectTo until v33, its redirections since v34), the arguments did not. websecure listens on 443 outside the pod.
HTTPS_REDIRECT_ARGUMENTS = (
    "--entryPoints.web.http.redirections.entryPoint.to=:443",
    "--entryPoints.web.http.redirections.entryPoint.scheme=https",
    "--entryPoints.web.http.redirections.entryPoint.permanent=true",
)
# The HMAC key of an ACME external account, where cert-manager reads a ClusterIssuer's Secrets (its own namespace).
EAB_SECRET = "acme-external-account"
EAB_SECRET_KEY = "hmac-key"


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


def cluster_issuer(tls: AcmeIssuer) -> dict[str, Any]:
    acme: dict[str, Any] = {
        "email": tls.email,
        "server": tls.server_url,
        "privateKeySecretRef": {"name": f"{tls.issuer_name}-account-key"},
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
    if isinstance(tls, Acme) and tls.external_account_binding:
        acme["externalAccountBinding"] = {
            "keyID": tls.external_account_binding.key_id,
            "keySecretRef": {"name": EAB_SECRET, "key": EAB_SECRET_KEY},
        }
    return {
        "apiVersion": "cert-manager.io/v1",
        "kind": "ClusterIssuer",
        "metadata": kubernetes.metadata(tls.issuer_name),
        "spec": {"acme": acme},
    }


def https_redirect() -> dict[str, Any]:
    """Plain HTTP answered by a redirect to HTTPS, on every host and path. ACME's HTTP-01 challenges still pass: the
    CA (RFC 8555 8.3; Let's Encrypt) and cert-manager's self-check follow a redirect to HTTPS without checking its
    certificate, and Traefik serves the solver's ingress on 443 as on 80."""
    return {
        "apiVersion": "helm.cattle.io/v1",
        "kind": "HelmChartConfig",
        "metadata": kubernetes.metadata(TRAEFIK_CHART, kubernetes.SYSTEM_NAMESPACE),
        "spec": {"valuesContent": yaml.safe_dump({"additionalArguments": list(HTTPS_REDIRECT_ARGUMENTS)})},
    }


def external_account_secret(hmac_key: Any) -> dict[str, Any]:
    return kubernetes.secret(EAB_SECRET, kubernetes.CERT_MANAGER_NAMESPACE, {EAB_SECRET_KEY: hmac_key})


def tls_secret(namespace: Any, certificate: str, key: Any) -> dict[str, Any]:
    """The certificate you bring, as the ingress's TLS Secret (the chain: server certificate, then intermediates)."""
    chain = certificate if certificate.endswith("\n") else f"{certificate}\n"
    return kubernetes.secret(TLS_SECRET, namespace, {"tls.crt": chain, "tls.key": key}, "kubernetes.io/tls")
