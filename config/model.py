"""Everything a hub admin decides, as one validated, frozen model (`HubConfig`).

The stack config holds it under the single key `hubstack:hub`, so every error path (`hub.profiles[1].memory.limit`)
is also the path for `pulumi config set --path`. Keys are camelCase like the rest of Pulumi and z2jh config.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Any, Literal, Optional, Union, get_args

from pydantic import (
    AfterValidator,
    BeforeValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from .errors import UNSET_SECRET, RuleViolation, rule
from .stack_yaml import is_encrypted
from .clouds import CLOUD_PRESETS, PRESET_FLAVORS
from .quantities import MEMORY_HINT, format_bytes, memory_bytes, normalize_memory

SECRET_PLACEHOLDER = "[secret]"
DEFAULT_K3S_VERSION = "v1.33.5+k3s1"
DEFAULT_ROOT_DISK_GB = 60
# Where Pulumi.yaml is: relative paths in the config are from here, as Pulumi runs the program here.
PROJECT_DIR = Path(__file__).resolve().parent.parent
# Chart versions the renderers were validated against (schemas in ../shared/upstream/).
# Each chart's name in its repository, which is also how its archive is named.
JUPYTERHUB_CHART = "jupyterhub"
CERT_MANAGER_CHART = "cert-manager"
CINDER_CSI_CHART = "openstack-cinder-csi"
DEFAULT_JUPYTERHUB_CHART = "4.4.0"
DEFAULT_CERT_MANAGER_CHART = "v1.21.1"
# cloud-provider-openstack's chart for Kubernetes 1.33 (chart 2.N serves Kubernetes 1.N). It ships no values
# schema (none in ../shared/upstream/): tests/test_render.py checks its values field by field.
DEFAULT_CINDER_CSI_CHART = "2.33.0"
UUID_PATTERN = rule(
    r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
    "an ID: a UUID in lowercase, such as 3fe22c05-6206-4db2-9a13-44f04b6796e6",
)
# k3s's default cluster (pod) and service CIDRs: the hub's subnet must not overlap them.
K3S_NETWORKS = {"pod": "10.42.0.0/16", "service": "10.43.0.0/16"}
# Host offsets in the subnet of the servers with fixed addresses (.1 is the router).
FIXED_ADDRESS_OFFSETS = {"control-plane": 10, "nfs": 11}
DEFAULT_NETWORK_CIDR = "10.0.42.0/24"
# Where z2jh mounts each user's home (singleuser.storage.homeMountPath, which the program leaves at its default).
HOME_MOUNT_PATH = "/home/jovyan"
# z2jh's single-user defaults (singleuser.uid, singleuser.fsGid), the Jupyter images' jovyan and users: who owns the
# directories on NFS, and whom the NFS export maps every client to.
USER_UID = 1000
USER_GID = 100
# The image's own folders: a share mounted on (or in) one of them hides what the server needs to start.
SYSTEM_PATHS = ("/bin", "/dev", "/etc", "/lib", "/lib64", "/opt/conda", "/proc", "/sbin", "/sys", "/usr")
SYSTEM_PARENTS = ("/opt", "/tmp", "/var")
# Let's Encrypt refuses a common name of 64 characters or more.
MAX_HOSTNAME_LENGTH = 63


class Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=to_camel,
        populate_by_name=False,
        use_attribute_docstrings=False,
    )

    @model_validator(mode="before")
    @classmethod
    def _no_booleans_for_numbers(cls, data: Any) -> Any:
        # pydantic would read `workerCount: true` as 1.
        if isinstance(data, dict):
            for name, field in cls.model_fields.items():
                value = data.get(field.alias or name)
                if isinstance(value, bool) and {int, float} & set(get_args(field.annotation) or [field.annotation]):
                    raise RuleViolation(field.alias or name, f"must be a number, not {str(value).lower()}")
        return data


# ----------------------------------------------------------------------------------------------- field types


def _secret(value: Any, info: ValidationInfo, required: bool) -> Any:
    context = info.context or {}
    if is_encrypted(value):
        # Encrypted in the stack file: offline there is no key to decrypt it with, and `pulumi up` decrypts.
        return SecretStr(SECRET_PLACEHOLDER)
    text = value.get_secret_value() if isinstance(value, SecretStr) else value
    if text is None or text == "":
        if not required:
            return None
        # The offline plan runs without the stack's secrets: a placeholder stands in, never a real value.
        if context.get("offline") and not context.get("secrets_required"):
            return SecretStr(SECRET_PLACEHOLDER)
        raise RuleViolation("", f"{UNSET_SECRET}: run `pulumi config set --secret --path '{{path}}' <value>`")
    if not isinstance(text, str):
        raise RuleViolation("", "must be text, set with `pulumi config set --secret --path '{path}' <value>`")
    if context.get("plaintext_secrets") and not isinstance(value, SecretStr):
        raise RuleViolation(
            "",
            "is a secret but stands in plain text in the stack file: remove it and run "
            "`pulumi config set --secret --path '{path}' <value>`",
        )
    return SecretStr(text)


_SECRET_HELP = "A secret: set it with `pulumi config set --secret --path <key> <value>`."
Secret = Annotated[
    Optional[SecretStr],
    BeforeValidator(lambda value, info: _secret(value, info, required=True)),
    Field(validate_default=True, description=_SECRET_HELP),
]
# A secret that may be left unset (the dummy authenticator's shared password: none means any password).
OptionalSecret = Annotated[
    Optional[SecretStr],
    BeforeValidator(lambda value, info: _secret(value, info, required=False)),
    Field(description=_SECRET_HELP),
]

_DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


def _dns_name(value: str) -> str:
    value = value.rstrip(".").lower()
    bad = [label for label in value.split(".") if not _DNS_LABEL.match(label)]
    if bad:
        raise ValueError(
            f"{value!r} is not a DNS name: label {bad[0]!r} must be 1-63 characters of a-z, 0-9 and '-', "
            "not starting or ending with '-'"
        )
    return value


DnsName = Annotated[str, AfterValidator(_dns_name)]
HubName = Annotated[
    str,
    Field(
        pattern=rule(r"^[a-z][a-z0-9-]{0,38}[a-z0-9]$",
            "2-40 lowercase letters, digits and '-', starting with a letter, such as atmos-course"),
        description="Lowercase letters, digits and '-', 2-40 characters, starting with a letter.",
    ),
]
def _number_as_text(value: Any) -> Any:
    # A bare number reaches normalize_memory, which says it lacks a unit.
    return str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


MemorySize = Annotated[
    str,
    BeforeValidator(_number_as_text),
    AfterValidator(normalize_memory),
    Field(description=MEMORY_HINT),
]
KubeQuantity = Annotated[
    str,
    Field(
        pattern=rule(r"^[1-9]\d*(Ki|Mi|Gi|Ti)$", "a whole size in Ki, Mi, Gi or Ti, such as 10Gi"),
        description="A Kubernetes storage size such as 10Gi.",
    ),
]


def _cpu_number(value: Any) -> Any:
    if isinstance(value, str) and re.fullmatch(r"\d+m", value):
        raise ValueError(f"{value!r}: write CPUs as a number, {int(value[:-1]) / 1000:g} for {value}")
    return value


Cpu = Annotated[
    float,
    BeforeValidator(_cpu_number),
    Field(gt=0, le=512, description="CPU cores, a number such as 0.5 or 2 (not '500m')."),
]


def _cidr(value: str) -> str:
    try:
        return str(ipaddress.ip_network(value, strict=True))
    except ValueError as error:
        if "host bits set" in str(error):
            suggestion = ipaddress.ip_network(value, strict=False)
            raise ValueError(f"{value!r} has host bits set: did you mean {suggestion}?") from None
        raise ValueError(f"{value!r} is not a CIDR such as 192.0.2.0/24 or 2001:db8::/32") from None


Cidr = Annotated[str, AfterValidator(_cidr)]


def _ipv4(value: str) -> str:
    try:
        return str(ipaddress.IPv4Address(value))
    except ValueError:
        raise ValueError(f"{value!r} is not an IPv4 address such as 149.165.150.10") from None


IPv4 = Annotated[str, AfterValidator(_ipv4)]


def _absolute_path(value: str) -> str:
    if not value.startswith("/") or "//" in value or value.rstrip("/") != value or "/../" in f"{value}/":
        raise ValueError(f"{value!r} must be an absolute path such as /share/data (no trailing '/', no '..')")
    return value


AbsolutePath = Annotated[str, AfterValidator(_absolute_path)]
HttpsUrl = Annotated[str, Field(
    pattern=rule(r"^https://[^\s/]+(/\S*)?$",
                 "an https:// URL without spaces, such as https://keystone.example.org:5000/v3"),
    description="An https:// URL.",
)]


# ----------------------------------------------------------------------------------------------------- cloud


def _field_name(model: type[BaseModel], key: str) -> str:
    """The model's field of a key as written in the stack file (camelCase)."""
    return next(name for name, field in model.model_fields.items() if field.alias == key)


def _description(model: type[BaseModel], key: str) -> str:
    return model.model_fields[_field_name(model, key)].description or ""


class Flavor(Model):
    vcpus: int = Field(ge=1, description="Virtual CPUs of the flavor.")
    ram_gb: float = Field(gt=0, description="RAM in GiB (OpenStack's flavor RAM in MiB / 1024).")
    disk_gb: int = Field(ge=0, description="Local root disk in GB (0 for volume-only flavors).")
    gpus: int = Field(0, ge=0, description="GPUs (or GPU slices) of the flavor.")


class Cloud(Model):
    preset: Literal["jetstream2", "nectar", "custom"] = Field(
        "jetstream2",
        description="The cloud: its Keystone URL, region, external network, availability zone, login user and flavor "
        "catalog come from here unless set below (config/clouds.py says where each comes from). `custom`: give them.",
    )
    external_network: Optional[str] = Field(
        None, min_length=1,
        description="The external network: the router's gateway and the floating IP pool (Jetstream2: public; NeCTAR: "
        "your availability zone's, such as melbourne).",
    )
    external_network_id: Optional[str] = Field(
        None, pattern=UUID_PATTERN,
        description="ID of the external network, for the router the program makes (`openstack network show public "
        "-f value -c id`); not used with networkId.",
    )
    image_id: str = Field(
        pattern=UUID_PATTERN,
        description="Glance image ID of every server (`openstack image show Featured-Ubuntu24 -f value -c id`). "
        "An ID, not a name: a name moves to each new build, which would rebuild every server.",
    )
    image_user: Optional[str] = Field(
        None, pattern=rule(r"^[a-z_][a-z0-9_-]{0,31}$", "a Linux user name, such as ubuntu or rocky"),
        description="The image's default login user (a sudoer); every preset's is ubuntu.",
    )
    image_min_disk_gb: int = Field(20, ge=1, description="The image's minimum disk (Glance min_disk), in GB.")
    availability_zone: Optional[str] = Field(
        None, min_length=1, description="Availability zone of servers and volumes (Jetstream2: nova; NeCTAR: your "
        "node's, such as melbourne-qh2)."
    )
    volume_availability_zone: Optional[str] = Field(
        None, min_length=1, description="Availability zone of the Cinder volumes (the state and shared data volumes, "
        "users' homes) where the cloud names it apart from the servers' (NeCTAR's volume_availability_zone); "
        "default: availabilityZone. Servers' boot volumes are made by Nova, in Cinder's default zone. On a running hub "
        "a change would replace the k3s state and shared data volumes, which are protected: `pulumi up` refuses it "
        "(docs/changes.md)."
    )
    auth_url: Optional[HttpsUrl] = Field(
        None, description="Keystone URL (OS_AUTH_URL), for the Cinder CSI driver (Jetstream2: "
        "https://js2.jetstream-cloud.org:5000/v3/; NeCTAR: https://identity.rc.nectar.org.au/v3/)."
    )
    region: Optional[str] = Field(
        None, min_length=1, description="Region (OS_REGION_NAME), for the Cinder CSI driver (Jetstream2: IU; "
        "NeCTAR: Melbourne)."
    )
    dns_zone_id: Optional[str] = Field(
        None,
        min_length=1,
        description="Designate zone ID: when set, an A record of the hostname points at the floating IP (without "
        "one, at the control plane's own address). On "
        "Jetstream2, your allocation's zone (`openstack zone list`: <allocation>.projects.jetstream-cloud.org.): "
        "its automatic names cover only networks made with a DNS domain (its FAQ), which the hub's own is not.",
    )
    network_cidr: Optional[Cidr] = Field(
        None,
        description=f"CIDR of the private subnet the program makes, IPv4, /28 or larger, outside k3s's pod and "
        f"service networks (10.42.0.0/16, 10.43.0.0/16); default {DEFAULT_NETWORK_CIDR}; not used with networkId.",
    )
    network_id: Optional[str] = Field(
        None, pattern=UUID_PATTERN,
        description="Put the servers on this existing network (its ID) instead of the network, subnet and router the "
        "program makes, such as a project's own network or a provider network (NeCTAR's Classic Provider: "
        "00000000-0000-0000-0000-000000000000). Neutron gives the servers their addresses; NFS is exported to the "
        "hub's servers alone, node-to-node traffic is allowed within the hub's security group alone, and the pod "
        "network is encrypted (WireGuard), since other projects may share the network. Changing it on a running hub "
        "replaces every server and port.",
    )
    subnet_id: Optional[str] = Field(
        None, pattern=UUID_PATTERN,
        description="With networkId: the subnet the servers take their addresses from (default: Neutron picks one of "
        "the network's).",
    )
    admin_cidrs: list[Cidr] = Field(
        min_length=1, description="Who may reach SSH (22) and the Kubernetes API (6443), as CIDRs."
    )
    allow_admin_from_anywhere: bool = Field(
        False, description="Opt-in that allows 0.0.0.0/0 or ::/0 in adminCidrs (SSH and API open to the world)."
    )
    flavors: dict[str, Flavor] = Field(
        default_factory=dict,
        description="Flavors by name, beside (or replacing) the preset's; `hubctl flavors` writes the cloud's own.",
    )

    @model_validator(mode="before")
    @classmethod
    def _preset_defaults(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("preset", "jetstream2") in CLOUD_PRESETS:
            return {**CLOUD_PRESETS[data.get("preset", "jetstream2")], **data}
        return data

    @model_validator(mode="after")
    def _preset_leaves_nothing_out(self) -> "Cloud":
        for key, value in (("availabilityZone", self.availability_zone), ("authUrl", self.auth_url),
                           ("region", self.region)):
            if value is None:
                raise RuleViolation(key, f"is required: the preset {self.preset} has none to give "
                                         f"({_description(Cloud, key)})")
        return self

    @model_validator(mode="after")
    def _network_made_or_given(self) -> "Cloud":
        if self.network_id is None:
            if self.subnet_id is not None:
                raise RuleViolation("subnetId", "applies to an existing network only: set networkId too, or remove "
                                                "subnetId (the program makes its own subnet)")
            if self.external_network_id is None:
                raise RuleViolation("externalNetworkId", "is required: the program makes the hub's network and a "
                                    f"router to the external network ({_description(Cloud, 'externalNetworkId')})")
        else:
            for key in ("networkCidr", "externalNetworkId"):
                if getattr(self, _field_name(Cloud, key)) is not None:
                    raise RuleViolation(key, "applies to the network the program makes, and networkId puts the hub "
                                             f"on an existing one: remove {key}")
        return self

    @property
    def makes_network(self) -> bool:
        """The program makes the hub's network, subnet and router (fixed addresses below the DHCP pool), rather
        than putting the servers on an existing network (Neutron-assigned addresses, other projects around)."""
        return self.network_id is None

    @model_validator(mode="after")
    def _world_needs_opt_in(self) -> "Cloud":
        for index, cidr in enumerate(self.admin_cidrs):
            if ipaddress.ip_network(cidr).prefixlen == 0 and not self.allow_admin_from_anywhere:
                raise RuleViolation(
                    f"adminCidrs.{index}",
                    f"{cidr} opens SSH and the Kubernetes API to the whole internet; give your own network's "
                    "CIDR, or set hub.cloud.allowAdminFromAnywhere: true to accept that",
                )
        subnet = ipaddress.ip_network(self.subnet_cidr)
        if subnet.version != 4 or subnet.prefixlen > 28:
            raise RuleViolation("networkCidr", "must be an IPv4 CIDR of /28 or larger, such as 10.0.42.0/24")
        for role, taken in K3S_NETWORKS.items():
            if subnet.overlaps(ipaddress.ip_network(taken)):
                raise RuleViolation(
                    "networkCidr", f"{subnet} overlaps k3s's {role} network {taken}; use e.g. 10.0.42.0/24"
                )
        return self

    @property
    def subnet_cidr(self) -> str:
        """The CIDR of the subnet the program makes (makes_network)."""
        return self.network_cidr or DEFAULT_NETWORK_CIDR

    @property
    def volume_zone(self) -> str:
        return self.volume_availability_zone or self.availability_zone  # type: ignore[return-value]

    @property
    def zones_differ(self) -> bool:
        return self.volume_zone != self.availability_zone

    # Fixed addresses below the DHCP pool, so no worker's port can take them first.
    @property
    def control_plane_address(self) -> str:
        return self._host(FIXED_ADDRESS_OFFSETS["control-plane"])

    @property
    def nfs_server_address(self) -> str:
        return self._host(FIXED_ADDRESS_OFFSETS["nfs"])

    @property
    def dhcp_pool(self) -> tuple[str, str]:
        return self._host(max(FIXED_ADDRESS_OFFSETS.values()) + 1), self._host(-2)

    def _host(self, offset: int) -> str:
        return str(ipaddress.ip_network(self.subnet_cidr)[offset])

    @property
    def flavor_catalog(self) -> dict[str, Flavor]:
        builtin = {name: Flavor.model_validate(spec) for name, spec in PRESET_FLAVORS[self.preset].items()}
        return {**builtin, **self.flavors}


# --------------------------------------------------------------------------------------------------- cluster

_SSH_KEY = re.compile(r"^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com) [A-Za-z0-9+/=]+( .*)?$")


def _ssh_public_key(value: str) -> str:
    value = value.strip()
    if not _SSH_KEY.match(value):
        raise ValueError("is not an OpenSSH public key line such as 'ssh-ed25519 AAAA... you@example.org'")
    return value


# The admins' keys reach servers in Nova metadata (render/cloud_init.py): at most 100 values of 255 characters.
SSH_KEYS_MAX_CHARACTERS = 100 * 255


class Cluster(Model):
    k3s_version: str = Field(
        DEFAULT_K3S_VERSION,
        alias="k3sVersion",
        pattern=rule(r"^v1\.\d+\.\d+\+k3s\d+$",
            "a k3s release as k3s names it, such as v1.33.5+k3s1"), description="k3s release, e.g. v1.33.5+k3s1."
    )
    control_plane_flavor: str = Field("m3.medium", description="Flavor of the control-plane server.")
    worker_flavor: str = Field("m3.medium", description="Flavor of every worker (where user servers run).")
    worker_count: int = Field(1, ge=0, le=50, description="Number of workers; user servers run only on workers.")
    root_disk: Literal["volume", "local"] = Field(
        "volume",
        description="Where every server's root disk is. `volume`: a Cinder volume of rootDiskGb (counts against "
        "the project's volume quota, which users' homes need too; survives a hypervisor's loss). `local`: the "
        "flavor's own disk (no volume quota; its size is the flavor's, 20 GB on Jetstream2's smallest; lost with "
        "the server, as a rebuild for a new image does). The cluster's state and data are on volumes either way. "
        "Changing it replaces every server.",
    )
    root_disk_gb: Optional[int] = Field(
        None, ge=10, le=2000, description=f"Size of the root volume (rootDisk: volume), GB; default {DEFAULT_ROOT_DISK_GB}."
    )
    ssh_public_keys: list[Annotated[str, AfterValidator(_ssh_public_key)]] = Field(
        default_factory=list, description="Admins' OpenSSH public keys, added to every server for humans (and to "
        "running servers within minutes of `pulumi up`)."
    )

    @field_validator("ssh_public_keys")
    @classmethod
    def _keys_fit_server_metadata(cls, keys: list[str]) -> list[str]:
        size = len("\n".join(keys))
        if size > SSH_KEYS_MAX_CHARACTERS:
            raise ValueError(f"the keys take {size} characters together; servers carry at most "
                             f"{SSH_KEYS_MAX_CHARACTERS} (in their Nova metadata): list fewer, or ed25519 keys "
                             "(about 100 characters each)")
        return keys

    @property
    def root_volume_gb(self) -> int:
        """The root volume's size (rootDisk: volume)."""
        return self.root_disk_gb or DEFAULT_ROOT_DISK_GB

    @property
    def kubernetes_version(self) -> str:
        return self.k3s_version[1:].split("+", 1)[0]


class FloatingIp(Model):
    enabled: bool = Field(
        True, description="false: no floating IP; the hub is reached at the control plane's own address, which must "
        "be public (a provider network such as NeCTAR's Classic Provider, with hub.cloud.networkId). The address "
        "is the control plane's port's, kept across a rebuild of the servers.",
    )
    address: Optional[IPv4] = Field(None, description="Adopt this existing floating IP instead of allocating one.")
    pool: Optional[str] = Field(None, description="Pool to allocate from; default: hub.cloud.externalNetwork.")
    keep_on_teardown: bool = Field(
        True, description="Keep the address when the stack is destroyed, so the DNS name survives a rebuild."
    )

    @model_validator(mode="after")
    def _address_or_pool(self) -> "FloatingIp":
        if not self.enabled:
            for key, value in (("address", self.address), ("pool", self.pool)):
                if value:
                    raise RuleViolation(key, f"applies to a floating IP, and enabled is false: remove {key}")
        if self.address and self.pool:
            raise RuleViolation(
                "pool",
                f"applies only to a new address; the adopted address {self.address} is in its pool already: "
                "remove pool (or address, to allocate a new one from the pool)",
            )
        return self


class SharedData(Model):
    size_gb: int = Field(ge=1, le=100_000, description="Size of the NFS data volume (Cinder), GiB.")
    server: Literal["control-plane", "dedicated"] = Field(
        "control-plane", description="Which server exports the share: the control plane or a server of its own."
    )
    server_flavor: Optional[str] = Field(None, description="Flavor of the dedicated NFS server.")
    mount_path: AbsolutePath = Field("/share/data", description="Where user servers see the shared data.")
    read_only: bool = Field(True, description="Read-only for users; hub admins can always write.")

    @field_validator("mount_path")
    @classmethod
    def _beside_home(cls, path: str) -> str:
        if path == HOME_MOUNT_PATH or HOME_MOUNT_PATH.startswith(f"{path.rstrip('/')}/"):
            raise ValueError(
                f"{path} would cover the users' home ({HOME_MOUNT_PATH}) and every server would fail to start: "
                f"use a path of its own, such as /share/data or {HOME_MOUNT_PATH}/shared"
            )
        if path in SYSTEM_PARENTS or any(path == system or path.startswith(f"{system}/") for system in SYSTEM_PATHS):
            raise ValueError(f"{path} would cover the image's own files: use a path such as /share/data")
        return path

    @model_validator(mode="after")
    def _dedicated_needs_flavor(self) -> "SharedData":
        if self.server == "dedicated" and not self.server_flavor:
            raise RuleViolation("serverFlavor", "is required when server is 'dedicated'")
        if self.server == "control-plane" and self.server_flavor:
            raise RuleViolation("serverFlavor", "applies only to server: dedicated (the control plane has its own)")
        return self


_KUBE_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


def _kube_name(value: str) -> str:
    if not _KUBE_NAME.match(value):
        raise ValueError(f"{value!r} is not a claim name: 1-63 characters of a-z, 0-9 and '-', such as claim-alice")
    return value


class AdoptedVolume(Model):
    """A Cinder volume of the CSI driver from an earlier cluster (`hubctl volumes --adopt` lists them): the program
    gives it a PersistentVolume pre-bound to the claim that held it, which KubeSpawner or the chart makes again."""

    volume_id: str = Field(pattern=UUID_PATTERN, description="The Cinder volume's ID.")
    claim: Annotated[str, AfterValidator(_kube_name)] = Field(
        description="The claim it belonged to, as the CSI driver recorded it (csi.storage.k8s.io/pvc/name): "
        "claim-<user> for a home, hub-db-dir for the hub database."
    )
    size_gb: int = Field(ge=1, description="The volume's size in GiB (Cinder's size).")
    zone: Optional[str] = Field(
        None, min_length=1, description="Its availability zone, where the cloud has several: pods that mount it are "
        "scheduled there."
    )


class ApplicationCredential(Model):
    """An application credential made outside the program, for the Cinder CSI driver."""

    id: str = Field(
        pattern=rule(r"^[0-9a-f]{32}$", "a Keystone ID: 32 lowercase hexadecimal digits, as "
                     "`openstack application credential show` gives it"),
        description="Its ID.",
    )
    secret: Secret = None


class CinderHomes(Model):
    type: Literal["cinder"] = "cinder"
    application_credential: Optional[ApplicationCredential] = Field(
        None, description="The Cinder CSI driver's Keystone application credential, made by you (`openstack "
        "application credential create`, on the hub's project, with no more roles than member). Unset, the program "
        "makes one, which Keystone allows only if the program signs in with a password or an unrestricted "
        "application credential (Jetstream2's are restricted unless made otherwise); a credential made by the "
        "program belongs to whoever ran that `pulumi up`, and only they can delete it."
    )
    capacity: KubeQuantity = Field("10Gi", description="Size of each user's Cinder volume, e.g. 10Gi.")
    storage_class: DnsName = Field("cinder-retain", description="Name of the storage class (reclaim: Retain).")
    adopt: list[AdoptedVolume] = Field(
        [], description="Volumes of an earlier cluster to serve again (homes, the hub database), each given back to "
        "its claim. Written by `hubctl volumes --adopt`."
    )

    @model_validator(mode="after")
    def _adopted_once_each(self) -> "CinderHomes":
        for field, key in (("volume_id", "volumeId"), ("claim", "claim")):
            seen: dict[str, int] = {}
            for index, volume in enumerate(self.adopt):
                value = getattr(volume, field)
                if value in seen:
                    raise RuleViolation(f"adopt[{index}].{key}", f"{value} is adopted already by adopt[{seen[value]}]; "
                                        "each volume and each claim once")
                seen[value] = index
        # A home's claim asks for the homes' capacity: a smaller volume would never be bound to it.
        capacity_gib = memory_bytes(self.capacity) / 1024**3
        for index, volume in enumerate(self.adopt):
            if volume.claim.startswith("claim-") and volume.size_gb < capacity_gib:
                raise RuleViolation(
                    f"adopt[{index}].sizeGb",
                    f"{volume.size_gb} GiB is less than capacity {self.capacity}, which the user's claim asks for: "
                    "it would never be bound; give the volume's real size, or extend it first "
                    f"(openstack volume set --size {capacity_gib:g} {volume.volume_id})",
                )
        return self


class NfsHomes(Model):
    type: Literal["nfs"]


UserStorage = Annotated[Union[CinderHomes, NfsHomes], Field(discriminator="type")]


# ------------------------------------------------------------------------------------------------------- tls

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _email(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError(f"{value!r} is not an email address")
    return value


# Let's Encrypt's ACME directories, by hub.tls.environment.
LETSENCRYPT_SERVERS = {
    "production": "https://acme-v02.api.letsencrypt.org/directory",
    "staging": "https://acme-staging-v02.api.letsencrypt.org/directory",
}


class AcmeIssuer(Model):
    """A certificate from an ACME certificate authority, obtained and renewed in the cluster by cert-manager."""

    email: Annotated[str, AfterValidator(_email)] = Field(description="Contact for the CA's expiry notices.")

    @property
    def server_url(self) -> str:
        raise NotImplementedError

    @property
    def issuer_name(self) -> str:
        """The ClusterIssuer's name."""
        raise NotImplementedError


class LetsEncrypt(AcmeIssuer):
    type: Literal["letsencrypt"]
    environment: Literal["staging", "production"] = Field(
        "production", description="staging gives untrusted test certificates without rate limits."
    )

    @property
    def server_url(self) -> str:
        return LETSENCRYPT_SERVERS[self.environment]

    @property
    def issuer_name(self) -> str:
        return f"letsencrypt-{self.environment}"


class ExternalAccountBinding(Model):
    """The account a CA gives an institution for ACME (RFC 8555 7.3.4), such as InCommon's with Sectigo."""

    key_id: str = Field(min_length=1, description="The key ID the CA gave with the HMAC key.")
    hmac_key: Secret = None


class Acme(AcmeIssuer):
    type: Literal["acme"]
    server: HttpsUrl = Field(
        description="The CA's ACME directory URL, such as https://acme.sectigo.com/v2/InCommonRSAOV."
    )
    external_account_binding: Optional[ExternalAccountBinding] = Field(
        None, description="The CA's external account, where it requires one (institutional CAs do)."
    )

    @property
    def server_url(self) -> str:
        return self.server

    @property
    def issuer_name(self) -> str:
        return "acme"


class ManualTls(Model):
    type: Literal["manual"]
    certificate: str = Field(description="PEM certificate chain: the server's, then intermediates (no root).")
    key: Secret = None

    @model_validator(mode="after")
    def _pem(self) -> "ManualTls":
        from .certificates import check_key, load_chain  # cryptography: imported only for a manual certificate

        if "-----BEGIN CERTIFICATE-----" not in self.certificate:
            raise RuleViolation("certificate", "must be a PEM certificate chain (-----BEGIN CERTIFICATE-----)")
        chain = load_chain(self.certificate)
        key = self.key.get_secret_value() if self.key else SECRET_PLACEHOLDER
        # Offline the key is only a placeholder: the key match is checked when the stack's secrets are there.
        if key != SECRET_PLACEHOLDER:
            check_key(chain[0], key)
        return self


class NoTls(Model):
    type: Literal["none"]
    allow_insecure: bool = Field(False, description="Opt-in for plain HTTP: logins and tokens travel unencrypted.")

    @model_validator(mode="after")
    def _opt_in(self) -> "NoTls":
        if not self.allow_insecure:
            raise RuleViolation(
                "allowInsecure", "must be true to serve the hub without TLS; use type: letsencrypt otherwise"
            )
        return self


Tls = Annotated[Union[LetsEncrypt, Acme, ManualTls, NoTls], Field(discriminator="type")]


# ------------------------------------------------------------------------------------------------------ auth


def _username(value: str) -> str:
    if not value:
        raise ValueError("is empty: give the user's name as the login provider has it, such as alice")
    hidden = [char for char in value if unicodedata.category(char) in ("Cc", "Cf", "Co", "Cn", "Zl", "Zp", "Zs")]
    if hidden:
        what = ", ".join(sorted({f"U+{ord(char):04X} {unicodedata.name(char, 'unnamed character')}"
                                 for char in hidden}))
        raise ValueError(f"{value!r} holds a space or an invisible character ({what}), which no login gives: "
                         "retype the name")
    return value


Username = Annotated[str, AfterValidator(_username)]


class AuthBase(Model):
    admin_users: list[Username] = Field(default_factory=list, description="Usernames that are hub admins.")
    allowed_users: list[Username] = Field(default_factory=list, description="Usernames allowed to log in.")
    allow_all: bool = Field(False, description="Let everyone who can log in with the provider use the hub.")

    def _who_may_log_in(self) -> list[str]:
        return [*self.admin_users, *self.allowed_users]

    @model_validator(mode="after")
    def _each_user_once(self) -> "AuthBase":
        # JupyterHub lowercases usernames (Authenticator.normalize_username): Alice and alice are one user.
        for key, names in (("adminUsers", self.admin_users), ("allowedUsers", self.allowed_users)):
            seen: dict[str, int] = {}
            for index, name in enumerate(names):
                normal = unicodedata.normalize("NFKC", name).lower()
                if normal in seen:
                    raise RuleViolation(
                        f"{key}[{index}]",
                        f"{name!r} is listed already as {key}[{seen[normal]}] ({names[seen[normal]]!r}; JupyterHub "
                        "reads names in lowercase): list each user once",
                    )
                seen[normal] = index
        return self

    @model_validator(mode="after")
    def _someone_may_log_in(self) -> "AuthBase":
        if not self.allow_all and not self._who_may_log_in():
            raise RuleViolation(
                "allowedUsers",
                "nobody could log in: list allowedUsers or adminUsers (or an allow rule of the provider), "
                "or set allowAll: true",
            )
        return self


class OAuthBase(AuthBase):
    client_id: str = Field(min_length=1, description="OAuth client ID of the app registered for this hub.")
    client_secret: Secret = None


# GitHub's rule for logins and organizations: letters, digits and single inner hyphens, at most 39 characters.
_GITHUB_NAME = r"[A-Za-z0-9]+(-[A-Za-z0-9]+)*"


def _is_github_name(value: str) -> bool:
    return len(value) <= 39 and re.fullmatch(_GITHUB_NAME, value) is not None


def _github_login_problem(value: str) -> Optional[str]:
    if _is_github_name(value):
        return None
    bare = value.lstrip("@").strip()
    hint = f": write {bare}" if bare != value and _is_github_name(bare) else (
        ": 1-39 letters, digits and single hyphens, such as octocat")
    return f"{value!r} is not a GitHub username{hint}"


class GitHubAuth(OAuthBase):
    type: Literal["github"]
    allowed_organizations: list[
        Annotated[str, Field(pattern=rule(rf"^{_GITHUB_NAME}(:[A-Za-z0-9._-]+)?$",
            "a GitHub organization such as jupyterhub, or org:team such as jupyterhub:admins"),
                             description="An organization such as jupyterhub, or org:team such as jupyterhub:admins.")]
    ] = Field(default_factory=list, description="GitHub organizations (or org:team) whose members may log in.")

    @model_validator(mode="after")
    def _github_logins(self) -> "GitHubAuth":
        for key, names in (("adminUsers", self.admin_users), ("allowedUsers", self.allowed_users)):
            for index, name in enumerate(names):
                problem = _github_login_problem(name)
                if problem:
                    raise RuleViolation(f"{key}[{index}]", problem)
        return self

    def _who_may_log_in(self) -> list[str]:
        return [*super()._who_may_log_in(), *self.allowed_organizations]


class GlobusAuth(OAuthBase):
    type: Literal["globus"]
    identity_provider: Optional[str] = Field(
        None, description="Restrict logins to this identity provider's domain, e.g. access-ci.org."
    )


class AzureAdAuth(OAuthBase):
    type: Literal["azuread"]
    tenant_id: str = Field(pattern=rule(r"^[0-9a-fA-F-]{36}$",
        "a UUID, such as 2f3a4b5c-1d2e-4f60-8a9b-0c1d2e3f4a5b"), description="Directory (tenant) ID, a UUID.")
    username_claim: Literal["upn", "oid", "preferred_username"] = Field(
        "upn",
        description="Claim used as username: upn (readable) or oid (immutable). Never 'name', which is "
        "mutable and not unique.",
    )


class OidcAuth(OAuthBase):
    type: Literal["oidc"]
    login_service: str = Field("OpenID Connect", description="Text of the login button, e.g. CILogon.")
    authorize_url: HttpsUrl = Field(description="Authorization endpoint.")
    token_url: HttpsUrl = Field(description="Token endpoint.")
    userdata_url: HttpsUrl = Field(description="Userinfo endpoint.")
    username_claim: str = Field("sub", min_length=1, description="Claim used as username, e.g. email or sub.")
    scope: list[str] = Field(["openid", "email", "profile"], min_length=1, description="OAuth scopes.")


class DummyAuth(AuthBase):
    type: Literal["dummy"]
    allow_dummy: bool = Field(False, description="Opt-in: anyone who knows the shared password logs in as anyone.")
    password: OptionalSecret = Field(None, description="Shared password (a secret); none: any password.")

    @model_validator(mode="after")
    def _opt_in(self) -> "DummyAuth":
        if not self.allow_dummy:
            raise RuleViolation("allowDummy", "must be true to use the dummy authenticator (test hubs only)")
        return self


Auth = Annotated[
    Union[GitHubAuth, GlobusAuth, AzureAdAuth, OidcAuth, DummyAuth], Field(discriminator="type")
]


# --------------------------------------------------------------------------------------- single-user servers


class Image(Model):
    name: str = Field(
        pattern=rule(r"^[a-z0-9]+([._/-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*$",
            "an image repository in lowercase, without tag, such as quay.io/jupyter/scipy-notebook"),
        description="Image repository without tag, e.g. quay.io/jupyter/scipy-notebook.",
    )
    tag: str = Field(
        pattern=rule(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$",
            "an image tag: letters, digits, '_', '.' and '-', such as 2025-10-20"),
        description="An immutable tag such as 2025-10-20 or a date+commit tag; 'latest' is refused.",
    )

    @model_validator(mode="after")
    def _pinned(self) -> "Image":
        if self.tag == "latest":
            raise RuleViolation("tag", "'latest' moves under your users: pin a dated or versioned tag")
        return self


class CpuResources(Model):
    guarantee: Optional[Cpu] = None
    limit: Optional[Cpu] = None

    @model_validator(mode="after")
    def _ordered(self) -> "CpuResources":
        if self.guarantee is not None and self.limit is not None and self.guarantee > self.limit:
            raise RuleViolation("limit", f"{self.limit:g} is below the guarantee {self.guarantee:g}; raise it")
        return self


class MemoryResources(Model):
    guarantee: Optional[MemorySize] = None
    limit: Optional[MemorySize] = None

    @model_validator(mode="after")
    def _ordered(self) -> "MemoryResources":
        if self.guarantee and self.limit and memory_bytes(self.guarantee) > memory_bytes(self.limit):
            raise RuleViolation("limit", f"{self.limit} is below the guarantee {self.guarantee}; raise it")
        return self


class GitPuller(Model):
    repository: HttpsUrl = Field(description="Git repository pulled into each user's home when a server starts.")
    branch: str = Field("main", pattern=rule(r"^[A-Za-z0-9._/-]+$",
        "a branch name such as main"), description="Branch to pull.")
    directory: str = Field(pattern=rule(r"^[A-Za-z0-9._-]+$",
        "a folder name without '/', such as course-materials"), description="Directory in the home to pull into.")


class Singleuser(Model):
    image: Image
    default_url: str = Field("/lab", pattern=rule(r"^/\S*$",
        "a path on the hub starting with /, such as /lab or /tree"), description="Where users land, e.g. /lab.")
    start_timeout: int = Field(600, ge=30, le=3600, description="Seconds a server may take to start.")
    extra_env: dict[Annotated[str, Field(pattern=rule(r"^[A-Za-z_][A-Za-z0-9_]*$",
        "an environment variable name such as DATA_DIR"))], str] = Field(
        default_factory=dict, description="Extra environment variables of every user server."
    )
    cpu: CpuResources = Field(CpuResources(guarantee=0.5, limit=2), description="CPU guarantee and limit.")
    memory: MemoryResources = Field(
        MemoryResources(guarantee="1G", limit="2G"), description="Memory guarantee and limit."
    )
    git_puller: Optional[GitPuller] = Field(None, description="nbgitpuller of a repository at start.")
    post_start: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=list, description="Shell commands run in each user server after it starts."
    )


def _no_true(value: Any) -> Any:
    if value is True:
        raise ValueError("true is not a choice here: give a repository ({repository: https://..., directory: "
                         "course}) or false for none")
    return value


class Profile(Model):
    display_name: str = Field(min_length=1, description="Name users choose from.")
    description: str = Field("", description="One line under the name.")
    default: bool = Field(False, description="Preselected profile (at most one).")
    cpu: Optional[CpuResources] = Field(None, description="Overrides hub.singleuser.cpu.")
    memory: Optional[MemoryResources] = Field(None, description="Overrides hub.singleuser.memory.")
    image: Optional[Image] = Field(None, description="Overrides hub.singleuser.image.")
    git_puller: Annotated[Optional[Union[GitPuller, Literal[False]]], BeforeValidator(_no_true)] = Field(
        None,
        description="Overrides hub.singleuser.gitPuller: a repository of its own, or false for none (an image "
        "without nbgitpuller, whose servers would otherwise fail to start).",
    )
    gpus: int = Field(
        0, ge=0, le=8,
        description="NVIDIA GPUs for each server of this profile (KubeSpawner's nvidia.com/gpu limit), on workers of "
        "a GPU flavor (cluster.workerFlavor with gpus in the catalog, such as Jetstream2's g3.*, where one is a slice "
        "of an A100). Its servers run with the nvidia runtime class; refused when the workers have no GPU.",
    )

    def puller(self, default: Optional[GitPuller]) -> Optional[GitPuller]:
        """The repository this profile's servers pull: its own, none, or hub.singleuser.gitPuller."""
        if self.git_puller is None:
            return default
        return self.git_puller or None


class Culling(Model):
    enabled: bool = Field(True, description="Stop idle user servers.")
    timeout: int = Field(3600, ge=60, description="Seconds of inactivity before a server is stopped.")
    every: int = Field(600, ge=10, description="Seconds between checks.")
    max_age: int = Field(0, ge=0, description="Stop servers older than this many seconds (0: no limit).")


class Charts(Model):
    jupyterhub: str = Field(
        DEFAULT_JUPYTERHUB_CHART, pattern=rule(r"^\d+\.\d+\.\d+(-[\w.]+)?$",
            f"a chart version such as {DEFAULT_JUPYTERHUB_CHART}"),
        description="Zero to JupyterHub chart (https://hub.jupyter.org/helm-chart/).",
    )
    cert_manager: str = Field(
        DEFAULT_CERT_MANAGER_CHART, pattern=rule(r"^v\d+\.\d+\.\d+$",
            f"a chart version with its v, such as {DEFAULT_CERT_MANAGER_CHART}"),
        description="cert-manager chart (https://charts.jetstack.io), for Let's Encrypt certificates.",
    )
    cinder_csi: str = Field(
        DEFAULT_CINDER_CSI_CHART, pattern=rule(r"^\d+\.\d+\.\d+$",
            f"a chart version such as {DEFAULT_CINDER_CSI_CHART}"),
        description="openstack-cinder-csi chart of cloud-provider-openstack, for user homes on Cinder.",
    )
    archives: Optional[str] = Field(
        None,
        description="Folder of chart archives named as `helm package` names them (`jupyterhub-4.4.0.tgz`), "
        "installed instead of the charts' repositories: for sites without internet. Relative to the project "
        "folder. `make charts` builds them from upstream sources into ~/.cache/hubstack-charts.",
    )

    def archive(self, chart: str, version: str) -> Optional[Path]:
        """The archive of `chart` at `version` under `archives`, when set, as the program passes it to Helm."""
        if self.archives is None:
            return None
        return Path(self.archives).expanduser() / f"{chart}-{version}.tgz"


# ------------------------------------------------------------------------------------- z2jh values not modelled

# Values of the Zero to JupyterHub chart that the program sets from the hub's settings, by path, with the setting
# that decides each (or why the program keeps it). hub.jupyterhubValues may set anything else; a key on or below
# one of these is refused, so that no setting is decided in two places.
JUPYTERHUB_VALUES_OWNED = {
    "hub.config.JupyterHub.authenticator_class": "hub.auth.type",
    "hub.config.JupyterHub.cookie_secret": "the program (kept the same across cluster rebuilds)",
    "hub.config.Authenticator": "hub.auth (adminUsers, allowedUsers, allowAll)",
    "hub.config.GitHubOAuthenticator": "hub.auth",
    "hub.config.GlobusOAuthenticator": "hub.auth",
    "hub.config.AzureAdOAuthenticator": "hub.auth",
    "hub.config.GenericOAuthenticator": "hub.auth",
    "hub.config.DummyAuthenticator": "hub.auth",
    "hub.config.ConfigurableHTTPProxy.auth_token": "the program (kept the same across cluster rebuilds)",
    "hub.config.CryptKeeper": "the program (kept the same across cluster rebuilds)",
    "hub.db.pvc.storageClassName": "hub.userStorage (its storageClass; with homes on NFS, k3s's local-path)",
    "hub.extraConfig.hubstack-shared-data": "hub.sharedData.readOnly",
    "hub.nodeSelector": "the program (the hub runs on the control plane)",
    "hub.tolerations": "the program (the hub runs on the control plane)",
    "proxy.service": "the program (k3s's Traefik serves the hub: the proxy needs no load balancer)",
    "proxy.https": "hub.tls (k3s's Traefik terminates TLS)",
    "proxy.chp.nodeSelector": "the program (the proxy runs on the control plane)",
    "proxy.chp.tolerations": "the program (the proxy runs on the control plane)",
    "singleuser.image": "hub.singleuser.image",
    "singleuser.defaultUrl": "hub.singleuser.defaultUrl",
    "singleuser.startTimeout": "hub.singleuser.startTimeout",
    "singleuser.cpu": "hub.singleuser.cpu",
    "singleuser.memory": "hub.singleuser.memory",
    "singleuser.extraEnv": "hub.singleuser.extraEnv",
    "singleuser.lifecycleHooks": "hub.singleuser.postStart and hub.singleuser.gitPuller",
    "singleuser.profileList": "hub.profiles",
    "singleuser.storage": "hub.userStorage and hub.sharedData",
    "singleuser.uid": "the program (homes and shared data on NFS belong to uid 1000)",
    "singleuser.fsGid": "the program (homes and shared data on NFS belong to gid 100)",
    "scheduling.userScheduler.nodeSelector": "the program (the user scheduler runs on the control plane)",
    "scheduling.userScheduler.tolerations": "the program (the user scheduler runs on the control plane)",
    "prePuller.hook.enabled": "the program (the install hook would hold `pulumi up` past Helm's timeout)",
    "ingress": "hub.tls and the hub's hostname",
    "cull": "hub.culling",
}


def _owner(path: str) -> Optional[tuple[str, str]]:
    """The owned path on, above or below `path`, and the setting that decides it."""
    for owned, owner in JUPYTERHUB_VALUES_OWNED.items():
        if path == owned or path.startswith(f"{owned}.") or owned.startswith(f"{path}."):
            return owned, owner
    return None


def leaf_paths(value: Any, prefix: str = "") -> list[str]:
    """Dotted paths of every leaf of nested mappings."""
    if isinstance(value, dict) and value:
        return [path for key, item in value.items()
                for path in leaf_paths(item, f"{prefix}.{key}" if prefix else str(key))]
    return [prefix]


def _jupyterhub_values(values: dict[str, Any]) -> dict[str, Any]:
    for path in leaf_paths(values):
        found = _owner(path)
        if found:
            owned, owner = found
            words = f"set it with {owner}" if owner.startswith("hub.") else f"it is {owner}"
            raise RuleViolation(path, f"the program sets {owned}: {words}")
    return values


# ------------------------------------------------------------------------------------------------------ root


class HubConfig(Model):
    """One hub: everything under the stack config key `hubstack:hub`."""

    name: HubName = Field(description="Names the servers and, with domain, the hostname.")
    domain: Optional[DnsName] = Field(
        None, description="DNS zone: hostname = <name>.<domain> (Jetstream2: <project>.projects.jetstream-cloud.org)."
    )
    fqdn: Optional[DnsName] = Field(None, description="Explicit hostname instead of <name>.<domain>.")
    cloud: Cloud
    cluster: Cluster = Field(default_factory=Cluster)
    floating_ip: FloatingIp = Field(default_factory=FloatingIp)
    shared_data: Optional[SharedData] = Field(None, description="The NFS share; none: no shared data.")
    user_storage: UserStorage = Field(default_factory=CinderHomes, description="Where user homes live.")
    tls: Tls
    auth: Auth
    singleuser: Singleuser
    profiles: list[Profile] = Field(default_factory=list, description="Server options users choose from.")
    culling: Culling = Field(default_factory=Culling)
    charts: Charts = Field(default_factory=Charts)
    jupyterhub_values: Annotated[dict[str, Any], AfterValidator(_jupyterhub_values)] = Field(
        default_factory=dict,
        description="Zero to JupyterHub chart values the program does not model (a PostgreSQL hub.db, "
        "imagePullSecrets, hub.extraConfig, hub.services, scheduling.userPlaceholder, "
        "scheduling.userPods.nodeAffinity.matchNodePurpose, annotations), merged over the program's values last as "
        "Helm merges values. Keys the program sets from other settings are refused, naming that setting. Helm "
        "checks the result against the chart's values schema (at `pulumi preview` and `up`).",
    )
    layers: Literal["all", "openstack"] = Field(
        "all",
        description="What the stack deploys. `all`: the OpenStack layer and the hub on its k3s cluster. "
        "`openstack`: the OpenStack layer alone (network, security groups, servers that boot k3s, floating IP, DNS "
        "record, shared data volume), for admins who install Zero to JupyterHub themselves: nothing is read from the "
        "cluster or installed on it (kubeconfig: `ssh <imageUser>@<floatingIp> sudo cat /etc/rancher/k3s/k3s.yaml`). "
        "The hub settings are still checked, so that switching to `all` later installs the hub described here.",
    )

    @property
    def kubernetes_layer(self) -> bool:
        return self.layers == "all"

    @property
    def hostname(self) -> str:
        return self.fqdn or f"{self.name}.{self.domain}"

    @property
    def url(self) -> str:
        scheme = "http" if isinstance(self.tls, NoTls) else "https"
        return f"{scheme}://{self.hostname}"

    @property
    def oauth_callback_url(self) -> str:
        return f"{self.url}/hub/oauth_callback"

    @property
    def worker_flavor(self) -> Flavor:
        return self.cloud.flavor_catalog[self.cluster.worker_flavor]

    @property
    def gpu_workers(self) -> bool:
        """The workers' flavor has GPUs: they get NVIDIA's container runtime and the cluster its device plugin."""
        return self.worker_flavor.gpus > 0

    @property
    def homes_on_nfs(self) -> bool:
        return isinstance(self.user_storage, NfsHomes)

    @model_validator(mode="after")
    def _hostname(self) -> "HubConfig":
        if (self.domain is None) == (self.fqdn is None):
            raise RuleViolation("domain", "give exactly one of domain (hostname = <name>.<domain>) or fqdn")
        key = "fqdn" if self.fqdn else "domain"
        _dns_name(self.hostname)
        if len(self.hostname) > MAX_HOSTNAME_LENGTH:
            raise RuleViolation(
                key,
                f"hostname {self.hostname!r} is {len(self.hostname)} characters; Let's Encrypt needs at most "
                f"{MAX_HOSTNAME_LENGTH}: shorten it by {len(self.hostname) - MAX_HOSTNAME_LENGTH}",
            )
        return self

    @model_validator(mode="after")
    def _certificate_serves_hostname(self) -> "HubConfig":
        if isinstance(self.tls, ManualTls):
            from .certificates import check_chain, load_chain

            try:
                check_chain(load_chain(self.tls.certificate), self.hostname, datetime.now(timezone.utc))
            except RuleViolation as problem:
                raise RuleViolation(f"tls.{problem.key}", problem.message) from None
        return self

    @property
    def charts_in_use(self) -> dict[str, str]:
        """Chart name -> version of every chart this hub installs."""
        if not self.kubernetes_layer:
            return {}
        used = {JUPYTERHUB_CHART: self.charts.jupyterhub}
        if isinstance(self.tls, AcmeIssuer):
            used[CERT_MANAGER_CHART] = self.charts.cert_manager
        if isinstance(self.user_storage, CinderHomes):
            used[CINDER_CSI_CHART] = self.charts.cinder_csi
        return used

    @model_validator(mode="after")
    def _chart_archives_present(self) -> "HubConfig":
        for chart, version in self.charts_in_use.items():
            archive = self.charts.archive(chart, version)
            if archive is not None and not (found := PROJECT_DIR / archive).is_file():
                raise RuleViolation(
                    "charts.archives",
                    f"has no {archive.name} (looked in {found.parent}): run `make charts`, "
                    f"or `helm pull` chart {chart} version {version} from its repository into that folder",
                )
        return self

    def _server_flavors(self) -> dict[str, str]:
        """The flavor of each kind of server, by the key that sets it."""
        used = {
            "cluster.controlPlaneFlavor": self.cluster.control_plane_flavor,
            "cluster.workerFlavor": self.cluster.worker_flavor,
        }
        if self.shared_data and self.shared_data.server_flavor:
            used["sharedData.serverFlavor"] = self.shared_data.server_flavor
        return used

    @model_validator(mode="after")
    def _flavors_known(self) -> "HubConfig":
        catalog = self.cloud.flavor_catalog
        for key, flavor in self._server_flavors().items():
            if flavor not in catalog:
                raise RuleViolation(
                    key,
                    f"unknown flavor {flavor!r}: add it under hub.cloud.flavors or use one of {', '.join(catalog)}",
                )
        return self

    @model_validator(mode="after")
    def _cluster_can_run_users(self) -> "HubConfig":
        if self.cluster.worker_count == 0:
            raise RuleViolation(
                "cluster.workerCount", "must be at least 1: user servers run only on workers (tainted for users)"
            )
        if self.cluster.root_disk == "local":
            self._local_disks_fit()
        elif self.cluster.root_volume_gb < self.cloud.image_min_disk_gb:
            raise RuleViolation(
                "cluster.rootDiskGb",
                f"{self.cluster.root_volume_gb} GB is smaller than the image's minimum disk "
                f"({self.cloud.image_min_disk_gb} GB, hub.cloud.imageMinDiskGb)",
            )
        return self

    def _local_disks_fit(self) -> None:
        if self.cluster.root_disk_gb is not None:
            raise RuleViolation("cluster.rootDiskGb", "applies to rootDisk: volume only: a local root disk is the "
                                "flavor's own; remove it")
        catalog = self.cloud.flavor_catalog
        for key, name in self._server_flavors().items():
            disk = catalog[name].disk_gb
            if disk < self.cloud.image_min_disk_gb:
                raise RuleViolation(key, f"{name} has a local disk of {disk} GB, less than the image's minimum "
                                    f"({self.cloud.image_min_disk_gb} GB, hub.cloud.imageMinDiskGb): use "
                                    "cluster.rootDisk: volume, or a flavor with a larger disk")

    @model_validator(mode="after")
    def _reachable(self) -> "HubConfig":
        if not self.floating_ip.enabled and self.cloud.makes_network:
            raise RuleViolation(
                "floatingIp.enabled", "false needs a public network for the servers: the network the program makes "
                "is private, reached only through a floating IP. Set hub.cloud.networkId to a provider network, or "
                "remove enabled",
            )
        allocates = self.floating_ip.enabled and not self.floating_ip.address and not self.floating_ip.pool
        if self.cloud.external_network is None and (self.cloud.makes_network or allocates):
            raise RuleViolation("cloud.externalNetwork", f"is required: the preset {self.cloud.preset} has none to "
                                f"give ({_description(Cloud, 'externalNetwork')})")
        return self

    @model_validator(mode="after")
    def _subnet_holds_workers(self) -> "HubConfig":
        if not self.cloud.makes_network:
            return self  # Neutron's subnet, shared: its room is the cloud's to tell
        first, last = (ipaddress.ip_address(address) for address in self.cloud.dhcp_pool)
        # Workers take their addresses from the DHCP pool, and so does Neutron's own DHCP port (the one less).
        room = int(last) - int(first)
        if self.cluster.worker_count > room:
            raise RuleViolation(
                "cloud.networkCidr",
                f"{self.cloud.subnet_cidr} leaves {room} addresses for workers ({first}-{last}, less Neutron's DHCP "
                f"port), and workerCount is {self.cluster.worker_count}: use a larger subnet, such as 10.0.42.0/24",
            )
        return self

    @model_validator(mode="after")
    def _pool_is_the_routers(self) -> "HubConfig":
        pool = self.floating_ip.pool
        routers = (self.cloud.external_network, self.cloud.external_network_id)
        if pool and self.cloud.makes_network and pool not in routers:
            raise RuleViolation(
                "floatingIp.pool",
                f"{pool!r} is not the router's external network ({self.cloud.external_network!r}, "
                "hub.cloud.externalNetwork): a floating IP from another network cannot reach the hub; remove pool, "
                "or set hub.cloud.externalNetwork and externalNetworkId to that network",
            )
        return self

    @model_validator(mode="after")
    def _gpus_on_gpu_workers(self) -> "HubConfig":
        flavor, gpus = self.cluster.worker_flavor, self.worker_flavor.gpus
        for index, profile in enumerate(self.profiles):
            if profile.gpus > gpus:
                gpu_flavors = ", ".join(name for name, spec in self.cloud.flavor_catalog.items() if spec.gpus)
                raise RuleViolation(
                    f"profiles[{index}].gpus",
                    f"{profile.gpus} GPUs per server, and every worker is a {flavor}, which has "
                    f"{gpus or 'no'} GPUs: its servers could never start. Set cluster.workerFlavor to a GPU flavor ("
                    f"{gpu_flavors or 'add one under hub.cloud.flavors with its gpus'}), or ask for fewer GPUs",
                )
        return self

    @model_validator(mode="after")
    def _storage_has_share(self) -> "HubConfig":
        if self.homes_on_nfs and self.shared_data is None:
            raise RuleViolation(
                "userStorage.type", "nfs puts homes on the NFS share: configure hub.sharedData, or use type: cinder"
            )
        return self

    @field_validator("profiles")
    @classmethod
    def _one_slug_each(cls, profiles: list[Profile]) -> list[Profile]:
        # KubeSpawner tells profiles apart by a slug it makes of the display name (python-slugify): two with one
        # slug make the second unreachable, whatever users pick.
        from slugify import slugify

        seen: dict[str, int] = {}
        for index, profile in enumerate(profiles):
            slug = slugify(profile.display_name)
            if not slug:
                raise RuleViolation(f"{index}.displayName", f"{profile.display_name!r} gives KubeSpawner no name to "
                                    "tell the profile by: use letters or digits, such as 'Large (8 CPUs)'")
            if slug in seen:
                raise RuleViolation(
                    f"{index}.displayName",
                    f"{profile.display_name!r} is the same profile to KubeSpawner as profiles[{seen[slug]}] "
                    f"({profiles[seen[slug]].display_name!r}; both are {slug!r}): users could never start this one; "
                    "rename one",
                )
            seen[slug] = index
        return profiles

    @model_validator(mode="after")
    def _profiles_fit(self) -> "HubConfig":
        defaults = [index for index, profile in enumerate(self.profiles) if profile.default]
        if len(defaults) > 1:
            raise RuleViolation(
                f"profiles.{defaults[1]}.default",
                f"only one profile may be the default; profiles[{defaults[0]}] already is",
            )
        self._fits("singleuser", self.singleuser.cpu, self.singleuser.memory)
        for index, profile in enumerate(self.profiles):
            self._fits(
                f"profiles.{index}",
                profile.cpu or self.singleuser.cpu,
                profile.memory or self.singleuser.memory,
                own_cpu=profile.cpu is not None,
                own_memory=profile.memory is not None,
            )
        return self

    def _fits(
        self, key: str, cpu: CpuResources, memory: MemoryResources, own_cpu: bool = True, own_memory: bool = True
    ) -> None:
        flavor = self.worker_flavor
        where = f"the worker flavor {self.cluster.worker_flavor}"
        # Kubernetes reserves the limit when only a limit is given (request = limit): that must fit too.
        cpu_field = "guarantee" if cpu.guarantee is not None else "limit"
        reserved_cpu = getattr(cpu, cpu_field)
        if reserved_cpu is not None and reserved_cpu > flavor.vcpus:
            origin = key if own_cpu else "singleuser"
            raise RuleViolation(
                f"{origin}.cpu.{cpu_field}",
                f"{reserved_cpu:g} CPUs{_RESERVED[cpu_field]} do not fit {where} ({flavor.vcpus} vCPUs): "
                f"{reserved_cpu - flavor.vcpus:g} too many",
            )
        memory_field = "guarantee" if memory.guarantee is not None else "limit"
        reserved_memory = getattr(memory, memory_field)
        if reserved_memory is not None:
            need, have = memory_bytes(reserved_memory), int(flavor.ram_gb * 1024**3)
            if need > have:
                origin = key if own_memory else "singleuser"
                raise RuleViolation(
                    f"{origin}.memory.{memory_field}",
                    f"{reserved_memory}{_RESERVED[memory_field]} does not fit {where} ({format_bytes(have)} RAM): "
                    f"{format_bytes(need - have)} too much",
                )


_RESERVED = {"guarantee": "", "limit": " (no guarantee: Kubernetes reserves the limit)"}


def json_schema() -> dict[str, Any]:
    """JSON schema of the `hubstack:hub` value, for editor completion."""
    schema = HubConfig.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "hubstack:hub"
    return schema
