"""The hub's certificate: cert-manager and an ACME ClusterIssuer, or the certificate you bring; with either, plain
HTTP redirected to HTTPS by k3s's Traefik."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_kubernetes as kubernetes

from config import HubConfig
from config.model import CERT_MANAGER_CHART, Acme, AcmeIssuer, ManualTls, NoTls
from render import certificates
from render import kubernetes as manifests

from . import helm
from .kubernetes_objects import apply_object, on_cluster


@dataclass(frozen=True)
class TlsArgs:
    config: HubConfig
    kubernetes_provider: kubernetes.Provider
    hub_namespace: pulumi.Input[str]


class Tls(pulumi.ComponentResource):
    # The Secret the hub's ingress serves (cert-manager fills it from an ACME CA); None without TLS.
    secret_name: Optional[str]
    cluster_issuer: Optional[str]
    # cert-manager's Helm release, with an ACME CA only.
    cert_manager_release_name: Optional[pulumi.Output[str]]
    cert_manager_namespace: Optional[pulumi.Output[str]]

    def __init__(self, name: str, args: TlsArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("hubstack:kubernetes:Tls", name, None, opts)
        tls = args.config.tls
        in_cluster = on_cluster(self, args.kubernetes_provider)
        self.secret_name = self.cluster_issuer = None
        self.cert_manager_release_name = self.cert_manager_namespace = None
        if isinstance(tls, AcmeIssuer):
            self.secret_name = certificates.TLS_SECRET
            self.cluster_issuer = tls.issuer_name
            self._cert_manager(name, args, tls, in_cluster)
        elif isinstance(tls, ManualTls):
            assert tls.key is not None  # the model requires the key
            self.secret_name = certificates.TLS_SECRET
            key = pulumi.Output.secret(tls.key.get_secret_value())
            secret = certificates.tls_secret(args.hub_namespace, tls.certificate, key)
            apply_object(f"{name}-secret", secret, in_cluster)
        if not isinstance(tls, NoTls):
            apply_object(f"{name}-https-redirect", certificates.https_redirect(), in_cluster)
        self.register_outputs({
            "secretName": self.secret_name,
            "clusterIssuer": self.cluster_issuer,
            "certManagerReleaseName": self.cert_manager_release_name,
            "certManagerNamespace": self.cert_manager_namespace,
        })

    def _cert_manager(self, name: str, args: TlsArgs, tls: AcmeIssuer, in_cluster: pulumi.ResourceOptions) -> None:
        namespace = apply_object(
            f"{name}-cert-manager-namespace", manifests.namespace(manifests.CERT_MANAGER_NAMESPACE), in_cluster
        )
        release = helm.release(
            f"{name}-cert-manager", args.config, CERT_MANAGER_CHART, certificates.CERT_MANAGER_REPOSITORY,
            name=certificates.CERT_MANAGER_RELEASE,
            namespace=namespace.metadata.apply(lambda metadata: metadata["name"]),
            values=certificates.cert_manager_values(),
            opts=in_cluster,
        )
        issuer_needs: list[pulumi.Resource] = [release]
        if isinstance(tls, Acme) and tls.external_account_binding:
            binding = tls.external_account_binding
            assert binding.hmac_key is not None  # the model requires it
            issuer_needs.append(apply_object(
                f"{name}-external-account",
                certificates.external_account_secret(pulumi.Output.secret(binding.hmac_key.get_secret_value())),
                pulumi.ResourceOptions.merge(in_cluster, pulumi.ResourceOptions(depends_on=[namespace])),
            ))
        # The ClusterIssuer is a cert-manager CRD: it can only be created once the release installed the CRDs.
        apply_object(
            f"{name}-cluster-issuer",
            certificates.cluster_issuer(tls),
            pulumi.ResourceOptions.merge(in_cluster, pulumi.ResourceOptions(depends_on=issuer_needs)),
        )
        self.cert_manager_release_name = release.name
        self.cert_manager_namespace = release.namespace
