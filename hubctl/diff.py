"""`hubctl diff BASE HEAD`: what each hub would become, as Markdown for a pull request.

Each side is a git ref (planned in a worktree of its own, with that ref's program and stack files) or a folder of
offline plans (`<folder>/<stack>/plan.json`, as `hubctl plan` writes them). The comparison is pure: two plan
folders in, Markdown out. Offline there is no provider to ask whether a change updates or replaces: the change
table (docs/changes.md, real previews) says which properties of which types replaced or updated there, and the
Markdown says that this is where the answer came from.
"""

from __future__ import annotations

import difflib
import json
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional

from config.clouds import JETSTREAM2_FLAVORS, flavor_catalog

from .teardown import FLOATING_IP, SERVER, VOLUME

KUBERNETES_PROVIDER = "pulumi:providers:kubernetes"
# Kinds whose replacement or deletion loses users' data or a binding to it.
DATA_TYPES = {VOLUME, "kubernetes:core/v1:PersistentVolume", "kubernetes:core/v1:PersistentVolumeClaim"}
OPS = ("create", "update", "replace", "update or replace", "delete")
# A pull request comment holds 65536 characters: each text diff is cut after this many lines.
MAX_DIFF_LINES = 150


# -------------------------------------------------------------------------------------------- the change table


def read_change_table(text: str) -> dict[tuple[str, str], set[str]]:
    """(short type, property) -> the ops the real previews of docs/changes.md gave a change of it."""
    seen: dict[tuple[str, str], set[str]] = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) < 4 or cells[0] not in ("update", "replace"):
            continue
        op, type_, properties = cells[0], cells[1], cells[3]
        for prop in filter(None, (part.strip() for part in properties.split(","))):
            seen.setdefault((type_, prop), set()).add(op)
    return seen


def _short_type(type_: str) -> str:
    return type_.rsplit(":", 1)[-1]


# ---------------------------------------------------------------------------------------------- the comparison


@dataclass(frozen=True)
class Change:
    op: str
    type: str
    name: str
    properties: tuple[str, ...] = ()


@dataclass
class StackDiff:
    stack: str
    changes: list[Change] = field(default_factory=list)
    values: dict[str, str] = field(default_factory=dict)  # release -> unified diff
    cloud_init: dict[str, str] = field(default_factory=dict)  # server -> unified diff
    warnings: list[str] = field(default_factory=list)
    uses: tuple[dict[str, float], dict[str, float]] = ({}, {})
    error: str = ""  # a side whose plan failed (an invalid config): what it said
    # Where update-or-replace came from: the change table (offline), or the real providers' diff.
    source: str = "offline"

    @property
    def unchanged(self) -> bool:
        return not (self.changes or self.values or self.cloud_init or self.warnings or self.error)


def _by_urn(plan: Optional[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    return {resource["urn"]: resource for resource in (plan or {}).get("resources", []) if resource["custom"]}


def _changed_properties(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[str, ...]:
    keys = set(old["inputs"]) | set(new["inputs"])
    return tuple(sorted(key for key in keys if old["inputs"].get(key) != new["inputs"].get(key)))


def _update_or_replace(type_: str, properties: Iterable[str], table: Mapping[tuple[str, str], set[str]]) -> str:
    """One property that only ever replaced replaces the resource; properties that only ever updated update it;
    anything else the change table cannot tell."""
    seen = [table.get((_short_type(type_), prop), set()) for prop in properties]
    if any(ops == {"replace"} for ops in seen):
        return "replace"
    if all(ops == {"update"} for ops in seen):
        return "update"
    return "update or replace"


def resource_changes(base: Optional[Mapping[str, Any]], head: Optional[Mapping[str, Any]],
                     table: Mapping[tuple[str, str], set[str]], user_data_changed: Iterable[str] = ()) -> list[Change]:
    """Created, deleted and changed resources by URN. A server's user data is a secret, "[secret]" on both sides
    of plan.json: `user_data_changed` names the servers whose cloud-init files differ."""
    old, new = _by_urn(base), _by_urn(head)
    changes = [Change("create", new[urn]["type"], new[urn]["name"]) for urn in new.keys() - old.keys()]
    changes += [Change("delete", old[urn]["type"], old[urn]["name"]) for urn in old.keys() - new.keys()]
    user_data_changed = set(user_data_changed)
    for urn in old.keys() & new.keys():
        properties = _changed_properties(old[urn], new[urn])
        if new[urn]["name"] in user_data_changed:
            properties = tuple(sorted({*properties, "userData"}))
        if properties:
            changes.append(Change(_update_or_replace(new[urn]["type"], properties, table), new[urn]["type"],
                                  new[urn]["name"], properties))
    return sorted(changes, key=lambda change: (OPS.index(change.op), change.type, change.name))


def _holds_data(resource: Mapping[str, Any]) -> bool:
    return resource["type"] in DATA_TYPES or bool(resource.get("protect")) or resource["type"] == KUBERNETES_PROVIDER


def warnings(base: Optional[Mapping[str, Any]], head: Optional[Mapping[str, Any]],
             changes: Iterable[Change]) -> list[str]:
    """In words, what a reviewer must not miss: data or identity at stake, the hub's address moving."""
    old, new = _by_urn(base), _by_urn(head)
    by_name = {resource["name"]: resource for resource in [*old.values(), *new.values()]}
    said = []
    for change in changes:
        resource = by_name.get(change.name, {"type": change.type})
        if change.op in ("delete", "replace", "update or replace") and _holds_data(resource):
            what = ("the Kubernetes provider: every object in the cluster goes with it"
                    if resource["type"] == KUBERNETES_PROVIDER else
                    "protected: the cluster's identity or data" if resource.get("protect") else "holds users' data")
            verb = {"delete": "deletes", "replace": "replaces"}.get(change.op, "may replace")
            said.append(f"{verb} {_short_type(change.type)} `{change.name}` ({what})")
    before, after = ((plan or {}).get("outputs", {}).get("hostname") for plan in (base, head))
    if base and head and before != after:
        said.append(f"the hub's address changes: `{before}` -> `{after}` (users' bookmarks, DNS, the OAuth app's "
                    "callback URL and the certificate must follow)")
    return said


def flavors_of(stack_file: Optional[Path]) -> dict[str, Mapping[str, float]]:
    """The stack's flavor catalog (its own entries over the built-in ones), as far as its file is readable."""
    from config import ConfigError, read_stack_file

    if stack_file is None or not stack_file.is_file():
        return flavor_catalog(None)  # the default preset's
    try:
        return flavor_catalog(read_stack_file(stack_file))
    except ConfigError:
        return flavor_catalog(None)  # the plan of this side says what is wrong with it


def uses(plan: Optional[Mapping[str, Any]], flavors: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """What the plan takes of a project's quota: servers, vCPUs, RAM, volume GB (boot and data), floating IPs."""
    used = {"servers": 0, "vCPUs": 0, "RAM GB": 0, "volume GB": 0, "floating IPs": 0}
    for resource in _by_urn(plan).values():
        inputs = resource["inputs"]
        if resource["type"] == SERVER:
            flavor = flavors.get(inputs.get("flavorName", ""), {})
            used["servers"] += 1
            used["vCPUs"] += flavor.get("vcpus", 0)
            used["RAM GB"] += flavor.get("ramGb", 0)
            used["volume GB"] += sum(device.get("volumeSize") or 0 for device in inputs.get("blockDevices") or []
                                     if device.get("sourceType") == "image")
        elif resource["type"] == VOLUME:
            used["volume GB"] += inputs.get("size") or 0
        elif resource["type"] == FLOATING_IP:
            used["floating IPs"] += 1
    return used


def _unified(old: str, new: str, name: str) -> str:
    return "".join(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                        f"base/{name}", f"head/{name}"))


def _files(plan_dir: Optional[Path], folder: str, names: Mapping[str, str]) -> dict[str, str]:
    """key -> text of `<plan_dir>/<folder>/<file>` for each key's file name."""
    if plan_dir is None:
        return {}
    return {key: (plan_dir / folder / file).read_text() for key, file in names.items()
            if (plan_dir / folder / file).is_file()}


def _server_files(plan: Optional[Mapping[str, Any]]) -> dict[str, str]:
    # A server's file is named after the server (which carries hub.name); compare by resource instead.
    return {resource["name"]: f"{resource['inputs'].get('name', resource['name'])}.yaml"
            for resource in _by_urn(plan).values() if resource["type"] == SERVER}


def _release_files(plan: Optional[Mapping[str, Any]]) -> dict[str, str]:
    return {resource["name"]: f"{resource['name']}.yaml" for resource in _by_urn(plan).values()
            if resource["type"] == "kubernetes:helm.sh/v3:Release"}


def _text_diffs(base: dict[str, str], head: dict[str, str]) -> dict[str, str]:
    """key -> unified diff of its text; a new key whose text another key already has (a new worker) is said so."""
    diffs = {}
    for key in sorted(base.keys() | head.keys()):
        twins = [other for other in sorted(head) if other != key and other in base and head[other] == head.get(key)]
        if key not in base and twins:
            diffs[key] = f"(new: the same as {twins[0]})"
        elif diff := _unified(base.get(key, ""), head.get(key, ""), key):
            lines = diff.splitlines(keepends=True)
            cut = f"… {len(lines) - MAX_DIFF_LINES} more lines (`hubctl diff` prints them all)\n"
            diffs[key] = "".join(lines[:MAX_DIFF_LINES]) + (cut if len(lines) > MAX_DIFF_LINES else "")
    return diffs


def plans_of(*folders: Optional[Path]) -> list[Optional[dict[str, Any]]]:
    return [json.loads((folder / "plan.json").read_text()) if folder else None for folder in folders]


def compare(stack: str, base_dir: Optional[Path], head_dir: Optional[Path], table: Mapping[tuple[str, str], set[str]],
            base_flavors: Mapping[str, Mapping[str, float]] = JETSTREAM2_FLAVORS,
            head_flavors: Mapping[str, Mapping[str, float]] = JETSTREAM2_FLAVORS) -> StackDiff:
    """One stack's diff from its two plan folders (None: the stack does not exist on that side)."""
    base, head = plans_of(base_dir, head_dir)
    cloud_init = _text_diffs(_files(base_dir, "cloud-init", _server_files(base)),
                             _files(head_dir, "cloud-init", _server_files(head)))
    changes = resource_changes(base, head, table, user_data_changed=set(cloud_init))
    return StackDiff(
        stack=stack,
        changes=changes,
        values=_text_diffs(_files(base_dir, "values", _release_files(base)),
                           _files(head_dir, "values", _release_files(head))),
        cloud_init=cloud_init,
        warnings=warnings(base, head, changes),
        uses=(uses(base, base_flavors), uses(head, head_flavors)),
    )


# ------------------------------------------------------------------------------------------------- Markdown

SOURCES = {
    "offline": "Offline plans of both sides: whether a change updates or replaces is what the real previews of "
               "`docs/changes.md` gave the same properties (\"update or replace\" where they did not tell).",
    "engine": "Resources: the real providers' diff (the engine of `make engine`, on a state as if the base had "
              "been deployed). Values and cloud-init: offline plans of both sides.",
}


def _number(value: float) -> str:
    return f"{value:g}"


def _uses_line(before: Mapping[str, float], after: Mapping[str, float]) -> str:
    parts = []
    for key in after or before:
        old, new = before.get(key), after.get(key)
        if old is None or new is None or old == new:
            parts.append(f"{key} {_number(new if new is not None else old)}")
        else:
            parts.append(f"{key} {_number(old)} → **{_number(new)}**")
    return ", ".join(parts)


def render(diffs: list[StackDiff], base: str, head: str) -> str:
    lines = [f"## hubstack diff `{base}` → `{head}`", ""]
    warned = [(diff.stack, warning) for diff in diffs for warning in diff.warnings]
    warned += [(diff.stack, f"the plan failed: {diff.error.splitlines()[0]}") for diff in diffs if diff.error]
    if warned:
        lines += ["> [!WARNING]", *[f"> **{stack}** {warning}  " for stack, warning in warned], ""]
    for diff in diffs:
        lines.append(f"### {diff.stack}")
        lines.append("")
        lines += [SOURCES.get(diff.source, diff.source), ""]
        if diff.error:
            lines += ["```", diff.error.strip(), "```", ""]
            continue
        lines += [f"Uses: {_uses_line(*diff.uses)}", ""]
        if diff.unchanged:
            lines += ["No change.", ""]
            continue
        if diff.changes:
            counts = {op: sum(1 for change in diff.changes if change.op == op) for op in OPS}
            lines.append(", ".join(f"{count} to {op}" for op, count in counts.items() if count) + ".")
            lines += ["", "| op | type | resource | properties |", "|---|---|---|---|"]
            lines += [f"| {change.op} | {_short_type(change.type)} | {change.name} | {', '.join(change.properties)} |"
                      for change in diff.changes]
            lines.append("")
        for title, texts in (("Helm values", diff.values), ("cloud-init", diff.cloud_init)):
            for name, text in texts.items():
                if not text.startswith("---"):
                    lines += [f"{title}: {name} {text}", ""]
                    continue
                lines += [f"<details><summary>{title}: {name}</summary>", "", "```diff", text.rstrip(), "```", "",
                          "</details>", ""]
    return "\n".join(lines).rstrip() + "\n"


# ------------------------------------------------------------------------------------------- planning a side


class PlanFailed(Exception):
    pass


def stacks_at(root: Path) -> list[str]:
    return sorted(match[1] for path in root.glob("Pulumi.*.yaml") if (match := re.fullmatch(r"Pulumi\.(.+)\.yaml",
                                                                                            path.name)))


def plan_stack(project: Path, stack: str, out: Path) -> Optional[str]:
    """Plan `stack` with the program at `project` into `out`; None, or what a failed plan said."""
    result = subprocess.run([sys.executable, "-m", "hubctl", "plan", "--stack", stack, "--out", str(out), "--quiet"],
                            cwd=project, capture_output=True, text=True, timeout=300)
    return None if result.returncode == 0 else (result.stderr or result.stdout).strip() or "hubctl plan failed"


def worktree(repository: Path, ref: str, where: Path) -> Path:
    """A detached worktree of `ref` (removed by remove_worktree)."""
    result = subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(where), ref], cwd=repository,
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise PlanFailed(f"{ref!r} is neither a plan folder nor a git ref here: {result.stderr.strip()}")
    return where


def remove_worktree(repository: Path, where: Path) -> None:
    subprocess.run(["git", "worktree", "remove", "--force", str(where)], cwd=repository, capture_output=True)


def changed_files(repository: Path, base: str, head: str) -> list[str]:
    result = subprocess.run(["git", "diff", "--name-only", f"{base}...{head}"], cwd=repository, capture_output=True,
                            text=True)
    if result.returncode != 0:
        raise PlanFailed(f"--touched compares git refs: {result.stderr.strip()}")
    return result.stdout.splitlines()


def touched_stacks(files: Iterable[str], stacks: Iterable[str]) -> list[str]:
    """The stacks a change can alter: those whose stack file it edits, or all of them when it edits anything that
    every stack runs (the program, its pins, its tools); documentation alters none."""
    stacks = sorted(stacks)
    edited = set()
    for name in files:
        match = re.fullmatch(r"Pulumi\.(.+)\.yaml", name)
        if match:
            edited.add(match[1])
        elif not (name.endswith(".md") or name.startswith((".github/", "docs/"))):
            return stacks
    return [stack for stack in stacks if stack in edited]


def engine_changes(stack: str, base_project: Path, head_project: Path) -> tuple[Optional[list[Change]], str]:
    """The real providers' diff of HEAD against a state as if BASE had been deployed (hubctl/changes.py's fake
    state, settled with BASE's program and config, then previewed with HEAD's): (changes, "") or (None, why not)."""
    from config import read_stack_file

    from .changes import NotSettled, settle, steps_of
    from .engine import EngineMissing, PulumiFailed, Workspace, chart_archives

    try:
        archives = chart_archives()
        with Workspace(stack, program=base_project) as workspace:
            hubs = [read_stack_file(project / f"Pulumi.{stack}.yaml") for project in (base_project, head_project)]
            # Helm's checks load the charts: from the archives of `make charts`, no repository being in reach.
            folder = str(workspace.archives(archives))
            for hub in hubs:
                hub.setdefault("charts", {})["archives"] = folder
            workspace.set_config(hubs[0])
            settle(workspace)
            workspace.use_program(head_project)
            workspace.set_config(hubs[1])
            preview = workspace.preview("--refresh=false", refused_ok=True)
    except (EngineMissing, PulumiFailed, NotSettled) as error:
        return None, " ".join(str(error).split())[:300]
    changes = [Change(step.op, step.type, step.name, tuple(step.keys)) for step in steps_of(preview)]
    if preview["refused"]:
        return changes, "refused: the engine would not run this `up` (a protected resource would go)"
    return changes, ""
