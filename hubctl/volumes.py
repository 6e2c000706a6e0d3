"""`hubctl volumes`: the hub's Cinder volumes, what each one is, and what is stuck.

Two halves. `classify` and what follows it are pure: they read Cinder's and Nova's answers as plain data (the JSON
shapes of the APIs, as openstacksdk returns them) and decide. `read_cloud` and `delete_attachments` are the thin
openstacksdk layer, the only code here that talks to a cloud.

Which volumes are the hub's:
- `<hub>-shared-data` and `<hub>-k3s-state`, by name: the program sets the name and nothing else that tells the hub
  apart (the description is prose; no metadata), and it renames them with the hub (README, Data that outlives);
- volumes of the Cinder CSI driver whose `cinder.csi.openstack.org/cluster` metadata is the hub's name (the Helm
  value `clusterID`, render/storage.py). The driver copies the csi-provisioner's `--extra-create-metadata` keys
  (`csi.storage.k8s.io/pvc/name`, `.../pvc/namespace`, `.../pv/name`) onto the volume, which name the claim.
  Sources: cloud-provider-openstack pkg/csi/cinder/controllerserver.go (CreateVolume: `cinderCSIClusterIDKey`,
  `sharedcsi.RecognizedCSIProvisionerParams`), pkg/csi/csi.go (the three keys), and the chart's
  controllerplugin-deployment.yaml (`--extra-create-metadata`, `--cluster=$(CLUSTER_NAME)` from `clusterID`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Iterable, Mapping, Optional

from config import HubConfig
from config.model import CinderHomes
from render import naming
from render.kubernetes import HUB_NAMESPACE

CSI_CLUSTER_KEY = "cinder.csi.openstack.org/cluster"
CSI_PVC_NAME_KEY = "csi.storage.k8s.io/pvc/name"
CSI_PVC_NAMESPACE_KEY = "csi.storage.k8s.io/pvc/namespace"
CSI_PV_NAME_KEY = "csi.storage.k8s.io/pv/name"

# Cinder's attachments API (create, list, delete by a project member) exists from this microversion on.
ATTACHMENTS_MICROVERSION = "3.27"

SHARED_DATA = "shared data"
K3S_STATE = "k3s state"
HUB_DATABASE = "hub database"
HOME = "home"
OTHER_CLAIM = "other claim"


@dataclass(frozen=True)
class Attachment:
    attachment_id: str
    server_id: str
    server_name: Optional[str]  # None: Nova has no such server
    status: str  # Cinder's attach status: attached, reserved, attaching, detaching, error_attaching, ...

    @property
    def server_gone(self) -> bool:
        return self.server_name is None

    def describe(self) -> str:
        if self.server_gone:
            return f"server gone ({self.server_id})"
        return f"{self.server_name} ({self.server_id})"


@dataclass(frozen=True)
class Flag:
    problem: str
    action: str
    # The openstack command that repairs it; who may send it: "member" (the project, `--fix` does it) or "admin".
    command: str
    by: str


@dataclass
class VolumeRow:
    id: str
    name: str
    role: str
    status: str
    size_gb: int
    claim: Optional[str] = None  # "<namespace>/<claim>" for a CSI volume
    zone: str = ""  # Cinder's availability zone
    created: str = ""  # Cinder's created_at
    user: Optional[str] = None
    user_note: Optional[str] = None  # how the user was told from the claim name
    attachments: list[Attachment] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        for attachment, raw in zip(self.attachments, data["attachments"]):
            raw["server_gone"] = attachment.server_gone
        return data


# ----------------------------------------------------------------------------------------------- pure: classify


def _role(volume: Mapping[str, Any], hub: str) -> Optional[tuple[str, Optional[str]]]:
    """(role, claim) of a volume of this hub, None for any other volume."""
    metadata = volume.get("metadata") or {}
    if metadata.get(CSI_CLUSTER_KEY) == hub:
        namespace, claim = metadata.get(CSI_PVC_NAMESPACE_KEY), metadata.get(CSI_PVC_NAME_KEY)
        if not claim:
            # A driver whose provisioner ran without --extra-create-metadata: the cluster, but no claim recorded.
            return OTHER_CLAIM, None
        where = f"{namespace}/{claim}"
        if namespace == HUB_NAMESPACE and claim == naming.HUB_DB_CLAIM:
            return HUB_DATABASE, where
        if namespace == HUB_NAMESPACE and claim.startswith(naming.CLAIM_PREFIX):
            return HOME, where
        return OTHER_CLAIM, where
    if volume.get("name") == naming.shared_data_volume_name(hub):
        return SHARED_DATA, None
    if volume.get("name") == naming.state_volume_name(hub):
        return K3S_STATE, None
    return None


def known_users(config: HubConfig) -> list[str]:
    """The users the config names (admins and allowed users), in order, once each."""
    return list(dict.fromkeys([*config.auth.admin_users, *config.auth.allowed_users]))


def home_owner(claim: str, users: Iterable[str]) -> tuple[Optional[str], str]:
    """Whose home a claim is: (user or None, how that was decided).

    Matched against the claim names KubeSpawner 7 computes for the users the config names (its "safe" scheme,
    and the "escape" scheme of homes made before KubeSpawner 7, whose recorded names it keeps using). Otherwise the
    claim's own name: a safe slug without a hash is the username itself; a hashed one cannot be reversed."""
    for user in users:
        if claim == naming.home_claim_name(user):
            return user, "config"
    for user in users:
        if claim == naming.home_claim_name(user, scheme="escape"):
            return user, "config, name from KubeSpawner before 7"
    slug = claim.removeprefix(naming.CLAIM_PREFIX)
    if "---" in slug:
        return None, f"hashed name of a user not in the config (starts {slug.split('---')[0]!r})"
    if "--" in slug:
        user, server = slug.split("--", 1)
        return user, f"from the claim name, named server {server!r}; not in the config"
    return slug, "from the claim name; not in the config"


def _attachments(volume: Mapping[str, Any], listed: Iterable[Mapping[str, Any]],
                 servers: Mapping[str, str]) -> list[Attachment]:
    """The volume's attachments: those the volume shows (Cinder shows only "attached" ones there) and those of the
    attachments API (also reserved, attaching, detaching and failed ones: a volume stuck "reserved" has its
    attachment only there)."""
    found: dict[str, Attachment] = {}
    for raw in volume.get("attachments") or []:
        server_id = raw.get("server_id") or ""
        found[raw["attachment_id"]] = Attachment(raw["attachment_id"], server_id, servers.get(server_id), "attached")
    for raw in listed:
        if raw.get("volume_id") != volume["id"]:
            continue
        server_id = raw.get("instance") or ""
        found[raw["id"]] = Attachment(raw["id"], server_id, servers.get(server_id), raw.get("status") or "")
    return sorted(found.values(), key=lambda attachment: attachment.attachment_id)


def _admin_reset(volume_id: str, state: str) -> str:
    return f"openstack volume set --state {state} {volume_id}"


def delete_attachment_command(attachment_id: str) -> str:
    return f"openstack --os-volume-api-version {ATTACHMENTS_MICROVERSION} volume attachment delete {attachment_id}"


def _flags(row: VolumeRow) -> list[Flag]:
    flags = [
        Flag(f"stale attachment {attachment.attachment_id}: its server {attachment.server_id} no longer exists",
             "delete the attachment (hubctl volumes --fix)", delete_attachment_command(attachment.attachment_id),
             "member")
        for attachment in row.attachments if attachment.server_gone
    ]
    live = [attachment for attachment in row.attachments if not attachment.server_gone]
    # What the volume's state should be once nothing stale holds it: in use while a live server holds it (or was
    # letting go of it: resetting to in-use lets the detach be tried again), else available. A reservation by a
    # live server holds nothing yet.
    holding = [attachment for attachment in live if attachment.status in ("attached", "detaching")]
    settled = "in-use" if holding else "available"
    status = row.status
    if status in ("reserved", "attaching", "detaching"):
        if flags:
            problem = f"stuck '{status}' by an attachment to a server that is gone"
            action = f"--fix deletes the stale attachment; Cinder then sets the volume '{settled}'"
            flags.append(Flag(problem, action, "", "member"))
        else:
            on = f" (attachment to {live[0].describe()})" if live else ""
            flags.append(Flag(
                f"'{status}'{on}: normal for a minute while Nova works, stuck if it stays",
                "if it stays, only a cloud admin can reset the state: send them the command"
                + (f" (check first that `openstack server show {holding[0].server_id}` lists the volume)"
                   if holding else ""),
                _admin_reset(row.id, settled), "admin"))
    elif status == "error_deleting":
        flags.append(Flag(
            "'error_deleting': a delete failed in the storage backend; nobody in the project can delete it now",
            "a cloud admin resets the state, then delete it again (or keep it)",
            _admin_reset(row.id, "available"), "admin"))
    elif status == "error":
        flags.append(Flag(
            "'error': the backend failed to create or change it",
            "a cloud admin checks the backend and resets the state if the volume is whole; a volume that never "
            f"held data can be deleted by the project (openstack volume delete {row.id})",
            _admin_reset(row.id, "available"), "admin"))
    elif status == "maintenance":
        flags.append(Flag(
            "'maintenance': a migration or retype by the cloud did not finish",
            "ask a cloud admin to finish it or reset the state",
            _admin_reset(row.id, settled), "admin"))
    return flags


def classify(volumes: Iterable[Mapping[str, Any]], servers: Mapping[str, str], config: HubConfig,
             attachments: Iterable[Mapping[str, Any]] = ()) -> list[VolumeRow]:
    """The hub's volumes, each with its role, owner, attachments and flags.

    volumes: Cinder's volume list with details (id, name, status, size, metadata, attachments); servers: Nova's
    servers of the project, ID -> name; attachments: Cinder's attachments list (id, status, instance, volume_id).
    Volumes of other hubs, and any other volume of the project, are left out."""
    hub = config.name
    users = known_users(config)
    listed = list(attachments)
    rows: list[VolumeRow] = []
    for volume in volumes:
        role = _role(volume, hub)
        if role is None:
            continue
        row = VolumeRow(id=volume["id"], name=volume.get("name") or "", role=role[0], claim=role[1],
                        status=volume.get("status") or "", size_gb=int(volume.get("size") or 0),
                        zone=volume.get("availability_zone") or "", created=volume.get("created_at") or "",
                        attachments=_attachments(volume, listed, servers))
        if row.role == HOME:
            row.user, row.user_note = home_owner(row.claim.split("/", 1)[1], users)
        row.flags = _flags(row)
        rows.append(row)
    names = ((SHARED_DATA, naming.shared_data_volume_name(hub)), (K3S_STATE, naming.state_volume_name(hub)))
    for role, name in names:
        twins = [row for row in rows if row.role == role]
        if len(twins) > 1:
            # Cinder names are not unique: only the stack knows which one it manages.
            output = "sharedDataVolumeId" if role == SHARED_DATA else "stateVolumeId"
            for row in twins:
                row.flags.append(Flag(
                    f"{len(twins)} volumes are named {name}: only one is the stack's",
                    f"`pulumi stack output {output}` names the stack's; the other is a leftover to keep or delete",
                    "", "member"))
    order = [SHARED_DATA, K3S_STATE, HUB_DATABASE, HOME, OTHER_CLAIM]
    return sorted(rows, key=lambda row: (order.index(row.role), row.user or "", row.claim or "", row.name, row.id))


def stale_attachments(rows: Iterable[VolumeRow]) -> list[tuple[VolumeRow, Attachment]]:
    """What `--fix` deletes: every attachment whose server is gone."""
    return [(row, attachment) for row in rows for attachment in row.attachments if attachment.server_gone]


def admin_requests(rows: Iterable[VolumeRow]) -> list[tuple[VolumeRow, Flag]]:
    """What only a cloud admin can do, with the command to send them."""
    return [(row, flag) for row in rows for flag in row.flags if flag.by == "admin"]


# ------------------------------------------------------------------------------------------------- pure: adopt


ADOPT_PATH = "hub.userStorage.adopt"


@dataclass(frozen=True)
class Adoption:
    """What `--adopt` decides for one claim: the volume it adopts, or why none."""

    claim: str
    entry: Optional[dict[str, Any]]  # hub.userStorage.adopt's item, camelCase as in the stack file
    refused: str = ""


def adoptions(rows: Iterable[VolumeRow], config: HubConfig) -> list[Adoption]:
    """The homes and the hub database of earlier clusters that the stack can give back to their claims: one volume
    per claim, available (attached to no server), and not adopted yet. A claim with several such volumes (a hub
    rebuilt without adoption made a new, empty one each time) is left to the admin, with the candidates."""
    if not isinstance(config.user_storage, CinderHomes):
        return []
    adopted = {volume.volume_id for volume in config.user_storage.adopt}
    taken = {volume.claim for volume in config.user_storage.adopt}
    candidates: dict[str, list[VolumeRow]] = {}
    for row in rows:
        if row.role in (HOME, HUB_DATABASE) and row.id not in adopted:
            candidates.setdefault(row.claim.split("/", 1)[1], []).append(row)
    zones = {row.zone for rows_of_claim in candidates.values() for row in rows_of_claim} | {
        config.cloud.availability_zone}
    decided = []
    for claim, found in sorted(candidates.items()):
        if claim in taken:
            decided.append(Adoption(claim, None, f"{ADOPT_PATH} gives {claim} a volume already"))
            continue
        available = [row for row in found if row.status == "available" and not row.attachments]
        busy = [row for row in found if row not in available]
        if len(available) > 1:
            listed = ", ".join(f"{row.id} ({row.size_gb} GiB, created {row.created or '?'})" for row in available)
            decided.append(Adoption(claim, None, f"{len(available)} volumes held {claim}: {listed}; adopt the one "
                                                 f"to keep by hand (the commands below, with its values)"))
        elif available:
            row = available[0]
            entry: dict[str, Any] = {"volumeId": row.id, "claim": claim, "sizeGb": row.size_gb}
            # Pods follow a volume to its zone only where the hub's volumes and servers are not all in one.
            if len(zones) > 1 and row.zone:
                entry["zone"] = row.zone
            decided.append(Adoption(claim, entry))
        else:
            decided.append(Adoption(claim, None, "; ".join(
                f"{row.id} is {row.status}" + (f", attached to {row.attachments[0].describe()}"
                                               if row.attachments else "") for row in busy)
                + ": only a volume attached to no server can be adopted (hubctl volumes --fix, or detach it)"))
    return decided


def homes_of(rows: Iterable[VolumeRow], user: str) -> list[VolumeRow]:
    """The Cinder volumes that hold `user`'s home (a user with named servers has one per server)."""
    return [row for row in rows if row.role == HOME and row.user == user]


def home_deletion_refusals(homes: Iterable[VolumeRow], config: HubConfig) -> list[str]:
    """Why a user's home cannot be deleted now, one line each; none when it can."""
    adopted = {volume.volume_id: index for index, volume in enumerate(config.user_storage.adopt)} if isinstance(
        config.user_storage, CinderHomes) else {}
    refusals = []
    for row in homes:
        if row.attachments or row.status != "available":
            where = f", attached to {row.attachments[0].describe()}" if row.attachments else ""
            refusals.append(f"{row.id} ({row.claim}) is {row.status}{where}: stop {row.user}'s server first (the "
                            "hub's admin page), then run this again")
        if row.id in adopted:
            refusals.append(f"{row.id} is {ADOPT_PATH}[{adopted[row.id]}]: remove that entry (`pulumi config rm "
                            f"--path '{ADOPT_PATH}[{adopted[row.id]}]'`) and run `pulumi up` first")
    return refusals


def config_set_commands(entries: list[dict[str, Any]], start: int, stack: str) -> list[list[str]]:
    """`pulumi config set --path` of each entry's fields, as items start, start + 1, ... of the adopt list."""
    return [["pulumi", "config", "set", "--path", f"{ADOPT_PATH}[{index}].{key}", str(value), "--stack", stack]
            for index, entry in enumerate(entries, start=start) for key, value in entry.items()]


# ------------------------------------------------------------------------------------------------ pure: output


def _who(row: VolumeRow) -> str:
    if row.role == HOME:
        return f"{row.user or '?'} ({row.claim})"
    return row.claim or "-"


def render_table(rows: list[VolumeRow], hub: str) -> str:
    if not rows:
        return f"no volume of the hub {hub} in this project"
    header = ("ROLE", "USER / CLAIM", "NAME", "ID", "STATUS", "SIZE", "ATTACHED TO")
    lines = [header]
    for row in rows:
        attached = ", ".join(attachment.describe() + ("" if attachment.status == "attached"
                                                      else f" [{attachment.status}]")
                             for attachment in row.attachments) or "-"
        lines.append((row.role, _who(row), row.name or "-", row.id, row.status, f"{row.size_gb} GiB", attached))
    widths = [max(len(line[column]) for line in lines) for column in range(len(header))]
    text = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() for line in lines]
    flagged = [(row, flag) for row in rows for flag in row.flags]
    if flagged:
        text += ["", f"{len(flagged)} problem{'s' if len(flagged) > 1 else ''}:"]
        for row, flag in flagged:
            text.append(f"  - {row.name or row.id} ({row.id}): {flag.problem}; {flag.action}")
            if flag.command:
                text.append(f"      {flag.command}" + ("   # cloud admin only" if flag.by == "admin" else ""))
    notes = [f"  - {row.claim}: {row.user_note}" for row in rows if row.role == HOME and row.user_note != "config"]
    if notes:
        text += ["", "homes whose user the config does not name:", *notes]
    return "\n".join(text)


def equivalent_commands(hub: str) -> list[str]:
    """The openstack commands that read what this command reads, for an admin without hubctl."""
    return [
        f"openstack volume list --long --name {naming.shared_data_volume_name(hub)}",
        f"openstack volume list --long --name {naming.state_volume_name(hub)}",
        f"openstack volume list --long --property {CSI_CLUSTER_KEY}={hub}",
        "openstack volume show <id>   # properties: the claim (csi.storage.k8s.io/pvc/namespace, .../pvc/name)",
        f"openstack --os-volume-api-version {ATTACHMENTS_MICROVERSION} volume attachment list",
        "openstack server list",
    ]


# ------------------------------------------------------------------------------------------------ the cloud


class CloudError(Exception):
    """The cloud could not be read or changed: one line that says what to do."""


def _api_errors() -> tuple[type[Exception], ...]:
    """What openstacksdk and keystoneauth raise for a cloud's refusal, absence or misconfiguration (anything else
    is a bug here, and keeps its traceback)."""
    from keystoneauth1 import exceptions as keystone
    from openstack import exceptions as sdk

    return sdk.SDKException, keystone.ClientException


def _cloud_error(error: Exception, doing: str) -> CloudError:
    from keystoneauth1 import exceptions as keystone

    message = " ".join(str(error).split()) or type(error).__name__
    if isinstance(error, (keystone.MissingRequiredOptions, keystone.NoMatchingPlugin)):
        import os

        cloud = os.environ.get("OS_CLOUD")
        if cloud:
            # openstacksdk falls back to OS_* variables when no clouds.yaml defines the cloud, and then misses them.
            return CloudError(f"OS_CLOUD={cloud}, but no clouds.yaml defines it ({message}): put it in "
                              "./clouds.yaml, ~/.config/openstack/clouds.yaml or /etc/openstack/clouds.yaml, or "
                              "name the file in OS_CLIENT_CONFIG_FILE")
        return CloudError(f"no OpenStack credentials ({message}): set OS_CLOUD with a clouds.yaml, or source the "
                          "project's openrc (OS_* variables), as for the openstack CLI")
    if isinstance(error, keystone.ConnectionError):
        # keystoneauth appends urllib3's whole retry story; the address is what an admin needs.
        message = message.split(": HTTPConnectionPool")[0].split(": HTTPSConnectionPool")[0]
        return CloudError(f"cannot reach the cloud while {doing}: {message} (is the auth URL right and the cloud up?)")
    return CloudError(f"{doing} failed: {message}")


def connect() -> Any:
    """A connection as the openstack CLI makes it: clouds.yaml with OS_CLOUD, or OS_* variables."""
    import logging

    import openstack

    # keystoneauth logs its fallbacks (e.g. a failed version discovery) as warnings before it raises: the one
    # line printed from the error says it all.
    logging.getLogger("keystoneauth").setLevel(logging.ERROR)
    try:
        return openstack.connect()
    except _api_errors() as error:
        raise _cloud_error(error, "reading the credentials") from None


def read_flavors(api: Any) -> list[Any]:
    """Every flavor the project may use (public and its private ones), with its extra specs."""
    try:
        return list(api.compute.flavors(details=True, get_extra_specs=True, is_public=None))
    except _api_errors() as error:
        raise _cloud_error(error, "reading the cloud's flavors") from None


def read_cloud(api: Any) -> tuple[list[dict[str, Any]], dict[str, str], list[dict[str, Any]]]:
    """(volumes, servers ID -> name, attachments) of the project, as the plain data `classify` reads."""
    from openstack import exceptions as sdk

    try:
        volumes = [{"id": volume.id, "name": volume.name, "status": volume.status, "size": volume.size,
                    "metadata": dict(volume.metadata or {}), "attachments": list(volume.attachments or []),
                    "availability_zone": volume.availability_zone, "created_at": volume.created_at}
                   for volume in api.block_storage.volumes(details=True)]
        servers = {server.id: server.name for server in api.compute.servers(details=False)}
        try:
            attachments = [{"id": attachment.id, "status": attachment.status, "instance": attachment.instance,
                            "volume_id": attachment.volume_id}
                           for attachment in api.block_storage.attachments(details=False)]
        except sdk.NotFoundException:
            attachments = []  # a Cinder older than 3.27: the volumes' own attachment lists are all there is
        # A server missing from the list may be one the list did not show (another project's, or a listing
        # limit): ask for each by ID before calling it gone.
        attached = {raw.get("server_id") for volume in volumes for raw in volume["attachments"]}
        attached |= {attachment["instance"] for attachment in attachments}
        for server_id in sorted(filter(None, attached - set(servers))):
            try:
                servers[server_id] = api.compute.get_server(server_id).name
            except sdk.NotFoundException:
                pass
    except _api_errors() as error:
        raise _cloud_error(error, "reading the project's volumes and servers") from None
    return volumes, servers, attachments


def delete_attachments(api: Any, attachment_ids: Iterable[str]) -> None:
    """Delete attachments through Cinder's attachments API (a project member may)."""
    for attachment_id in attachment_ids:
        try:
            api.block_storage.delete_attachment(attachment_id, ignore_missing=False)
        except _api_errors() as error:
            raise _cloud_error(error, f"deleting attachment {attachment_id}") from None


def delete_volumes(api: Any, volume_ids: Iterable[str], timeout: float = 600) -> list[str]:
    """Delete volumes once they are no longer attached (their servers were just deleted); the IDs not deleted,
    each with why."""
    import time

    from openstack import exceptions as sdk

    left = []
    for volume_id in volume_ids:
        deadline = time.monotonic() + timeout
        try:
            while True:
                volume = api.block_storage.get_volume(volume_id)
                if volume.status in ("available", "error"):
                    api.block_storage.delete_volume(volume_id, ignore_missing=True)
                    break
                if time.monotonic() > deadline:
                    left.append(f"{volume_id}: still {volume.status} after {timeout:.0f} s")
                    break
                time.sleep(2)
        except sdk.NotFoundException:
            continue  # already gone
        except _api_errors() as error:
            left.append(str(_cloud_error(error, f"deleting volume {volume_id}")))
    return left
