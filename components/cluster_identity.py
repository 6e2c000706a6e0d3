"""What makes the cluster this cluster (DESIGN.md, Data that must outlive the cluster): its join tokens, k3s's
certificate authorities and service-account key, and the Cinder volume that holds k3s's datastore; and what makes
the hub this hub to its database: the secrets the JupyterHub chart would otherwise generate in the cluster.

All of it is generated here, not by k3s on the control plane's root disk, and all of it is protected: a replaced
control plane, or a teardown of the servers, leaves it whole, and the next control plane resumes the same
cluster with the same CA, datastore, objects and bindings. Nothing here takes a value from the config that an
admin changes on a running hub, except the volume's name and size (both updated in place): a certificate's subject
that named the hub would make a rename replace the CA, which protection refuses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_openstack as openstack
import pulumi_random as random
import pulumi_tls as tls

from config.model import Cloud
from render import naming
from render.cloud_init import K3S_CERTIFICATE_AUTHORITIES, K3S_SERVICE_ACCOUNT_KEY
from render.jupyterhub import CHART_SECRETS

K3S_TOKEN_LENGTH = 48
# The chart generates 64 hex characters for each of its secrets; so does this.
HUB_SECRET_BYTES = 32
# k3s's own CAs are valid for ten years; so are these. Renewing one is `k3s certificate rotate-ca`, by hand.
CA_VALIDITY_HOURS = 10 * 365 * 24
# The datastore (kine on SQLite), the CA copies and k3s's bundled manifests: a few hundred MiB on a busy hub.
STATE_VOLUME_GB = 5


@dataclass(frozen=True)
class ClusterIdentityArgs:
    hub_name: str
    cloud: Cloud


class ClusterIdentity(pulumi.ComponentResource):
    # Secrets: the server token joins servers (and decrypts the datastore's bootstrap data); the agent token only
    # joins agents, and is all that workers hold.
    server_token: pulumi.Output[str]
    agent_token: pulumi.Output[str]
    # k3s's server/tls/ files, relative path -> PEM (secret: the CA keys are in it).
    certificate_authorities: pulumi.Output[dict[str, str]]
    # What clients check the API server against, and what signs their certificates (the key is a secret).
    server_ca_certificate: pulumi.Output[str]
    client_ca_certificate: pulumi.Output[str]
    client_ca_key: pulumi.Output[str]
    state_volume_id: pulumi.Output[str]
    # The JupyterHub chart's secrets (render/jupyterhub.CHART_SECRETS), 64 hex characters each. The chart would make them in the cluster's own Secret, so a rebuilt cluster would get new
    # ones: users' cookies and the hub database's encrypted auth state from before would be worthless.
    hub_secrets: pulumi.Output[dict[str, str]]

    def __init__(
        self, name: str, args: ClusterIdentityArgs, opts: Optional[pulumi.ResourceOptions] = None
    ) -> None:
        super().__init__("hubstack:openstack:ClusterIdentity", name, None, opts)
        # Children inherit protect: `pulumi destroy` keeps them unless told --exclude-protected, and a change that
        # would replace one is refused by the preview.
        child = pulumi.ResourceOptions(parent=self, protect=True)
        self.server_token = self._token(f"{name}-server-token", child)
        self.agent_token = self._token(f"{name}-agent-token", child)

        files: dict[str, pulumi.Output[str]] = {}
        certificates: dict[str, tuple[pulumi.Output[str], pulumi.Output[str]]] = {}
        for authority in K3S_CERTIFICATE_AUTHORITIES:
            key = tls.PrivateKey(f"{name}-{authority.role}-key", algorithm="ECDSA", ecdsa_curve="P256", opts=child)
            certificate = tls.SelfSignedCert(
                f"{name}-{authority.role}",
                private_key_pem=key.private_key_pem,
                subject=tls.SelfSignedCertSubjectArgs(common_name=f"hubstack-k3s-{authority.role}"),
                is_ca_certificate=True,
                set_subject_key_id=True,
                validity_period_hours=CA_VALIDITY_HOURS,
                allowed_uses=["cert_signing", "crl_signing", "digital_signature", "key_encipherment"],
                opts=child,
            )
            files[f"{authority.path}.crt"] = certificate.cert_pem
            files[f"{authority.path}.key"] = key.private_key_pem
            certificates[authority.role] = (certificate.cert_pem, key.private_key_pem)
        service_account_key = tls.PrivateKey(f"{name}-service-account-key", algorithm="RSA", rsa_bits=2048,
                                             opts=child)
        files[K3S_SERVICE_ACCOUNT_KEY] = service_account_key.private_key_pem
        self.certificate_authorities = pulumi.Output.secret(pulumi.Output.all(**files))
        self.server_ca_certificate = certificates["server-ca"][0]
        self.client_ca_certificate = certificates["client-ca"][0]
        self.client_ca_key = pulumi.Output.secret(certificates["client-ca"][1])

        state_volume = openstack.blockstorage.Volume(
            f"{name}-state-volume",
            name=naming.state_volume_name(args.hub_name),
            description=f"k3s datastore and certificates of the hub {args.hub_name}: the cluster itself, kept when "
                        "its servers are replaced or torn down",
            size=STATE_VOLUME_GB,
            availability_zone=args.cloud.volume_zone,
            # Kept in the cloud even when it leaves the stack (pulumi destroy --exclude-protected).
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(retain_on_delete=True)),
        )
        self.state_volume_id = state_volume.id
        self.hub_secrets = pulumi.Output.secret(pulumi.Output.all(**{
            secret: random.RandomBytes(f"{name}-{secret.replace('_', '-')}", length=HUB_SECRET_BYTES, opts=child).hex
            for secret in CHART_SECRETS
        }))
        self.register_outputs({"stateVolumeId": self.state_volume_id})

    @staticmethod
    def _token(name: str, opts: pulumi.ResourceOptions) -> pulumi.Output[str]:
        # Marked secret here, not only by the provider's schema: each holds the whole cluster or a place in it.
        return pulumi.Output.secret(random.RandomPassword(name, length=K3S_TOKEN_LENGTH, special=False,
                                                          opts=opts).result)
