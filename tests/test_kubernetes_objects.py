"""The Kubernetes objects and Helm releases are registered without the SDK's classes (kubernetes_objects): the engine
must get, request for request, what those classes would send, or a hub's next `pulumi up` would see changes (or
new aliases, or secrets in plain text) that nobody made."""

from __future__ import annotations

import functools
import json
import re
import subprocess
import sys
from typing import Any

import pulumi
from google.protobuf import json_format

import hubctl.plan
from components import helm, kubernetes_objects
from config import parse

from .conftest import PROJECT_DIR, run_program, set_path
from .variants import VARIANTS


def _sdk_apply_object(name: str, manifest: dict[str, Any], opts: pulumi.ResourceOptions) -> pulumi.CustomResource:
    """The object as the SDK's class of its kind registers it (the program's way before kubernetes_objects)."""
    import pulumi_kubernetes as kubernetes

    api_version, kind = manifest["apiVersion"], manifest["kind"]
    fields = {key: value for key, value in manifest.items() if key not in ("apiVersion", "kind")}
    if (api_version, kind) not in kubernetes_objects.KINDS:
        return kubernetes.apiextensions.CustomResource(name, api_version=api_version, kind=kind, opts=opts, **fields)
    module = {"v1": "core.v1"}.get(api_version) or api_version.replace(".k8s.io", "").replace("/", ".")
    resource_class = getattr(functools.reduce(getattr, module.split("."), kubernetes), kind)
    snake = {key: re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower() for key in fields}
    return resource_class(name, opts=opts, **{snake[key]: value for key, value in fields.items()})


def _sdk_release(resource_name, config, chart, repository, opts, **properties) -> pulumi.CustomResource:
    from pulumi_kubernetes.helm.v3 import Release, RepositoryOptsArgs

    version = config.charts_in_use[chart]
    archive = config.charts.archive(chart, version)
    source: dict[str, Any] = {"chart": str(archive)} if archive else {
        "chart": chart, "version": version, "repository_opts": RepositoryOptsArgs(repo=repository)}
    return Release(resource_name, **source, **properties, opts=opts)


def _requests(config, monkeypatch, *, sdk: bool) -> list[dict[str, Any]]:
    """Every request the program sends the engine for `config`, whole but for where in the code it was made."""
    requests: list[dict[str, Any]] = []
    register = hubctl.plan._RecordingMonitor.RegisterResource

    def recording(monitor, request):
        wire = json_format.MessageToDict(request, preserving_proto_field_name=True)
        for debugging_only in ("sourcePosition", "stackTrace"):
            wire.pop(debugging_only, None)
        wire["dependencies"] = sorted(wire.get("dependencies", []))
        for dependencies in wire.get("propertyDependencies", {}).values():
            dependencies["urns"] = sorted(dependencies.get("urns", []))
        requests.append(wire)
        return register(monitor, request)

    with monkeypatch.context() as patched:
        patched.setattr(hubctl.plan._RecordingMonitor, "RegisterResource", recording)
        if sdk:
            patched.setattr(helm, "release", _sdk_release)
            ours = kubernetes_objects.apply_object
            for module in list(sys.modules.values()):
                if getattr(module, "apply_object", None) is ours:
                    patched.setattr(module, "apply_object", _sdk_apply_object)
        run_program(config, "test")
    return sorted(requests, key=lambda request: (request["type"], request["name"]))


def _every_kind(archives) -> Any:
    """Every kind of KINDS, custom resources, a Secret from plain values and one from a secret Output, adopted
    volumes, shared data, and with `archives` every release from a local archive (else from its repository)."""
    (variant,) = [variant for variant in VARIANTS if variant.name == "beyond-the-model"]  # prod, ACME with EAB
    data = variant.data()
    set_path(data, "cluster.workerFlavor", "g3.large")
    set_path(data, "profiles", [{"displayName": "One GPU", "default": True, "gpus": 1}])
    set_path(data, "userStorage.adopt",
             [{"volumeId": "0b0f8a52-2a4e-4b8e-9d1c-3f5a6b7c8d9e", "claim": "claim-alice", "sizeGb": 10}])
    if archives:
        for chart, version in parse(data, offline=True, plaintext_secrets=True).charts_in_use.items():
            (archives / f"{chart}-{version}.tgz").write_bytes(b"")
        set_path(data, "charts.archives", str(archives))
    return parse(data, offline=True, plaintext_secrets=True)


def test_every_object_and_release_is_registered_as_the_sdks_classes_register_it(monkeypatch, tmp_path):
    configs = {"from repositories": _every_kind(None), "from archives": _every_kind(tmp_path)}
    registered: set[str] = set()
    for name, config in configs.items():
        ours, theirs = _requests(config, monkeypatch, sdk=False), _requests(config, monkeypatch, sdk=True)
        assert [request["type"] for request in ours] == [request["type"] for request in theirs], name
        for our, their in zip(ours, theirs):
            assert our == their, f"{name}: {our['type']} {our['name']}"
        registered |= {request["type"] for request in ours}
        registered |= {"archived-release" for request in ours
                       if request["type"] == helm.RELEASE and request["object"]["chart"].endswith(".tgz")}
    kinds = {kubernetes_objects.resource_type(api_version, kind) for api_version, kind in kubernetes_objects.KINDS}
    assert kinds | {helm.RELEASE, "archived-release", "kubernetes:cert-manager.io/v1:ClusterIssuer",
                    "kubernetes:helm.cattle.io/v1:HelmChartConfig"} <= registered


def test_the_offline_plan_loads_none_of_the_sdks_kind_modules(tmp_path):
    """What the plan saves by kubernetes_objects: pulumi_kubernetes.core.v1 alone cost 0.2-0.3 s of every plan."""
    script = (
        "import atexit, json, runpy, sys\n"
        "atexit.register(lambda: print(json.dumps(sorted(sys.modules)), file=sys.stderr))\n"
        f"sys.argv = ['hubctl', 'plan', '--stack', 'prod', '--quiet', '--out', {str(tmp_path)!r}]\n"
        "runpy.run_module('hubctl', run_name='__main__')\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_DIR, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    modules = json.loads(result.stderr.strip().splitlines()[-1])
    assert "pulumi_kubernetes" in modules and (tmp_path / "plan.json").is_file()
    loaded = [module for module in modules if re.match(r"pulumi_kubernetes\.(core|helm|storage|apps)\.", module)]
    assert loaded == []
