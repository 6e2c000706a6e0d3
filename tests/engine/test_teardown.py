"""The teardown as the real engine decides it, on prod's state as if `pulumi up` had succeeded (hubctl/changes.py):
`pulumi destroy --target <servers> --target-dependents` deletes what `hubctl teardown` says and nothing else,
and the `pulumi up` after it makes the servers again, waits for the API again, and touches no Kubernetes object."""

from __future__ import annotations

import json
from pathlib import Path

from config import read_stack_file
from hubctl import teardown
from hubctl.changes import settle
from hubctl.engine import Workspace, chart_archives

PROJECT_DIR = Path(__file__).resolve().parent.parent.parent


def test_the_engine_tears_down_the_servers_alone_and_the_rebuild_keeps_the_kubernetes_layer() -> None:
    with Workspace("prod") as workspace:
        hub = read_stack_file(PROJECT_DIR / "Pulumi.prod.yaml")
        # Helm's checks load the charts: from the archives of `make charts`, as for the change table.
        hub.setdefault("charts", {})["archives"] = str(workspace.archives(chart_archives()))
        workspace.set_config(hub)
        settle(workspace)
        state = json.loads(workspace.pulumi("stack", "export", "--show-secrets").stdout)
        resources = state["deployment"]["resources"]
        decided = teardown.plan_teardown(resources)
        assert len(decided.servers) == 4

        command = teardown.destroy_command("prod", decided)
        destroy = workspace.pulumi(*command[1:], "--preview-only", "--json", "--non-interactive")
        deleted = {step["urn"] for step in json.loads(destroy.stdout)["steps"] if step["op"] == "delete"}
        assert deleted == set(decided.goes) == set(decided.servers)

        # What the teardown leaves: the state without what it deleted.
        state["deployment"]["resources"] = [resource for resource in resources if resource["urn"] not in deleted]
        workspace.import_deployment(state)
        preview = workspace.preview()
    ops = {step["urn"]: step["op"] for step in preview["steps"] if step["op"] not in ("same", "read")}
    names = {urn.rsplit("::", 1)[1]: op for urn, op in ops.items()}
    assert {urn for urn, op in ops.items() if op == "create"} == set(decided.servers)
    # The wait for the API server runs again for the new control plane; the provider and every object stay.
    assert {name: op for name, op in names.items() if op != "create"} == {"hub-cluster-api-ready": "replace"}
    kubernetes = [resource["urn"] for resource in resources if resource["type"].startswith("kubernetes:")]
    assert len(kubernetes) == 11 and not set(kubernetes) & set(ops)
