"""Pulumi mocks shared by the offline plan and the tests: deterministic, and no real secret can ever appear.

Every value that a provider would mark secret (generated keys, tokens, the kubeconfig) comes back as the
placeholder `[secret]`, and secrets from config are placeholders offline too, so a plan file that shows a
secret's place shows only the placeholder.
"""

from __future__ import annotations

from typing import Any

import pulumi

from config import SECRET_PLACEHOLDER

# Outputs a real provider computes, with stable fake values; keys absent from the inputs only.
_COMPUTED: dict[str, dict[str, Any]] = {
    "openstack:networking/floatingIp:FloatingIp": {"address": "203.0.113.10"},
    "openstack:networking/port:Port": {"allFixedIps": ["10.42.255.10"]},
    "openstack:compute/instance:Instance": {"accessIpV4": "10.42.255.20"},
    "openstack:blockstorage/volume:Volume": {"attachments": []},
    "openstack:identity/applicationCredential:ApplicationCredential": {"secret": SECRET_PLACEHOLDER},
    "random:index/randomPassword:RandomPassword": {"result": SECRET_PLACEHOLDER},
    "tls:index/privateKey:PrivateKey": {
        "privateKeyPem": SECRET_PLACEHOLDER,
        "privateKeyOpenssh": SECRET_PLACEHOLDER,
        "publicKeyOpenssh": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOfflinePlanPlaceholderKey0000000000000000 hubstack",
        "publicKeyPem": "-----BEGIN PUBLIC KEY-----\noffline-plan\n-----END PUBLIC KEY-----\n",
    },
    "command:remote:Command": {"stdout": SECRET_PLACEHOLDER, "stderr": ""},
}


class HubMocks(pulumi.runtime.Mocks):
    """Echo the inputs, add the computed outputs above, and give every resource the ID `<name>-id`."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        computed = {key: value for key, value in _COMPUTED.get(args.typ, {}).items() if key not in args.inputs}
        return f"{args.name}-id", {**args.inputs, **computed}

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        # The program makes no data-source calls: lookups are config-driven so preview needs no cloud.
        raise NotImplementedError(f"unexpected invoke {args.token}: the program must not look up the cloud")
