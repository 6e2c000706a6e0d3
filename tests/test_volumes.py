"""hubctl volumes: the inventory's reading of Cinder's and Nova's answers, its flags, --fix, and the CLI around it.

The answers below are shaped as the APIs return them (Cinder v3 `GET /volumes/detail`, `GET /attachments`, Nova
`GET /servers`), with the metadata keys the Cinder CSI driver sets; `read_cloud` gets them as openstacksdk
resources built from that same JSON.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from openstack import exceptions as sdk
from openstack.block_storage.v3.attachment import Attachment as SdkAttachment
from openstack.block_storage.v3.volume import Volume as SdkVolume
from openstack.compute.v2.server import Server as SdkServer
from typer.testing import CliRunner

import hubctl.__main__ as cli
from config.loader import parse
from hubctl import volumes as inventory
from render import naming

from .conftest import cilogon_auth, stack_data
from .fake_kubernetes import FakeKubernetes

HUB = "dev-hub"
CONTROL_PLANE = "6f1c0a34-8d4e-4c57-9a3b-1d2e3f405060"
WORKER = "0b9e2c51-3f6a-4e8d-8c7b-a1b2c3d4e5f6"
GONE_WORKER = "dead0000-1111-4222-8333-444455556666"  # a replaced worker: Nova has no such server any more
OTHER_PROJECT_SERVER = "a0a0a0a0-b1b1-4c2c-8d3d-e4e4e4e4e4e4"  # not in the list, found by ID


def hub_config(**auth: list[str]):
    """The dev hub with CILogon logins, whose usernames are email addresses (as some of the names below)."""
    data = stack_data("dev")
    data["auth"] = cilogon_auth(**auth)
    return parse(data, "Pulumi.dev.yaml", offline=True)


CONFIG = hub_config(adminUsers=["hubadmin"], allowedUsers=["student1", "Jane.Doe@example.org", "old.user"])


def attached(volume_id: str, server_id: str, attachment_id: str, device: str = "/dev/vdb") -> dict[str, Any]:
    """One entry of a volume's `attachments` as Cinder shows it (`id` is the volume's ID, for history's sake)."""
    return {"id": volume_id, "attachment_id": attachment_id, "volume_id": volume_id, "server_id": server_id,
            "host_name": None, "device": device, "attached_at": "2026-11-30T10:12:03.000000"}


def volume(volume_id: str, name: str, status: str, size: int, *, metadata: dict[str, str] | None = None,
           attachments: list[dict[str, Any]] | None = None, description: str = "") -> dict[str, Any]:
    return {"id": volume_id, "name": name, "status": status, "size": size, "metadata": metadata or {},
            "attachments": attachments or [], "description": description, "availability_zone": "nova",
            "bootable": "false", "volume_type": "__DEFAULT__", "multiattach": False,
            "os-vol-tenant-attr:tenant_id": "0c0ffee0c0ffee0c0ffee0c0ffee0c0f",
            "created_at": "2026-11-02T09:00:00.000000", "updated_at": "2026-11-30T10:12:03.000000"}


def csi(volume_id: str, cluster: str, claim: str, status: str, size: int = 10, namespace: str = "jhub",
        attachments: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A volume as the Cinder CSI driver creates it: named after its PV, with the cluster and the claim."""
    pv = f"pvc-7c1d4f0e-9a2b-4e6f-8a8b-{volume_id[-12:]}"
    return volume(volume_id, pv, status, size, attachments=attachments,
                  description="Created by OpenStack Cinder CSI driver",
                  metadata={"cinder.csi.openstack.org/cluster": cluster, "csi.storage.k8s.io/pvc/name": claim,
                            "csi.storage.k8s.io/pvc/namespace": namespace, "csi.storage.k8s.io/pv/name": pv})


SHARED = "11111111-0000-4000-8000-000000000001"
STATE = "11111111-0000-4000-8000-000000000002"
HUB_DB = "11111111-0000-4000-8000-000000000003"
STUDENT = "11111111-0000-4000-8000-000000000004"
JANE = "11111111-0000-4000-8000-000000000005"
OLD_USER = "11111111-0000-4000-8000-000000000006"  # stuck "reserved" by an attach that never finished
ADMIN_STALE = "11111111-0000-4000-8000-000000000007"  # in-use on a server that is gone
STRANGER = "11111111-0000-4000-8000-000000000008"  # a claim of a user the config does not name
DETACHING = "11111111-0000-4000-8000-000000000009"  # detaching from a live worker
ERROR_DELETING = "11111111-0000-4000-8000-00000000000a"
ELSEWHERE = "11111111-0000-4000-8000-00000000000b"  # attached to a server the list did not show

VOLUMES = [
    volume(SHARED, f"{HUB}-shared-data", "in-use", 100,
           attachments=[attached(SHARED, CONTROL_PLANE, "a0000000-0000-4000-8000-000000000001")],
           description=f"NFS share of the hub {HUB}: user data, kept when the cluster is torn down"),
    volume(STATE, f"{HUB}-k3s-state", "in-use", 5,
           attachments=[attached(STATE, CONTROL_PLANE, "a0000000-0000-4000-8000-000000000002", "/dev/vdc")],
           description=f"k3s datastore and certificates of the hub {HUB}: the cluster itself, kept when its "
                       "servers are replaced or torn down"),
    csi(HUB_DB, HUB, "hub-db-dir", "in-use", 1,
        attachments=[attached(HUB_DB, CONTROL_PLANE, "a0000000-0000-4000-8000-000000000003", "/dev/vdd")]),
    csi(STUDENT, HUB, "claim-student1", "in-use",
        attachments=[attached(STUDENT, WORKER, "a0000000-0000-4000-8000-000000000004")]),
    csi(JANE, HUB, naming.home_claim_name("Jane.Doe@example.org"), "available"),
    csi(OLD_USER, HUB, "claim-old-2euser", "reserved"),  # Cinder shows no attachment on a reserved volume
    csi(ADMIN_STALE, HUB, "claim-hubadmin", "in-use",
        attachments=[attached(ADMIN_STALE, GONE_WORKER, "a0000000-0000-4000-8000-000000000007")]),
    csi(STRANGER, HUB, "claim-someone", "available"),
    csi(DETACHING, HUB, "claim-x-1st-student---1a2b3c4d", "detaching",
        attachments=[attached(DETACHING, WORKER, "a0000000-0000-4000-8000-000000000009")]),
    csi(ERROR_DELETING, HUB, "claim-student1--gpu", "error_deleting"),
    csi(ELSEWHERE, HUB, "claim-student2", "in-use",
        attachments=[attached(ELSEWHERE, OTHER_PROJECT_SERVER, "a0000000-0000-4000-8000-00000000000b")]),
    # Not this hub's: another hub's share and homes, look-alike names, a boot volume, a bare volume.
    volume("22222222-0000-4000-8000-000000000001", "prod-hub-shared-data", "available", 300),
    volume("22222222-0000-4000-8000-000000000002", f"{HUB}-shared-data-backup", "available", 100),
    volume("22222222-0000-4000-8000-000000000003", f"old-{HUB}-k3s-state", "available", 5),
    csi("22222222-0000-4000-8000-000000000004", "prod-hub", "claim-student1", "available"),
    csi("22222222-0000-4000-8000-000000000005", f"{HUB}-old", "hub-db-dir", "available"),
    volume("22222222-0000-4000-8000-000000000006", "", "in-use", 20,
           attachments=[attached("22222222-0000-4000-8000-000000000006", CONTROL_PLANE,
                                 "a0000000-0000-4000-8000-000000000010", "/dev/vda")]),
    volume("22222222-0000-4000-8000-000000000007", "scratch", "available", 1),
]
# Nova's GET /servers (no details): the hub's control plane and one worker; the old worker is gone.
SERVERS = {CONTROL_PLANE: HUB, WORKER: f"{HUB}-worker-2"}
# Cinder's GET /attachments (3.27+): also the attachments a volume does not show, such as a reserved one.
ATTACHMENTS = [
    {"id": "a0000000-0000-4000-8000-000000000001", "status": "attached", "instance": CONTROL_PLANE,
     "volume_id": SHARED},
    {"id": "a0000000-0000-4000-8000-000000000006", "status": "reserved", "instance": GONE_WORKER,
     "volume_id": OLD_USER},
    {"id": "a0000000-0000-4000-8000-000000000007", "status": "attached", "instance": GONE_WORKER,
     "volume_id": ADMIN_STALE},
    {"id": "a0000000-0000-4000-8000-000000000009", "status": "detaching", "instance": WORKER,
     "volume_id": DETACHING},
]


def rows_by_id(servers: dict[str, str] | None = None) -> dict[str, inventory.VolumeRow]:
    servers = {**SERVERS, OTHER_PROJECT_SERVER: "lab-vm"} if servers is None else servers
    return {row.id: row for row in inventory.classify(VOLUMES, servers, CONFIG, ATTACHMENTS)}


def test_lists_every_volume_of_the_hub_and_none_of_another():
    assert set(rows_by_id()) == {SHARED, STATE, HUB_DB, STUDENT, JANE, OLD_USER, ADMIN_STALE, STRANGER, DETACHING,
                                 ERROR_DELETING, ELSEWHERE}


def test_roles_claims_and_owners():
    rows = rows_by_id()
    described = {volume_id: (row.role, row.claim, row.user) for volume_id, row in rows.items()}
    assert described == {
        SHARED: ("shared data", None, None),
        STATE: ("k3s state", None, None),
        HUB_DB: ("hub database", "jhub/hub-db-dir", None),
        STUDENT: ("home", "jhub/claim-student1", "student1"),
        # An e-mail address is hashed by the safe scheme: only the config's list tells whose it is.
        JANE: ("home", f"jhub/{naming.home_claim_name('Jane.Doe@example.org')}", "Jane.Doe@example.org"),
        # Made before KubeSpawner 7 ("escape" scheme), still this user's claim (remember_pvc_name).
        OLD_USER: ("home", "jhub/claim-old-2euser", "old.user"),
        ADMIN_STALE: ("home", "jhub/claim-hubadmin", "hubadmin"),
        STRANGER: ("home", "jhub/claim-someone", "someone"),
        DETACHING: ("home", "jhub/claim-x-1st-student---1a2b3c4d", None),
        ERROR_DELETING: ("home", "jhub/claim-student1--gpu", "student1"),
        ELSEWHERE: ("home", "jhub/claim-student2", "student2"),
    }
    assert rows[OLD_USER].user_note == "config, name from KubeSpawner before 7"
    assert rows[STRANGER].user_note == "from the claim name; not in the config"
    assert "hashed name" in rows[DETACHING].user_note and "'x-1st-student'" in rows[DETACHING].user_note
    assert "named server 'gpu'" in rows[ERROR_DELETING].user_note
    # Listed in a fixed order: the hub's own volumes first, then homes by user.
    assert [row.role for row in inventory.classify(VOLUMES, SERVERS, CONFIG, ATTACHMENTS)][:3] == [
        "shared data", "k3s state", "hub database"]


def test_size_status_and_attachments():
    rows = rows_by_id()
    assert (rows[SHARED].status, rows[SHARED].size_gb) == ("in-use", 100)
    (shared,) = rows[SHARED].attachments
    assert (shared.server_name, shared.server_id, shared.server_gone) == (HUB, CONTROL_PLANE, False)
    assert rows[JANE].attachments == []
    # A reserved volume shows no attachment itself: the attachments API has it.
    (reserved,) = rows[OLD_USER].attachments
    assert (reserved.attachment_id, reserved.status, reserved.server_gone) == (
        "a0000000-0000-4000-8000-000000000006", "reserved", True)


def test_healthy_volumes_carry_no_flag():
    rows = rows_by_id()
    assert {volume_id for volume_id, row in rows.items() if not row.flags} == {
        SHARED, STATE, HUB_DB, STUDENT, JANE, STRANGER, ELSEWHERE}


def test_a_server_nova_does_not_know_is_gone():
    # Without the server found by ID, the volume attached to it is flagged: the list is what decides.
    rows = rows_by_id(servers=SERVERS)
    (attachment,) = rows[ELSEWHERE].attachments
    assert attachment.server_gone and attachment.describe() == f"server gone ({OTHER_PROJECT_SERVER})"


def test_stale_attachments_are_what_fix_deletes():
    rows = rows_by_id()
    stale = {(row.id, attachment.attachment_id) for row, attachment in inventory.stale_attachments(rows.values())}
    assert stale == {(OLD_USER, "a0000000-0000-4000-8000-000000000006"),
                     (ADMIN_STALE, "a0000000-0000-4000-8000-000000000007")}
    (flag,) = rows[ADMIN_STALE].flags
    assert flag.problem.startswith("stale attachment a0000000-0000-4000-8000-000000000007")
    assert flag.command == ("openstack --os-volume-api-version 3.27 volume attachment delete "
                            "a0000000-0000-4000-8000-000000000007")
    assert flag.by == "member"


def test_reserved_by_a_gone_server_is_fixed_by_the_member():
    (stale, stuck) = rows_by_id()[OLD_USER].flags
    assert stale.by == stuck.by == "member"
    assert "stuck 'reserved'" in stuck.problem and "'available'" in stuck.action


def test_states_only_an_admin_can_reset_print_the_request():
    requests = {row.id: flag.command for row, flag in inventory.admin_requests(rows_by_id().values())}
    assert requests == {
        # Still attached to a live worker: back to in-use, not available.
        DETACHING: f"openstack volume set --state in-use {DETACHING}",
        ERROR_DELETING: f"openstack volume set --state available {ERROR_DELETING}",
    }


@pytest.mark.parametrize("status, settled", [("reserved", "available"), ("attaching", "available"),
                                             ("error", "available"), ("maintenance", "available")])
def test_every_stuck_state_is_flagged(status: str, settled: str):
    stuck = csi("33333333-0000-4000-8000-000000000001", HUB, "claim-student1", status)
    (row,) = inventory.classify([stuck], SERVERS, CONFIG)
    (flag,) = row.flags
    assert f"'{status}'" in flag.problem
    assert (flag.by, flag.command) == ("admin", f"openstack volume set --state {settled} {row.id}")


def test_two_volumes_with_the_shared_data_name_are_flagged():
    twin = volume("33333333-0000-4000-8000-000000000002", f"{HUB}-shared-data", "available", 100)
    rows = {row.id: row for row in inventory.classify([VOLUMES[0], twin], SERVERS, CONFIG)}
    for row in rows.values():
        (flag,) = row.flags
        assert "2 volumes are named dev-hub-shared-data" in flag.problem
        assert "pulumi stack output sharedDataVolumeId" in flag.action


def test_a_csi_volume_without_a_recorded_claim_is_still_the_hubs():
    bare = csi("33333333-0000-4000-8000-000000000003", HUB, "", "available")
    for key in ("csi.storage.k8s.io/pvc/name", "csi.storage.k8s.io/pvc/namespace"):
        del bare["metadata"][key]
    (row,) = inventory.classify([bare], SERVERS, CONFIG)
    assert (row.role, row.claim, row.user) == ("other claim", None, None)


def test_table_names_what_is_wrong_and_the_commands():
    text = inventory.render_table(list(rows_by_id(servers=SERVERS).values()), HUB)
    lines = text.splitlines()
    assert lines[0].split() == ["ROLE", "USER", "/", "CLAIM", "NAME", "ID", "STATUS", "SIZE", "ATTACHED", "TO"]
    (admin_line,) = [line for line in lines if ADMIN_STALE in line and line.startswith("home")]
    assert "hubadmin (jhub/claim-hubadmin)" in admin_line and f"server gone ({GONE_WORKER})" in admin_line
    (reserved_line,) = [line for line in lines if OLD_USER in line and line.startswith("home")]
    assert "[reserved]" in reserved_line
    assert f"openstack volume set --state available {ERROR_DELETING}   # cloud admin only" in text
    problems = sum(len(row.flags) for row in rows_by_id(servers=SERVERS).values())
    assert f"{problems} problems:" in text
    assert "jhub/claim-someone: from the claim name; not in the config" in text
    assert inventory.render_table([], HUB) == "no volume of the hub dev-hub in this project"


# ---------------------------------------------------------------------------------- the openstacksdk layer


class FakeApi:
    """The parts of an openstacksdk Connection that hubctl volumes uses, answering with real sdk resources."""

    def __init__(self, volumes: list[dict], servers: dict[str, str], attachments: list[dict] | None,
                 findable: dict[str, str] | None = None) -> None:
        self.deleted: list[str] = []
        self.deleted_volumes: list[str] = []
        self.block_storage = self
        self.compute = self
        self._volumes, self._servers, self._attachments = volumes, servers, attachments
        self._findable = findable or {}

    def volumes(self, details: bool = True):
        return [SdkVolume.existing(**copy.deepcopy(raw)) for raw in self._volumes]

    def attachments(self, details: bool = True):
        if self._attachments is None:
            raise sdk.NotFoundException("404: no /attachments before 3.27")
        return [SdkAttachment.existing(**raw) for raw in self._attachments]

    def servers(self, details: bool = True):
        return [SdkServer.existing(id=server_id, name=name) for server_id, name in self._servers.items()]

    def get_server(self, server_id: str):
        if server_id not in self._findable:
            raise sdk.NotFoundException(f"No Server found for {server_id}")
        return SdkServer.existing(id=server_id, name=self._findable[server_id])

    def delete_attachment(self, attachment_id: str, ignore_missing: bool = True):
        self.deleted.append(attachment_id)

    def get_volume(self, volume_id: str):
        (raw,) = [raw for raw in self._volumes if raw["id"] == volume_id]
        return SdkVolume.existing(**copy.deepcopy(raw))

    def delete_volume(self, volume_id: str, ignore_missing: bool = True):
        self.deleted_volumes.append(volume_id)


def test_read_cloud_gives_classify_the_apis_data():
    api = FakeApi(VOLUMES, SERVERS, ATTACHMENTS, findable={OTHER_PROJECT_SERVER: "lab-vm"})
    volumes, servers, attachments = inventory.read_cloud(api)
    assert servers == {**SERVERS, OTHER_PROJECT_SERVER: "lab-vm"}  # found by ID; GONE_WORKER is not
    assert attachments == ATTACHMENTS
    by_id = {raw["id"]: raw for raw in volumes}
    assert by_id[HUB_DB]["metadata"]["csi.storage.k8s.io/pvc/name"] == "hub-db-dir"
    assert by_id[STUDENT]["attachments"][0]["server_id"] == WORKER
    rows = inventory.classify(volumes, servers, CONFIG, attachments)
    assert {row.id: (row.role, row.user, row.status) for row in rows} == {
        row.id: (row.role, row.user, row.status) for row in rows_by_id().values()}


def test_read_cloud_without_the_attachments_api():
    volumes, _, attachments = inventory.read_cloud(FakeApi(VOLUMES, SERVERS, None))
    assert attachments == []
    rows = {row.id: row for row in inventory.classify(volumes, SERVERS, CONFIG, attachments)}
    assert rows[OLD_USER].attachments == []  # the reserved attachment is then invisible...
    assert rows[OLD_USER].flags[0].by == "admin"  # ...and the way out is the admin's reset


# ---------------------------------------------------------------------------------------------------- the CLI


@pytest.fixture
def cloud(monkeypatch: pytest.MonkeyPatch) -> FakeApi:
    api = FakeApi(VOLUMES, SERVERS, ATTACHMENTS)
    monkeypatch.setattr(inventory, "connect", lambda: api)
    return api


def run(*args: str, answer: str | None = None):
    return CliRunner().invoke(cli.app, ["volumes", "--stack", "dev", *args], input=answer)


def test_cli_table_and_equivalent_commands(cloud: FakeApi):
    result = run()
    assert result.exit_code == 0, result.output
    assert "volumes of the hub dev-hub (stack dev)" in result.output
    assert "openstack volume list --long --property cinder.csi.openstack.org/cluster=dev-hub" in result.output
    assert cloud.deleted == []


def test_cli_json_is_one_document(cloud: FakeApi):
    result = run("--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["hub"] == "dev-hub"
    assert {entry["id"] for entry in document["volumes"]} == set(rows_by_id())
    assert set(document["staleAttachments"]) == {"a0000000-0000-4000-8000-000000000006",
                                                 "a0000000-0000-4000-8000-000000000007",
                                                 "a0000000-0000-4000-8000-00000000000b"}
    home = next(entry for entry in document["volumes"] if entry["id"] == ADMIN_STALE)
    assert home["attachments"][0]["server_gone"] is True and home["user"] == "hubadmin"


def test_cli_fix_asks_and_deletes_only_stale_attachments(cloud: FakeApi):
    declined = run("--fix", answer="n\n")
    assert declined.exit_code == 1 and "nothing deleted" in declined.output
    assert cloud.deleted == []
    result = run("--fix", answer="y\n")
    assert result.exit_code == 0, result.output
    # OTHER_PROJECT_SERVER is not findable in this fake, so its attachment is stale too.
    assert sorted(cloud.deleted) == ["a0000000-0000-4000-8000-000000000006", "a0000000-0000-4000-8000-000000000007",
                                     "a0000000-0000-4000-8000-00000000000b"]
    assert f"send them `openstack volume set --state available {ERROR_DELETING}`" in result.output
    assert "openstack --os-volume-api-version 3.27 volume attachment delete " \
           "a0000000-0000-4000-8000-000000000007" in result.output


def test_cli_fix_yes_does_not_ask(cloud: FakeApi):
    result = run("--fix", "--yes", "--json")
    assert result.exit_code == 0, result.output
    json.loads(result.stdout)  # the messages of --fix went to stderr
    assert len(cloud.deleted) == 3


def test_cli_cloud_error_is_one_line(monkeypatch: pytest.MonkeyPatch):
    def unreachable():
        raise inventory.CloudError("cannot reach the cloud while reading the project's volumes and servers: "
                                   "Unable to establish connection to http://127.0.0.1:9/v3/auth/tokens")
    monkeypatch.setattr(inventory, "connect", unreachable)
    result = run()
    assert result.exit_code == 1
    assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.output
    assert result.stderr.startswith("hubctl volumes: cannot reach the cloud")


def test_missing_credentials_are_named(monkeypatch: pytest.MonkeyPatch):
    for variable in ("OS_CLOUD", "OS_AUTH_URL", "OS_CLIENT_CONFIG_FILE", "OS_USERNAME", "OS_PASSWORD",
                     "OS_APPLICATION_CREDENTIAL_ID", "OS_TOKEN"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("HOME", "/nonexistent")  # no ~/.config/openstack/clouds.yaml
    with pytest.raises(inventory.CloudError, match="no OpenStack credentials .*OS_CLOUD"):
        inventory.read_cloud(inventory.connect())


def test_a_reservation_by_a_live_server_resets_to_available():
    # An attach that a live server began and never finished holds no data path: available, not in-use.
    stuck = csi("33333333-0000-4000-8000-000000000004", HUB, "claim-student1", "reserved")
    reservation = {"id": "a0000000-0000-4000-8000-000000000099", "status": "reserved", "instance": WORKER,
                   "volume_id": stuck["id"]}
    (row,) = inventory.classify([stuck], SERVERS, CONFIG, [reservation])
    (flag,) = row.flags
    assert "'reserved' (attachment to dev-hub-worker-2" in flag.problem
    assert flag.command == f"openstack volume set --state available {stuck['id']}"


def test_an_os_cloud_no_clouds_yaml_defines_is_named(monkeypatch: pytest.MonkeyPatch):
    for variable in ("OS_AUTH_URL", "OS_CLIENT_CONFIG_FILE", "OS_USERNAME", "OS_PASSWORD"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("HOME", "/nonexistent")
    monkeypatch.setenv("OS_CLOUD", "nosuch")
    with pytest.raises(inventory.CloudError, match="OS_CLOUD=nosuch, but no clouds.yaml defines it"):
        inventory.read_cloud(inventory.connect())


# --------------------------------------------------------------------------------------------------- --adopt


def _adoptions(volumes: list[dict[str, Any]] = VOLUMES, config=CONFIG) -> dict[str, inventory.Adoption]:
    rows = inventory.classify(volumes, {**SERVERS, OTHER_PROJECT_SERVER: "lab-vm"}, config, ATTACHMENTS)
    return {adoption.claim: adoption for adoption in inventory.adoptions(rows, config)}


def test_adopt_takes_each_claims_one_available_volume_and_says_why_not_the_others():
    decided = _adoptions()
    jane = naming.home_claim_name("Jane.Doe@example.org")
    adopted = {claim: adoption.entry for claim, adoption in decided.items() if adoption.entry}
    assert adopted == {jane: {"volumeId": JANE, "claim": jane, "sizeGb": 10},
                       "claim-someone": {"volumeId": STRANGER, "claim": "claim-someone", "sizeGb": 10}}
    # Attached, reserved, detaching or broken: not adopted, each with its reason.
    assert "is in-use, attached to dev-hub (" in decided["hub-db-dir"].refused
    assert "is reserved" in decided["claim-old-2euser"].refused
    assert "server gone" in decided["claim-hubadmin"].refused
    assert "is error_deleting" in decided["claim-student1--gpu"].refused
    assert all("only a volume attached to no server can be adopted" in decided[claim].refused
               for claim in ("hub-db-dir", "claim-student1", "claim-old-2euser", "claim-hubadmin"))
    # Volumes of another hub are never candidates, nor are the shared data and state volumes.
    assert set(decided) == {"hub-db-dir", "claim-student1", jane, "claim-old-2euser", "claim-hubadmin",
                            "claim-someone", "claim-x-1st-student---1a2b3c4d", "claim-student1--gpu",
                            "claim-student2"}


def test_adopt_leaves_a_claim_with_several_volumes_to_the_admin_and_skips_what_is_adopted():
    twin = "11111111-0000-4000-8000-0000000000f1"
    volumes = [*VOLUMES, csi(twin, HUB, "claim-someone", "available", size=20)]
    refused = _adoptions(volumes)["claim-someone"]
    assert refused.entry is None and refused.refused.startswith("2 volumes held claim-someone: ")
    assert STRANGER in refused.refused and f"{twin} (20 GiB, created 2026-11-02T09:00:00.000000)" in refused.refused
    data = stack_data("dev")
    data["userStorage"]["adopt"] = [{"volumeId": twin, "claim": "claim-someone", "sizeGb": 20}]
    config = parse(data, "Pulumi.dev.yaml", offline=True)
    again = _adoptions(volumes, config)["claim-someone"]
    assert again.entry is None and "gives claim-someone a volume already" in again.refused


def test_adopt_names_the_zone_only_where_there_are_several():
    elsewhere = copy.deepcopy(VOLUMES)
    next(volume for volume in elsewhere if volume["id"] == JANE)["availability_zone"] = "zone-b"
    entries = {claim: adoption.entry for claim, adoption in _adoptions(elsewhere).items() if adoption.entry}
    assert entries[naming.home_claim_name("Jane.Doe@example.org")]["zone"] == "zone-b"
    assert entries["claim-someone"]["zone"] == "nova"
    assert all("zone" not in adoption.entry for adoption in _adoptions().values() if adoption.entry)


def _pulumi_config_set(data: dict[str, Any], path: str, value: str) -> None:
    """`pulumi config set --path` as the CLI does it: missing maps and list items made on the way, integers as
    numbers."""
    from config.errors import split_path

    *parents, last = split_path(path)
    node: Any = data
    for step, following in zip(parents, [*parents[1:], last]):
        empty: Any = [] if isinstance(following, int) else {}
        if isinstance(step, int):
            while len(node) <= step:
                node.append(empty)
            node = node[step]
        else:
            node = node.setdefault(step, empty)
    if isinstance(last, int):
        while len(node) <= last:
            node.append(None)
    node[last] = int(value) if value.isdigit() else value


def test_cli_adopt_writes_what_the_program_serves(cloud: FakeApi, tmp_path, monkeypatch: pytest.MonkeyPatch):
    """--adopt runs `pulumi config set --path` for each field; the stack config those commands make is what the
    program reads: a PersistentVolume pre-bound to each adopted volume's claim."""
    from hubctl.plan import run_program

    calls = tmp_path / "calls.jsonl"
    fake = tmp_path / "bin" / "pulumi"
    fake.parent.mkdir()
    fake.write_text(f'#!/usr/bin/env python3\nimport json, sys\nopen("{calls}", "a").write(json.dumps(sys.argv[1:]) + "\\n")\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}:/usr/bin:/bin")
    result = run("--adopt")
    assert result.exit_code == 0, result.output
    recorded = [json.loads(line) for line in calls.read_text().splitlines()]
    assert {tuple(call[:4]) for call in recorded} == {("config", "set", "--path", call[3]) for call in recorded}
    assert all(call[-2:] == ["--stack", "dev"] for call in recorded)
    assert "pulumi config set --path 'hub.userStorage.adopt[0].volumeId' " in result.output
    data = {"hub": stack_data("dev")}
    for call in recorded:
        _pulumi_config_set(data, call[3], call[4])
    config = parse(data["hub"], "Pulumi.dev.yaml", offline=True)
    assert {volume.volume_id for volume in config.user_storage.adopt} == {JANE, STRANGER}
    plan = run_program(config, "dev")
    bound = {resource.revealed["spec"]["csi"]["volumeHandle"]: resource.revealed["spec"]["claimRef"]["name"]
             for resource in plan.by_type("kubernetes:core/v1:PersistentVolume")
             if resource.revealed["metadata"]["name"].startswith("hubstack-adopted-")}
    assert bound == {JANE: naming.home_claim_name("Jane.Doe@example.org"), STRANGER: "claim-someone"}


def test_cli_adopt_without_pulumi_prints_the_commands(cloud: FakeApi, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    result = run("--adopt")
    assert result.exit_code == 1
    assert "no `pulumi` on PATH; run these in the project's folder:" in result.output
    assert f"pulumi config set --path 'hub.userStorage.adopt[1].volumeId' " in result.output


def _stack_outputs(tmp_path, monkeypatch: pytest.MonkeyPatch, outputs: dict) -> None:
    """A `pulumi` on PATH whose `stack output` gives `outputs`."""
    (tmp_path / "outputs.json").write_text(json.dumps(outputs))
    (tmp_path / "pulumi").write_text(f'#!/bin/sh\n[ "$1 $2" = "stack output" ] && cat {tmp_path / "outputs.json"}\n')
    (tmp_path / "pulumi").chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")


def test_cli_delete_home_deletes_the_claim_then_its_volume_then_the_cinder_volume(
        cloud: FakeApi, tmp_path, monkeypatch: pytest.MonkeyPatch):
    # The dev stack names neither user: each is told from the claim's name, as the table shows.
    api = FakeKubernetes({"jhub/claim-someone": "pvc-someone", "jhub/claim-student1": "pvc-student1"})
    try:
        _stack_outputs(tmp_path, monkeypatch, {"kubeconfig": api.kubeconfig()})
        refused = run("--delete-home", "student1", "--yes")
        assert refused.exit_code == 1
        assert f"not deleted: {STUDENT} (jhub/claim-student1) is in-use, attached to" in refused.output
        assert "stop student1's server first" in refused.output
        assert api.requests == [] and cloud.deleted_volumes == []

        result = run("--delete-home", "someone", answer="y\n")
        assert result.exit_code == 0, result.output
        claim = "/api/v1/namespaces/jhub/persistentvolumeclaims/claim-someone"
        assert api.requests == [f"GET {claim}", f"DELETE {claim}", f"GET {claim}",
                                "DELETE /api/v1/persistentvolumes/pvc-someone",
                                "GET /api/v1/persistentvolumes/pvc-someone"]
        assert cloud.deleted_volumes == [STRANGER]
    finally:
        api.shutdown()


def test_cli_delete_home_with_the_cluster_down_deletes_nothing(cloud: FakeApi, tmp_path,
                                                                monkeypatch: pytest.MonkeyPatch):
    api = FakeKubernetes({})
    kubeconfig = api.kubeconfig()
    api.shutdown()
    api.server_close()
    _stack_outputs(tmp_path, monkeypatch, {"kubeconfig": kubeconfig})
    result = run("--delete-home", "someone", "--yes")
    assert result.exit_code == 1
    assert "cannot reach the cluster's API" in result.output and "nothing deleted in Cinder" in result.output
    assert cloud.deleted_volumes == []


def test_cli_delete_home_of_nobody_and_on_nfs(cloud: FakeApi, tmp_path, monkeypatch: pytest.MonkeyPatch):
    _stack_outputs(tmp_path, monkeypatch, {})
    result = run("--delete-home", "nobody", "--yes")
    assert result.exit_code == 1 and "no home of 'nobody' among the hub's volumes" in result.output
    nfs = tmp_path / "Pulumi.nfs.yaml"
    nfs.write_text(json.dumps({"config": {"hubstack:hub": {**stack_data("prod"), "userStorage": {"type": "nfs"}}}}))
    result = CliRunner().invoke(cli.app, ["volumes", "--config", str(nfs), "--delete-home", "someone", "--yes"])
    assert result.exit_code == 1
    assert "homes are on the NFS share: someone's home is the folder /export/shared/home/someone" in result.output
    assert cloud.deleted_volumes == []


def test_an_adopted_home_is_not_deleted_behind_the_programs_back():
    rows = rows_by_id()
    config = parse({**stack_data("dev"), "userStorage": {"type": "cinder", "adopt": [
        {"volumeId": JANE, "claim": naming.home_claim_name("Jane.Doe@example.org"), "sizeGb": 10}]}},
        offline=True, plaintext_secrets=True)
    (refusal,) = inventory.home_deletion_refusals([rows[JANE]], config)
    assert refusal.startswith(f"{JANE} is hub.userStorage.adopt[0]: remove that entry")
    assert inventory.home_deletion_refusals([rows[STRANGER]], config) == []
