"""The offline plan: run the real `__main__.py` in-process under Pulumi's mocks and write what it would create.

No credentials, no network. The same config always gives byte-identical files: resources sorted by URN, keys
sorted, no timestamps. Secret values show as `[secret]` in plan.json; Helm values and cloud-init files show the
placeholders that stand for secrets offline (see hubctl.mocks).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import logging
import runpy
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Optional

import pulumi
import yaml
from google.protobuf import json_format
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.mocks import MockEngine, MockMonitor, MockSettings
from pulumi.runtime.stack import run_in_stack
from pulumi.runtime.sync_await import _sync_await

from config import CONFIG_KEY, PROJECT, SECRET_PLACEHOLDER, HubConfig, to_stack_config

from .mocks import HubMocks

PROJECT_DIR = Path(__file__).resolve().parent.parent
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
SERVER = "openstack:compute/instance:Instance"

# Markers of Pulumi's wire format (sdk/go/common/resource/sig).
SIG = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
_RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
_OUTPUT_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


@dataclass
class PlannedResource:
    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    protect: bool
    retain_on_delete: bool
    delete_before_replace: bool
    deleted_with: str  # the URN of the resource whose delete takes this one along ("" for none)
    additional_secret_outputs: list[str]
    provider: str
    dependencies: list[str]
    inputs: dict[str, Any]  # redacted: secrets are "[secret]"
    revealed: dict[str, Any] = field(repr=False)  # placeholders only: offline there is no real secret

    def as_json(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "parent": self.parent,
            "custom": self.custom,
            "protect": self.protect,
            "retainOnDelete": self.retain_on_delete,
            "deleteBeforeReplace": self.delete_before_replace,
            "deletedWith": self.deleted_with,
            "additionalSecretOutputs": self.additional_secret_outputs,
            "provider": self.provider,
            "dependencies": self.dependencies,
            "inputs": self.inputs,
        }


@dataclass
class Plan:
    stack: str
    resources: list[PlannedResource]
    outputs: dict[str, Any]

    def by_type(self, type_: str) -> list[PlannedResource]:
        return [resource for resource in self.resources if resource.type == type_]

    def named(self, name: str) -> PlannedResource:
        matches = [resource for resource in self.resources if resource.name == name]
        if len(matches) != 1:
            raise KeyError(f"{len(matches)} resources named {name!r}")
        return matches[0]

    def children(self, urn: str) -> list[PlannedResource]:
        return [resource for resource in self.resources if resource.parent == urn]

    def as_json(self) -> dict[str, Any]:
        return {
            "project": PROJECT,
            "stack": self.stack,
            "resources": [resource.as_json() for resource in self.resources],
            "outputs": self.outputs,
        }


def _wire_value(value: Any, reveal: bool) -> Any:
    """A value of Pulumi's wire format as plain JSON; secrets redacted unless `reveal`."""
    if isinstance(value, dict):
        signature = value.get(SIG)
        if signature == SECRET_SIG:
            return _wire_value(value.get("value"), reveal) if reveal else SECRET_PLACEHOLDER
        if signature == _RESOURCE_SIG:
            return value.get("urn")
        if signature == _OUTPUT_SIG:
            if value.get("secret") and not reveal:
                return SECRET_PLACEHOLDER
            return _wire_value(value.get("value"), reveal) if "value" in value else "[unknown]"
        return {key: _wire_value(item, reveal) for key, item in value.items()}
    if isinstance(value, list):
        return [_wire_value(item, reveal) for item in value]
    if value == UNKNOWN:
        return "[unknown]"
    return value


@contextlib.contextmanager
def _thread_loop_closed() -> Iterator[None]:
    """pulumi's mocks serve each call on an executor thread and give that thread an event loop of its own
    (sync_await._ensure_event_loop), which nothing closes. Once the thread is gone, the loop and its self-pipe
    sockets are garbage together, and the collector may finalize a socket before the loop, whose finalizer then
    fails (`ValueError: Invalid file descriptor: -1`, 1 run in 40 of `hubctl plan`). Closed after each call, the
    thread's next call makes a new one."""
    try:
        yield
    finally:
        if threading.current_thread() is not threading.main_thread():
            policy = asyncio.get_event_loop_policy()
            try:
                loop = policy.get_event_loop()
            except RuntimeError:
                loop = None
            if loop is not None and not loop.is_running():
                loop.close()
                policy.set_event_loop(None)


class _RecordingMonitor(MockMonitor):
    """The mock monitor, also keeping what the engine would get: parent, protect, retainOnDelete, dependencies."""

    def __init__(self, mocks: pulumi.runtime.Mocks, stack: str) -> None:
        super().__init__(mocks)
        self.stack = stack
        self.recorded: list[PlannedResource] = []
        self.stack_outputs: dict[str, Any] = {}
        self.stack_urn = ""

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        # The SDK's own reads project and stack from context variables, which the executor threads it runs
        # in do not see (they would say "stack::project").
        urn = super().make_urn(parent, type_, name)
        return f"urn:pulumi:{self.stack}::{PROJECT}::" + urn.split("::", 2)[2]

    def RegisterResource(self, request):  # noqa: N802 (gRPC method name)
        with _thread_loop_closed():
            response = super().RegisterResource(request)
        wire = json_format.MessageToDict(request.object, preserving_proto_field_name=True)
        if request.type == "pulumi:pulumi:Stack":
            self.stack_urn = response.urn
        self.recorded.append(
            PlannedResource(
                urn=response.urn,
                type=request.type,
                name=request.name,
                parent=request.parent,
                custom=bool(request.custom),
                protect=bool(request.protect),
                retain_on_delete=bool(request.retainOnDelete),
                delete_before_replace=bool(request.deleteBeforeReplace),
                deleted_with=request.deletedWith,
                additional_secret_outputs=sorted(request.additionalSecretOutputs),
                provider=request.provider.rsplit("::", 1)[0],  # "<urn>::<id>" -> the provider's URN
                dependencies=sorted(set(request.dependencies)),
                inputs=_wire_value(wire, reveal=False),
                revealed=_wire_value(wire, reveal=True),
            )
        )
        return response

    def Invoke(self, request):  # noqa: N802
        with _thread_loop_closed():
            return super().Invoke(request)

    def ReadResource(self, request):  # noqa: N802
        with _thread_loop_closed():
            return super().ReadResource(request)

    def RegisterResourceOutputs(self, request):  # noqa: N802
        if request.urn == self.stack_urn:
            outputs = json_format.MessageToDict(request.outputs, preserving_proto_field_name=True)
            self.stack_outputs = _wire_value(outputs, reveal=False)
        return super().RegisterResourceOutputs(request)


class _EngineLog(logging.Handler):
    """What the program logs (pulumi.log.warn) printed as the engine prints it, `warning: <message>`, to the
    stderr of the moment (pytest swaps it)."""

    def emit(self, record: logging.LogRecord) -> None:
        print(f"{record.levelname.lower()}: {record.getMessage()}", file=sys.stderr)


def _engine_log() -> logging.Logger:
    log = logging.getLogger("hubctl.plan.engine")
    log.addHandler(_EngineLog(logging.WARNING))
    log.setLevel(logging.INFO)
    return log


_ENGINE_LOG = _engine_log()


def run_program(
    config: HubConfig | dict[str, Any],
    stack: str,
    program: Path = PROJECT_DIR / "__main__.py",
    previous_outputs: Optional[dict[str, Any]] = None,
) -> Plan:
    """Run the Pulumi program under mocks with `config` as the stack's (secret) `hubstack:hub` value, on a new
    stack or on one whose last deployment exported `previous_outputs`."""
    value = to_stack_config(config) if isinstance(config, HubConfig) else config
    # As the language host does: a program that stops with an error leaves futures unobserved, which asyncio
    # would otherwise report one by one.
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    monitor = _RecordingMonitor(HubMocks(previous_outputs), stack)
    pulumi.runtime.set_all_config({f"{PROJECT}:{CONFIG_KEY}": json.dumps(value)}, [f"{PROJECT}:{CONFIG_KEY}"])
    runtime_settings.configure(
        MockSettings(
            monitor=monitor,
            monitor_features=set(monitor.GetDeploymentInfo(None).supportedFeatures),
            engine=MockEngine(_ENGINE_LOG),
            project=PROJECT,
            stack=stack,
            dry_run=True,
            organization="organization",
            callbacks=None,
        )
    )
    runtime_settings.set_root_resource(None)  # type: ignore[arg-type]
    if str(program.parent) not in sys.path:
        sys.path.insert(0, str(program.parent))
    try:
        _sync_await(run_in_stack(lambda: runpy.run_path(str(program), run_name="__main__")))
    finally:
        runtime_settings.set_root_resource(None)  # type: ignore[arg-type]
        atexit.register(_close_event_loop)
    resources = sorted(monitor.recorded, key=lambda resource: resource.urn)
    return Plan(stack=stack, resources=resources, outputs=monitor.stack_outputs)


def _close_event_loop() -> None:
    """At exit, close the loop the runs used (registered once; atexit runs before the interpreter's teardown).
    Left open, it is closed by its finalizer during teardown, which can run after its self-pipe socket's own and
    then fails with `ValueError: Invalid file descriptor: -1` (selectors.py)."""
    atexit.unregister(_close_event_loop)
    try:
        loop = asyncio.get_event_loop()
    except RuntimeError:
        return
    if not loop.is_running() and not loop.is_closed():
        loop.close()


def _dump_yaml(value: Any) -> str:
    return yaml.safe_dump(value, sort_keys=True, default_flow_style=False, width=120)


def write_plan(plan: Plan, out: Path) -> list[Path]:
    """plan.json, values/<release>.yaml and cloud-init/<server>.yaml; stale files of an earlier plan go."""
    out.mkdir(parents=True, exist_ok=True)
    for stale in [*out.glob("values/*.yaml"), *out.glob("cloud-init/*.yaml")]:
        stale.unlink()
    files = {out / "plan.json": json.dumps(plan.as_json(), indent=2, sort_keys=True) + "\n"}
    for release in plan.by_type(HELM_RELEASE):
        files[out / "values" / f"{release.name}.yaml"] = _dump_yaml(release.revealed.get("values") or {})
    for server in plan.by_type(SERVER):
        user_data = server.revealed.get("userData", "")
        files[out / "cloud-init" / f"{server.revealed.get('name', server.name)}.yaml"] = user_data
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return sorted(files)


def render_tree(plan: Plan) -> str:
    """What would be created, as a tree: type, name and the options that protect data or order a replacement."""
    lines: list[str] = []

    def flags(resource: PlannedResource) -> str:
        marks = [mark for mark, on in (
            ("protect", resource.protect),
            ("retain", resource.retain_on_delete),
            ("delete before replace", resource.delete_before_replace),
        ) if on]
        return f"  [{', '.join(marks)}]" if marks else ""

    def walk(resource: PlannedResource, prefix: str, last: bool, root: bool) -> None:
        branch = "" if root else ("└─ " if last else "├─ ")
        lines.append(f"{prefix}{branch}{resource.type}  {resource.name}{flags(resource)}")
        children = plan.children(resource.urn)
        extension = "" if root else ("   " if last else "│  ")
        for index, child in enumerate(children):
            walk(child, prefix + extension, index == len(children) - 1, False)

    for root in (resource for resource in plan.resources if not resource.parent):
        walk(root, "", True, True)
    custom = sum(resource.custom for resource in plan.resources)
    lines.append(f"\n{custom} resources, {len(plan.resources) - custom} components; outputs: {', '.join(sorted(plan.outputs))}")
    return "\n".join(lines)
