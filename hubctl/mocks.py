"""Pulumi mocks shared by the offline plan and the tests: deterministic, and no real secret can ever appear.

Values a provider computes and marks secret (generated keys, tokens, the kubeconfig) come back as fakes named
`[offline-...]`. They are not the redaction placeholder `[secret]` on purpose: plan.json shows `[secret]` only where
the program marked the value secret, so a fake that shows up in plan.json is a secret that was not marked.
"""

from __future__ import annotations

import uuid
import zlib
from typing import Any, Optional

import pulumi

from config import SECRET_PLACEHOLDER

FAKE_CERTIFICATE = "-----BEGIN CERTIFICATE-----\noffline-plan\n-----END CERTIFICATE-----\n"

# Outputs a real provider computes, with stable fake values; keys absent from the inputs only.
_COMPUTED: dict[str, dict[str, Any]] = {
    "openstack:networking/floatingIp:FloatingIp": {"address": "203.0.113.10"},
    "openstack:blockstorage/volume:Volume": {"attachments": []},
    "openstack:identity/applicationCredential:ApplicationCredential": {"secret": SECRET_PLACEHOLDER},
    "random:index/randomPassword:RandomPassword": {"result": "[offline-random-password]"},
    "random:index/randomBytes:RandomBytes": {"hex": "[offline-random-bytes]", "base64": "[offline-random-bytes]"},
    "tls:index/privateKey:PrivateKey": {
        "privateKeyPem": "[offline-private-key]",
        "privateKeyOpenssh": "[offline-private-key]",
        "publicKeyOpenssh": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOfflinePlanPlaceholderKey0000000000000000 hubstack",
        "publicKeyPem": "-----BEGIN PUBLIC KEY-----\noffline-plan\n-----END PUBLIC KEY-----\n",
    },
    "tls:index/selfSignedCert:SelfSignedCert": {"certPem": FAKE_CERTIFICATE},
    "tls:index/locallySignedCert:LocallySignedCert": {"certPem": FAKE_CERTIFICATE},
    "tls:index/certRequest:CertRequest": {"certRequestPem": "-----BEGIN CERTIFICATE REQUEST-----\noffline-plan\n"
                                                            "-----END CERTIFICATE REQUEST-----\n"},
    "command:remote:Command": {"stdout": "", "stderr": ""},
}


STACK_REFERENCE = "pulumi:pulumi:StackReference"

# Resources whose ID the program reads for its shape: a Cinder volume ID names the device on the server, an
# application credential's (a UUID's hex digits in Keystone) the Secret that holds it.
_UUID_IDS = {"openstack:blockstorage/volume:Volume"}
_HEX_IDS = {"openstack:identity/applicationCredential:ApplicationCredential"}


def resource_id(type_: str, name: str) -> str:
    """The ID the mocks give a resource: `<name>-id`, or a stable UUID where the real ID is one that is parsed."""
    if type_ in _UUID_IDS | _HEX_IDS:
        offline = uuid.uuid5(uuid.NAMESPACE_URL, f"hubstack-offline-plan:{name}")
        return offline.hex if type_ in _HEX_IDS else str(offline)
    return f"{name}-id"


def computed_outputs(type_: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """The outputs a provider would compute for a new resource, absent from its inputs: stable fakes."""
    computed = {key: value for key, value in _COMPUTED.get(type_, {}).items() if key not in inputs}
    if type_ == "random:index/randomId:RandomId":
        # A random name's stable stand-in: its prefix, then 4 bytes in hex.
        computed["hex"] = f"{inputs.get('prefix', '')}{zlib.crc32(name.encode()):08x}"
    if type_ == "openstack:networking/port:Port":
        # A fixed address is the port's; Neutron's DHCP picks the others when the port is created: here an address
        # of the documentation range (RFC 5737) that stands for the port, which the user data can hold.
        fixed = [entry.get("ipAddress") for entry in inputs.get("fixedIps") or [{}]]
        computed["allFixedIps"] = [address or _documentation_address(name) for address in fixed]
    return computed


def _documentation_address(name: str) -> str:
    return f"198.51.100.{zlib.crc32(name.encode()) % 250 + 2}"


class HubMocks(pulumi.runtime.Mocks):
    """Echo the inputs, add the computed outputs above, and give every resource the ID `resource_id` says. The
    stack's own outputs, read back by the program, are `previous_outputs` (none: a new stack)."""

    def __init__(self, previous_outputs: Optional[dict[str, Any]] = None) -> None:
        self.previous_outputs = previous_outputs or {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        if args.typ == STACK_REFERENCE:
            return args.inputs["name"], {**args.inputs, "outputs": self.previous_outputs, "secretOutputNames": []}
        computed = computed_outputs(args.typ, args.name, args.inputs)
        return resource_id(args.typ, args.name), {**args.inputs, **computed}

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        # The program makes no data-source calls: lookups are config-driven so preview needs no cloud.
        raise NotImplementedError(f"unexpected invoke {args.token}: the program must not look up the cloud")
