"""What each everyday change does to a running hub, decided by the real providers' own diffs, with no cloud.

`settle` gives a stack a state as if `pulumi up` had succeeded with its config. It takes the update plan of a
preview (`--save-plan`: per resource the inputs and the outputs its provider planned, in the provider's own form,
secrets encrypted for the stack), writes it into a deployment as if carried out, with the offline plan's fakes for
what only a cloud would tell (IDs, addresses, the kubeconfig), imports it and plans again, until a preview of the
same config changes nothing. Each change is then previewed with `--refresh=false` against that state, so the
providers' Diff decides update or replace. `render_table` writes docs/changes.md from the results.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from config.errors import get_path, set_path

from .engine import Workspace
from .mocks import computed_outputs, resource_id
from .plan import SECRET_SIG, SIG, UNKNOWN

SETTLE_ROUNDS = 8

# Operations of `pulumi preview --json` steps that change something, in the order the table shows them.
OPS = ("create", "update", "replace", "delete")
_OP_OF_STEP = {"create": "create", "update": "update", "replace": "replace", "create-replacement": "replace",
               "delete-replaced": None, "delete": "delete", "same": None, "read": None, "refresh": None}

# What a resource is to a running hub when it is replaced or deleted: its loss costs users' data or the cluster's
# identity. By type; the control plane and the JupyterHub release by their names' roles.
HOLDS = {
    "kubernetes:core/v1:PersistentVolume": "binds users' data to the hub",
    "kubernetes:core/v1:PersistentVolumeClaim": "binds users' data to the hub",
    "openstack:networking/floatingIp:FloatingIp": "the hub's address and DNS name",
    "random:index/randomPassword:RandomPassword": "a join token of the cluster",
    "tls:index/selfSignedCert:SelfSignedCert": "a certificate authority of the cluster",
    "pulumi:providers:kubernetes": "every Kubernetes resource goes through it",
}
HOLDS_BY_ROLE = {
    ("openstack:blockstorage/volume:Volume", "-shared-data-volume-volume"): "the shared data volume: users' data",
    ("openstack:blockstorage/volume:Volume", "-state-volume"): "the cluster's datastore",
    ("tls:index/privateKey:PrivateKey", "-ca-key"): "the key of a certificate authority of the cluster",
    ("tls:index/privateKey:PrivateKey", "-service-account-key"): "signs every service account token",
    ("kubernetes:helm.sh/v3:Release", "-jupyterhub-release"): "holds the hub database (users, tokens, servers)",
}
# Replacements that cost neither data nor identity, and what carries the state over: (type, role) -> words.
CARRIED_OVER = {
    ("openstack:compute/instance:Instance", "-control-plane"):
        "the old one shuts down and lets go of its volumes; the new one boots with them and resumes the cluster "
        "(same CAs, datastore, objects)",
    ("openstack:compute/instance:Instance", "-nfs-server"):
        "the old one shuts down and lets go of the shared data volume; the new one boots with it",
}
# A Kubernetes object's update is decided, in the end, by the API server (immutable fields), which no preview here
# can ask: the table says so rather than guess.
NEEDS_A_CLUSTER = "needs a cluster: the API server decides whether this changes in place"

# Updates that the provider does in place but that interrupt or destroy: (type, property) -> what happens.
DISRUPTIVE_UPDATES = {
    ("openstack:compute/instance:Instance", "flavorName"): "resize: the server reboots",
    ("openstack:compute/instance:Instance", "flavorId"): "resize: the server reboots",
    ("openstack:compute/instance:Instance", "imageId"): "rebuild: the root disk is wiped",
    ("openstack:compute/instance:Instance", "imageName"): "rebuild: the root disk is wiped",
    ("openstack:compute/instance:Instance", "metadata"):
        "metadata: the server's sync timer applies it within minutes (admins' keys; k3s version, control plane "
        "first; the NFS server's address)",
    ("openstack:blockstorage/volume:Volume", "size"):
        "extend, online: the serving server's sync timer grows the filesystem within minutes",
    ("kubernetes:helm.sh/v3:Release", "values"): "helm upgrade: pods whose spec changes restart",
    ("kubernetes:helm.sh/v3:Release", "version"): "helm upgrade: pods whose spec changes restart",
    ("kubernetes:helm.sh/v3:Release", "chart"): "helm upgrade: pods whose spec changes restart",
}


class NotSettled(RuntimeError):
    """The unchanged config does not preview as no change: no change preview against the state would count."""


@dataclass(frozen=True)
class Change:
    """An everyday change an admin makes to a running hub, as an edit of the base stack's `hubstack:hub`."""

    title: str
    edit: Callable[[dict[str, Any]], None]
    # Secrets the changed hub needs with real values (a TLS key must match its certificate): path -> value.
    secrets: Callable[[dict[str, Any]], dict[str, str]] = field(default=lambda hub: {})
    # Chart archives no source here gives, each stood in for by one that is (archive name -> stand-in's name).
    stand_ins: dict[str, str] = field(default_factory=dict)


@dataclass
class Step:
    op: str
    type: str
    name: str
    keys: list[str]  # properties that differ (update) or force the replacement (replace)
    retained: bool = False  # retainOnDelete: a delete takes it out of the stack and leaves it in the cloud

    @property
    def short_type(self) -> str:
        if self.type.startswith("pulumi:providers:"):
            return f"provider ({self.type.rsplit(':', 1)[-1]})"
        return self.type.rsplit(":", 1)[-1]


@dataclass
class Outcome:
    change: Change
    steps: list[Step]
    diagnostics: list[str]
    refused: bool  # the preview refuses it (a protected resource would go)


def _name_of(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def _type_of(urn: str) -> str:
    return urn.split("::")[2].rsplit("$", 1)[-1]


# What the update plan's goal of a resource carries over into its state as it is.
_GOAL_FIELDS = ("type", "custom", "parent", "protect", "dependencies", "provider", "propertyDependencies",
                "additionalSecretOutputs", "customTimeouts", "retainOnDelete", "deleteBeforeReplace",
                "replaceOnChanges", "ignoreChanges", "aliases", "deletedWith")


# Every fake key is this one, so that every fake certificate matches every fake key (a kubeconfig's client
# certificate and key are checked against each other when the Kubernetes provider loads it).
_FAKE_KEY_SEED = hashlib.sha256(b"hubstack change table").digest()
_FAKE_VALIDITY = ("2026-01-01T00:00:00Z", "2099-01-01T00:00:00Z")


@functools.lru_cache(maxsize=None)
def _parsed_outputs(type_: str, urn: str) -> dict[str, Any]:
    """Outputs a provider parses when it diffs, so a fake will not do: real values, the same on every call (an
    OpenSSH private key carries random check bytes, a certificate a serial number)."""
    if type_ == "openstack:networking/floatingIp:FloatingIp":
        # The kubeconfig the program composes points at the floating IP's port 6443: here nothing listens there, so
        # the Kubernetes provider's calls fail at once (and the table says "needs a cluster").
        return {"address": "127.0.0.1"}
    if type_ in ("tls:index/selfSignedCert:SelfSignedCert", "tls:index/locallySignedCert:LocallySignedCert"):
        # The provider compares the end of validity with the clock to plan a renewal: valid for long.
        return {"certPem": _fake_certificate(_name_of(urn)), "validityStartTime": _FAKE_VALIDITY[0],
                "validityEndTime": _FAKE_VALIDITY[1], "readyForRenewal": False}
    if type_ != "tls:index/privateKey:PrivateKey":
        return {}
    import base64

    from cryptography.hazmat.primitives import serialization

    key = _fake_key()
    pkcs8 = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()).decode()
    public = key.public_key()
    openssh = public.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    blob = base64.b64decode(openssh.split()[1])
    md5 = hashlib.md5(blob).hexdigest()
    return {
        "privateKeyPem": pkcs8,
        "privateKeyPemPkcs8": pkcs8,
        "privateKeyOpenssh": key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                               serialization.NoEncryption()).decode(),
        "publicKeyPem": public.public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo).decode(),
        "publicKeyOpenssh": openssh + "\n",
        "publicKeyFingerprintMd5": ":".join(md5[i:i + 2] for i in range(0, 32, 2)),
        "publicKeyFingerprintSha256": "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("="),
    }


def _fake_key() -> Any:
    from cryptography.hazmat.primitives.asymmetric import ed25519

    return ed25519.Ed25519PrivateKey.from_private_bytes(_FAKE_KEY_SEED)


def _fake_certificate(name: str) -> str:
    """A self-signed certificate of the fake key, named `name` (Ed25519 signatures are deterministic)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.x509.oid import NameOID

    key = _fake_key()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    start, end = (datetime.datetime.fromisoformat(moment.replace("Z", "+00:00")) for moment in _FAKE_VALIDITY)
    certificate = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                   .public_key(key.public_key()).serial_number(1).not_valid_before(start).not_valid_after(end)
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                   .sign(key, None))
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


class FakeState:
    """A deployment as if `pulumi up` had carried out an update plan: each resource that the plan creates,
    updates or replaces gets the plan's inputs and the outputs its provider planned; what the provider could
    only know after the call (IDs, addresses, generated keys) gets the offline plan's fakes."""

    def __init__(self, schemas: dict[str, Any], retained: frozenset[str] = frozenset()) -> None:
        self.schemas = schemas
        # URNs registered with retainOnDelete, which an update plan's goals do not carry (a preview's steps do).
        self.retained = retained
        self.resources: dict[str, dict[str, Any]] = {}

    def apply(self, plan: dict[str, Any]) -> list[str]:
        """Take the planned changes into the state; the URNs that changed."""
        changed = []
        for urn, resource_plan in plan["resourcePlans"].items():
            steps = resource_plan.get("steps") or []
            if steps == ["same"]:
                continue
            changed.append(urn)
            if steps == ["delete"]:
                self.resources.pop(urn, None)
                continue
            goal = resource_plan["goal"]
            old = self.resources.get(urn, {})
            state = {"urn": urn, **{key: goal[key] for key in _GOAL_FIELDS if key in goal}}
            if urn in self.retained:
                state["retainOnDelete"] = True
            diff = goal.get("inputDiff") or {}
            inputs = {**old.get("inputs", {}), **diff.get("adds", {}), **diff.get("updates", {})}
            for key in diff.get("deletes", []):
                inputs.pop(key, None)
            state["inputs"] = inputs
            state["outputs"] = resource_plan.get("state") or {}
            if state["type"].startswith("kubernetes:"):
                # What the provider did not plan (the cluster is out of its reach) is what it was given, as the
                # API returns it; an object's state also keeps the inputs it was applied from.
                state["outputs"] = {**_without_defaults(inputs), **state["outputs"]}
                if "apiVersion" in inputs:
                    state["outputs"]["__inputs"] = inputs
            if state.get("custom"):
                state["id"] = old.get("id") or self._fake_id(state["type"], urn)
            self.resources[urn] = state
        return changed

    def deployment(self, base: dict[str, Any]) -> dict[str, Any]:
        for urn in sorted({state["provider"].rsplit("::", 1)[0] for state in self.resources.values()
                           if state.get("provider")} - set(self.resources)):
            self.resources[urn] = self._default_provider(urn)
        ids = {urn: state.get("id") for urn, state in self.resources.items()}
        resources = []
        for state in self._in_order():
            state = copy.deepcopy(state)
            # A read (the stack's reference to itself) has no goal in an update plan and is read again by every
            # preview: the state holds no entry for it, so nothing may depend on one.
            state["dependencies"] = [urn for urn in state.get("dependencies", []) if urn in self.resources]
            state["propertyDependencies"] = {
                key: [urn for urn in urns if urn in self.resources]
                for key, urns in state.get("propertyDependencies", {}).items()
            }
            if state.get("provider"):
                provider_urn = state["provider"].rsplit("::", 1)[0]
                state["provider"] = f"{provider_urn}::{ids[provider_urn]}"
            resources.append(state)
        document = copy.deepcopy(base)
        document["deployment"]["resources"] = resources
        return document

    def _in_order(self) -> list[dict[str, Any]]:
        """The resources, each after its parent, its provider and its dependencies (a plan lists them by URN)."""
        ordered: list[dict[str, Any]] = []
        placed: set[str] = set()

        def place(urn: str) -> None:
            if urn in placed or urn not in self.resources:
                return
            placed.add(urn)
            state = self.resources[urn]
            before = [state.get("parent"), (state.get("provider") or "").rsplit("::", 1)[0],
                      *state.get("dependencies", []), *sum(state.get("propertyDependencies", {}).values(), [])]
            for other in before:
                if other:
                    place(other)
            ordered.append(state)

        for urn in self.resources:
            place(urn)
        return ordered

    def fill(self, deployment: dict[str, Any]) -> dict[str, Any]:
        """`deployment` (exported with --show-secrets) with every unknown replaced by a fake: the offline plan's
        where it has one, else a value of the type the provider's schema gives."""
        for state in deployment["deployment"].get("resources", []):
            if state["type"] == "pulumi:pulumi:Stack":
                # The stack's outputs, as its reference to itself reads them back: after a real `pulumi up` none
                # is unknown, and one unknown would make the whole reference unknown.
                state["outputs"] = {key: value for key, value in (state.get("outputs") or {}).items()
                                    if not _unknown(_revealed(value))}
            if not state.get("custom"):
                continue
            urn, type_ = state["urn"], state["type"]
            name = _name_of(urn)
            inputs = state.get("inputs") or {}
            known = {**computed_outputs(type_, name, inputs), "id": state["id"]}
            state["inputs"] = self._fill(inputs, self._spec(type_, inputs=True), {})
            outputs = self._fill(state.get("outputs") or {}, self._spec(type_, inputs=False), known)
            # Whatever the provider planned for these, ours stand: the same on every round.
            for key, value in _parsed_outputs(type_, urn).items():
                outputs[key] = _as_secret(value) if _is_secret(outputs.get(key)) else value
            state["outputs"] = outputs
            self.resources[urn]["inputs"], self.resources[urn]["outputs"] = state["inputs"], state["outputs"]
        return deployment

    def _fill(self, values: dict[str, Any], spec: dict[str, Any], known: dict[str, Any]) -> dict[str, Any]:
        filled = {}
        for key, value in values.items():
            if key in known and _unknown(_revealed(value)):
                filled[key] = _as_secret(known[key]) if _is_secret(value) else known[key]
            else:
                filled[key] = self._known(value, spec.get(key, {}))
        return filled

    def _known(self, value: Any, spec: dict[str, Any]) -> Any:
        """`value` with every unknown replaced by a fake of the type its schema gives."""
        if "$ref" in spec and spec["$ref"].startswith("#/types/"):
            token = spec["$ref"][len("#/types/"):]
            spec = self.schemas.get(token.split(":")[0], {}).get("types", {}).get(token, {})
        if _is_secret(value):
            return _as_secret(self._known(_revealed(value), spec))
        if _unknown(value):
            kind = spec.get("type")
            return {"integer": 0, "number": 0, "boolean": False, "array": [], "object": {}}.get(kind, "fake")
        if isinstance(value, list):
            return [self._known(item, spec.get("items", {})) for item in value]
        if isinstance(value, dict):
            properties = spec.get("properties", {})
            return {key: self._known(item, properties.get(key, spec.get("additionalProperties", {})))
                    for key, item in value.items()}
        return value

    def _spec(self, type_: str, inputs: bool) -> dict[str, Any]:
        schema = self.schemas.get(type_.split(":")[0], {})
        if type_.startswith("pulumi:providers:"):
            return schema.get("config", {}).get("variables", {})
        resource = schema.get("resources", {}).get(type_, {})
        return resource.get("inputProperties" if inputs else "properties", {})

    def _default_provider(self, urn: str) -> dict[str, Any]:
        # The engine makes these itself and an update plan has no goal for them: one per package, at its version.
        type_ = _type_of(urn)
        version = self.schemas[type_.split(":")[-1]]["version"]
        return {"urn": urn, "custom": True, "type": type_, "id": self._fake_id(type_, urn),
                "inputs": {"version": version}, "outputs": {"version": version}}

    @staticmethod
    def _fake_id(type_: str, urn: str) -> str:
        if type_.startswith("pulumi:providers:"):
            return str(uuid.uuid5(uuid.NAMESPACE_URL, urn))
        return resource_id(type_, _name_of(urn))


def _without_defaults(value: Any) -> Any:
    # "__defaults" lists the inputs a provider's Check filled in; it is no output.
    if isinstance(value, dict):
        return {key: _without_defaults(item) for key, item in value.items() if key != "__defaults"}
    if isinstance(value, list):
        return [_without_defaults(item) for item in value]
    return value


def _unknown(value: Any) -> bool:
    return isinstance(value, str) and value == UNKNOWN


# Secrets as `pulumi stack export --show-secrets` writes them: the value's JSON text beside the secret marker.
def _is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SIG) == SECRET_SIG and "plaintext" in value


def _revealed(value: Any) -> Any:
    return json.loads(value["plaintext"]) if _is_secret(value) else value


def _as_secret(value: Any) -> dict[str, Any]:
    return {SIG: SECRET_SIG, "plaintext": json.dumps(value)}


def settle(workspace: Workspace) -> int:
    """Give the workspace's stack a state in which a preview of its own config changes nothing; the rounds taken."""
    base = json.loads(workspace.pulumi("stack", "export").stdout)
    retained = frozenset(step["urn"] for step in workspace.preview()["steps"]
                         if (step.get("newState") or {}).get("retainOnDelete"))
    state = FakeState(workspace.schemas(), retained)
    for round_ in range(1, SETTLE_ROUNDS + 1):
        changed = state.apply(workspace.update_plan())
        if not changed:
            return round_
        # Imported with the plan's ciphertexts, exported in clear to fill the unknowns, imported again.
        workspace.import_deployment(state.deployment(base))
        workspace.import_deployment(state.fill(json.loads(workspace.pulumi("stack", "export", "--show-secrets").stdout)))
    raise NotSettled(f"no settled state after {SETTLE_ROUNDS} previews; still changing:\n" + "\n".join(changed))


def steps_of(preview: dict[str, Any]) -> list[Step]:
    steps = []
    for step in preview.get("steps", []):
        op = _OP_OF_STEP.get(step["op"], step["op"])
        if op is None:
            continue
        urn = step["urn"]
        type_ = (step.get("newState") or step.get("oldState") or {}).get("type") or _type_of(urn)
        state = step.get("newState") or step.get("oldState") or {}
        # Components change nothing themselves; default providers are the engine's own.
        if not state.get("custom", True) or (type_.startswith("pulumi:providers:") and
                                             _name_of(urn).startswith("default")):
            continue
        keys = step.get("replaceReasons") if op == "replace" else step.get("diffReasons")
        retained = bool((step.get("oldState") or {}).get("retainOnDelete"))
        steps.append(Step(op, type_, _name_of(urn), sorted(keys or []), retained))
    order = {op: index for index, op in enumerate(OPS)}
    return sorted(steps, key=lambda s: (order.get(s.op, len(OPS)), s.type, s.name))


def run_changes(workspace: Workspace, base_hub: dict[str, Any], changes: list[Change]) -> list[Outcome]:
    outcomes = []
    for change in changes:
        hub = copy.deepcopy(base_hub)
        change.edit(hub)
        archives = Path(hub["charts"]["archives"])
        for name, stand_in in change.stand_ins.items():
            shutil.copyfile(archives / stand_in, archives / name)
        workspace.set_config(hub, f"change '{change.title}'", secrets=change.secrets(hub))
        # A change the engine refuses (it would replace a protected resource) is an outcome too.
        preview = workspace.preview("--refresh=false", refused_ok=True)
        for name in change.stand_ins:
            (archives / name).unlink()
        diagnostics = sorted({d.get("message", "").strip() for d in preview.get("diagnostics", [])
                              if d.get("severity") in ("warning", "error")} - {"error: preview failed"})
        outcomes.append(Outcome(change, steps_of(preview), diagnostics, preview["refused"]))
    # The state is the same after all of them (previews change nothing): the unchanged config still shows none.
    workspace.set_config(base_hub)
    left = steps_of(workspace.preview("--refresh=false"))
    if left:
        raise NotSettled("the unchanged config no longer previews as no change: "
                           + ", ".join(f"{step.op} {step.name}" for step in left))
    return outcomes


def marks(step: Step) -> list[str]:
    """Why a step matters to a running hub, in words; empty when it does not."""
    said = []
    holds = HOLDS.get(step.type) or next(
        (what for (type_, role), what in HOLDS_BY_ROLE.items() if step.type == type_ and step.name.endswith(role)),
        None)
    if holds and step.op == "delete" and step.retained:
        said.append(f"left in the project, out of the stack (retainOnDelete): {holds}")
    elif holds and step.op in ("replace", "delete"):
        said.append(f"**{step.op}d: {holds}**")
    if step.op == "replace":
        said += [what for (type_, role), what in CARRIED_OVER.items() if step.type == type_ and step.name.endswith(role)]
    if step.op == "update":
        said += [DISRUPTIVE_UPDATES[(step.type, key)] for key in step.keys if (step.type, key) in DISRUPTIVE_UPDATES]
        if step.type.startswith("kubernetes:") and step.type != "kubernetes:helm.sh/v3:Release":
            said.append(NEEDS_A_CLUSTER)
    return list(dict.fromkeys(said))  # properties that mean the same (a release's values and version) say it once


def render_table(stack: str, outcomes: list[Outcome]) -> str:
    lines = [
        "# What each change does to a running hub",
        "",
        f"Generated by `make changes` from real previews of the `{stack}` stack (the engine of `make engine`): "
        "a state as if "
        "`pulumi up` had succeeded was given to the stack, then each change was previewed with "
        "`--refresh=false`, so the providers' own diff decides update or replace. A preview of the unchanged "
        "config shows no change (a test checks it and keeps this file current).",
        "",
        "**Bold** marks the replacement or deletion of a resource that holds users' data or the cluster's "
        "identity (the `marked` column counts them); updates that interrupt or destroy are said in words. "
        "Kubernetes objects are previewed without a cluster: where only the API server can tell whether an "
        "update is in place, the table says \"needs a cluster\". Refused: the preview fails (a protected "
        "resource would go), so `pulumi up`, which previews first, stops before it changes anything. "
        "`pulumi up --skip-preview` does not: it makes every change before the one it refuses.",
        "",
    ]
    lines += ["## Summary", "", "| change | create | update | replace | delete | marked | refused |",
              "|---|---|---|---|---|---|---|"]
    for outcome in outcomes:
        counts = [sum(1 for step in outcome.steps if step.op == op) for op in OPS]
        marked = sum(1 for step in outcome.steps if any(m.startswith("**") for m in marks(step)))
        lines.append(f"| {outcome.change.title} | " + " | ".join(str(c or "") for c in counts)
                     + f" | {marked or ''} | {'refused' if outcome.refused else ''} |")
    for outcome in outcomes:
        lines += ["", f"## {outcome.change.title}", ""]
        for name, stand_in in outcome.change.stand_ins.items():
            lines += [f"No source here gives {name}: a copy of {stand_in} stands in for it.", ""]
        if not outcome.steps:
            lines.append("No change to any resource.")
        else:
            lines += ["| op | type | resource | properties | what it means |", "|---|---|---|---|---|"]
            for step in outcome.steps:
                lines.append(f"| {step.op} | {step.short_type} | {step.name} | {', '.join(step.keys)} | "
                             f"{'; '.join(marks(step))} |")
        for diagnostic in outcome.diagnostics:
            lines.append(f"\n> the preview said: {diagnostic.splitlines()[0]}")
    return "\n".join(lines) + "\n"


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda hub: set_path(hub, path, value)


def _onto_existing_network(hub: dict[str, Any]) -> None:
    del hub["cloud"]["externalNetworkId"]
    hub["cloud"]["networkId"] = "00000000-0000-0000-0000-000000000000"  # NeCTAR's Classic Provider
    hub["floatingIp"] = {"enabled": False}


def _append(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(hub: dict[str, Any]) -> None:
        try:
            existing = get_path(hub, path)
        except KeyError:
            existing = []
        set_path(hub, path, [*existing, value])
    return edit


def _manual_tls(hub: dict[str, Any]) -> None:
    hub["tls"] = {"type": "manual", "certificate": _demo_certificate(_hostname(hub))[0]}


def _hostname(hub: dict[str, Any]) -> str:
    return hub.get("fqdn") or f"{hub['name']}.{hub['domain']}"


def _demo_certificate(hostname: str) -> tuple[str, str]:
    """A server certificate for `hostname` from a throwaway CA (the root left out, as the model wants), and its
    key: the same pair for the whole run, since the key is set as a secret that must match."""
    return _DEMO_CERTIFICATES.setdefault(hostname, _issue_demo_certificate(hostname))


def _issue_demo_certificate(hostname: str) -> tuple[str, str]:
    from datetime import datetime, timedelta, timezone

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.now(timezone.utc)

    def issue(subject: str, key, issuer: str, issuer_key, ca: bool) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=365))  # far from the expiry warning, which would date the table
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False)
        return builder.sign(issuer_key, hashes.SHA256())

    # A chain as a CA sends it: the server's certificate, then the intermediate (the root left out).
    root_key, intermediate_key, server_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    intermediate = issue("hubstack change-table intermediate", intermediate_key, "hubstack change-table root",
                         root_key, ca=True)
    server = issue(hostname, server_key, "hubstack change-table intermediate", intermediate_key, ca=False)
    key = server_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption()).decode()
    return "".join(cert.public_bytes(serialization.Encoding.PEM).decode() for cert in (server, intermediate)), key


_DEMO_CERTIFICATES: dict[str, tuple[str, str]] = {}

_SECOND_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHubStackExampleTeachingAssistant000000000000 ta@example.org"

# The everyday changes, each an edit of the prod stack (a course hub with shared data and three workers).
CHANGES = [
    Change("admin SSH key added", _append("cluster.sshPublicKeys", _SECOND_KEY)),
    Change("k3s version bumped (v1.33.5+k3s1 -> v1.33.6+k3s1)", _set("cluster.k3sVersion", "v1.33.6+k3s1")),
    Change("server image changed", _set("cloud.imageId", "0d3f2a9e-5b1c-4e7d-8a6f-3c2b1e0d9f8a")),
    Change("worker flavor (m3.large -> m3.xl)", _set("cluster.workerFlavor", "m3.xl")),
    Change("control-plane flavor (m3.medium -> m3.large)", _set("cluster.controlPlaneFlavor", "m3.large")),
    Change("workerCount up (3 -> 4)", _set("cluster.workerCount", 4)),
    Change("workerCount down (3 -> 2)", _set("cluster.workerCount", 2)),
    Change("rootDiskGb (100 -> 120)", _set("cluster.rootDiskGb", 120)),
    Change("shared data grown (300 -> 500 GiB)", _set("sharedData.sizeGb", 500)),
    Change("shared data moved to a dedicated server", lambda hub: hub["sharedData"].update(
        server="dedicated", serverFlavor="m3.small")),
    Change("a home of an earlier cluster adopted", _append("userStorage.adopt", {
        "volumeId": "7e3b9c1d-2f4a-4b6c-8d9e-0a1b2c3d4e5f", "claim": "claim-student1", "sizeGb": 10})),
    Change("a profile added", _append("profiles", {
        "displayName": "Workshop", "description": "2 GB of memory; 1 vCPU",
        "cpu": {"guarantee": 0.5, "limit": 1}, "memory": {"guarantee": "2G", "limit": "2G"}})),
    Change("JupyterHub chart bumped (4.4.0 -> 4.4.1)", _set("charts.jupyterhub", "4.4.1"),
           stand_ins={"jupyterhub-4.4.1.tgz": "jupyterhub-4.4.0.tgz"}),
    Change("TLS Let's Encrypt -> manual certificate", _manual_tls,
           secrets=lambda hub: {"hub.tls.key": _demo_certificate(_hostname(hub))[1]}),
    Change("TLS Let's Encrypt -> an institutional ACME CA (InCommon)", _set("tls", {
        "type": "acme", "email": "admins@example.org", "server": "https://acme.sectigo.com/v2/InCommonRSAOV",
        "externalAccountBinding": {"keyId": "incommon-key-id"}})),
    Change("root disks volume -> the flavor's own (rootDisk: local)", lambda hub: hub["cluster"].update(
        rootDisk="local", rootDiskGb=None)),
    Change("volumes moved to a zone of their own (volumeAvailabilityZone)",
           _set("cloud.volumeAvailabilityZone", "nova-volumes")),
    Change("auth provider switched (GitHub -> Globus)", _set("auth", {
        "type": "globus", "clientId": "atmos-course-globus", "identityProvider": "access-ci.org",
        "adminUsers": ["instructor1"], "allowedUsers": ["student1"]})),
    Change("hub renamed (atmos-course -> atmos-course-2027)", _set("name", "atmos-course-2027")),
    Change("floating IP not kept on teardown", _set("floatingIp.keepOnTeardown", False)),
    Change("GPU workers (m3.large -> g3.large) and a profile with a GPU", lambda hub: (
        set_path(hub, "cluster.workerFlavor", "g3.large"),
        _append("profiles", {"displayName": "One GPU", "gpus": 1})(hub))),
    Change("moved onto an existing public network (networkId, no floating IP)", _onto_existing_network),
]

