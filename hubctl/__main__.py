"""`python -m hubctl …`: offline plan, config check, JSON schema and key reference."""

from __future__ import annotations

import json
import re
import shlex
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Optional

import typer

from config import ConfigError, HubConfig, check_stack_file, json_schema, read_stack_file
from config.model import CinderHomes, PROJECT_DIR

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__, pretty_exceptions_enable=False)


def _stack_file(stack: str, config_path: Optional[Path]) -> tuple[str, Path]:
    if config_path is None:
        return stack, PROJECT_DIR / f"Pulumi.{stack}.yaml"
    match = re.fullmatch(r"Pulumi\.(.+)\.yaml", config_path.name)
    if not match:
        raise typer.BadParameter(f"{config_path} is not named Pulumi.<stack>.yaml", param_hint="--config")
    return match[1], config_path


def _load(stack: str, config_path: Optional[Path], *, secrets_required: bool = False,
          warn_unset: bool = False) -> tuple[str, HubConfig]:
    """The stack's name and validated config; its problems printed with exit 1. An unset secret is a problem
    where `secrets_required`, a warning where `warn_unset` (the plan stands a placeholder for it), else nothing:
    volumes and teardown need no secret."""
    stack, path = _stack_file(stack, config_path)
    if not path.is_file():
        typer.echo(f"error: no stack file {path} (give --stack <name> or --config <path>)", err=True)
        raise typer.Exit(2)
    try:
        hub_config, warnings = check_stack_file(path, secrets_required=secrets_required)
    except ConfigError as error:
        typer.echo(error.render(), err=True)
        raise typer.Exit(1) from None
    for key, message in warnings if warn_unset else []:
        typer.echo(f"warning: {key}: {message}", err=True)
    return stack, hub_config


@app.command()
def plan(
    stack: str = typer.Option("dev", help="Stack whose Pulumi.<stack>.yaml is planned."),
    config: Optional[Path] = typer.Option(None, help="Any Pulumi.<stack>.yaml, instead of --stack."),
    out: Optional[Path] = typer.Option(None, help="Output folder (default build/plan/<stack>)."),
    quiet: bool = typer.Option(False, help="Do not print the tree."),
) -> None:
    """Run the program under mocks with a stack's config; write plan.json, Helm values and cloud-init. A secret
    that is not set is a warning here (a placeholder stands in), and a problem for `check` and `pulumi up`."""
    from .plan import render_tree, run_program, write_plan

    stack, hub_config = _load(stack, config, warn_unset=True)
    result = run_program(hub_config, stack)
    target = out or PROJECT_DIR / "build" / "plan" / stack
    written = write_plan(result, target)
    if not quiet:
        typer.echo(render_tree(result))
    typer.echo(f"\nwrote {len(written)} files to {target}")


@app.command()
def check(
    stack: str = typer.Option("dev", help="Stack whose Pulumi.<stack>.yaml is checked."),
    config: Optional[Path] = typer.Option(None, help="Any Pulumi.<stack>.yaml, instead of --stack."),
) -> None:
    """Validate a stack file as `pulumi up` would (every secret set, encrypted) and print the hub's address."""
    from config.warnings import warnings

    stack, hub_config = _load(stack, config, secrets_required=True)
    for key, message in warnings(hub_config):
        typer.echo(f"warning: {key}: {message}", err=True)
    typer.echo(f"{stack}: valid; hub at {hub_config.url}")


@app.command()
def schema(out: Path = typer.Option(PROJECT_DIR / "schema" / "hub-config.schema.json")) -> None:
    """Write the JSON schema of `hubstack:hub` (for editor completion)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(json_schema(), indent=2, sort_keys=True) + "\n")
    typer.echo(f"wrote {out}")


@app.command()
def reference(out: Path = typer.Option(PROJECT_DIR / "docs" / "config-reference.md")) -> None:
    """Write the reference of every config key, generated from the model."""
    from .reference import render_reference

    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_reference())
    typer.echo(f"wrote {out}")


@app.command()
def bench(
    stacks: list[str] = typer.Argument(None, help="Stacks to time (default: dev prod)."),
    runs: int = typer.Option(5, min=1, help="Runs per stack; the median is reported."),
) -> None:
    """Wall time of the offline plan (load, run under mocks, write) and of `check`, per stack, median of N runs.
    Each run is a fresh interpreter, imports included, as `make plan` and `make check` cost."""
    import subprocess

    def timed(command: list[str], ok: tuple[int, ...]) -> float:
        started = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", "hubctl", *command], cwd=PROJECT_DIR,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if result.returncode not in ok:
            raise SystemExit(f"hubctl {' '.join(command)} failed:\n{result.stderr}")
        return time.perf_counter() - started

    for stack in stacks or ["dev", "prod"]:
        out = PROJECT_DIR / "build" / "bench" / stack
        # check exits 1 where the stack leaves a secret unset (the examples do): it has read and judged it all.
        for what, command, ok in (("plan", ["plan", "--stack", stack, "--quiet", "--out", str(out)], (0,)),
                                  ("check", ["check", "--stack", stack], (0, 1))):
            times = [timed(command, ok) for _ in range(runs)]
            typer.echo(f"{stack} {what}: median {statistics.median(times):.2f} s over {runs} runs "
                       f"(min {min(times):.2f}, max {max(times):.2f})")


@app.command()
def preview(
    stack: str = typer.Option("dev", help="Stack whose Pulumi.<stack>.yaml is previewed."),
    json_output: bool = typer.Option(False, "--json", help="`pulumi preview --json` instead of --diff."),
) -> None:
    """Real `pulumi preview` of a stack with the engine of `make engine`: no cloud, no credentials, a dummy for
    every secret the stack file leaves unset."""
    from .engine import EngineMissing, PulumiFailed, Workspace

    stack, _ = _load(stack, None)
    try:
        with Workspace(stack) as workspace:
            workspace.set_config(read_stack_file(PROJECT_DIR / f"Pulumi.{stack}.yaml"), f"Pulumi.{stack}.yaml")
            if json_output:
                typer.echo(json.dumps(workspace.preview(), indent=2))
            else:
                result = workspace.pulumi("preview", "--non-interactive", "--diff", "--stack", stack, check=False)
                typer.echo(result.stdout + result.stderr, nl=False)
                raise typer.Exit(result.returncode)
    except (EngineMissing, PulumiFailed) as error:
        typer.echo(f"hubctl preview: {error}", err=True)
        raise typer.Exit(2 if isinstance(error, EngineMissing) else 1) from None


@app.command()
def changes(
    stack: str = typer.Option("prod", help="The base stack every change edits."),
    out: Path = typer.Option(PROJECT_DIR / "docs" / "changes.md"),
) -> None:
    """Preview every everyday change against a state as if `pulumi up` had succeeded; write the change table."""
    from .changes import CHANGES, NotSettled, render_table, run_changes, settle
    from .engine import EngineMissing, PulumiFailed, Workspace, chart_archives

    stack, _ = _load(stack, None)
    base = read_stack_file(PROJECT_DIR / f"Pulumi.{stack}.yaml")
    started = time.perf_counter()
    try:
        archives = chart_archives()
        with Workspace(stack) as workspace:
            # Helm's checks load the charts: from the archives of `make charts`, since no repository is in reach.
            base.setdefault("charts", {})["archives"] = str(workspace.archives(archives))
            workspace.set_config(base, f"Pulumi.{stack}.yaml")
            rounds = settle(workspace)
            typer.echo(f"{stack}: settled state after {rounds} previews ({time.perf_counter() - started:.1f} s)")
            outcomes = run_changes(workspace, base, CHANGES)
    except (EngineMissing, PulumiFailed, NotSettled) as error:
        typer.echo(f"hubctl changes: {error}", err=True)
        raise typer.Exit(1) from None
    out.write_text(render_table(stack, outcomes))
    typer.echo(f"wrote {out}: {len(outcomes)} changes in {time.perf_counter() - started:.1f} s")


@app.command()
def diff(
    base: str = typer.Argument(..., help="The base: a git ref, or a folder of plans (<folder>/<stack>/plan.json)."),
    head: str = typer.Argument("HEAD", help="The head: a git ref, or a folder of plans."),
    stacks: Optional[list[str]] = typer.Option(None, "--stack", help="A stack to compare (repeat; default: every "
                                               "stack on either side)."),
    touched: bool = typer.Option(False, "--touched", help="Only the stacks whose file BASE..HEAD changes; every "
                                 "stack when it changes anything else but documentation (git refs only)."),
    out: Optional[Path] = typer.Option(None, help="Also write the Markdown to this file."),
    offline: bool = typer.Option(False, "--offline", help="Never the engine: update or replace from the change "
                                 "table, even where `make engine` built it."),
) -> None:
    """What each hub would become from BASE to HEAD, as Markdown for a pull request: resources created, updated,
    replaced and deleted, the Helm values and cloud-init that change, warnings for data and identity at stake, and
    what each stack uses of the project's quota."""
    import tempfile

    from . import diff as compare

    table_path = PROJECT_DIR / "docs" / "changes.md"
    table = compare.read_change_table(table_path.read_text()) if table_path.is_file() else {}
    with tempfile.TemporaryDirectory(prefix="hubctl-diff-") as tmp:
        sides: dict[str, tuple[Optional[Path], Path]] = {}
        worktrees = []
        try:
            for label, ref in (("base", base), ("head", head)):
                folder = Path(ref)
                if folder.is_dir() and ((folder / "plan.json").is_file() or any(folder.glob("*/plan.json"))):
                    sides[label] = (None, folder)
                else:
                    worktrees.append(compare.worktree(PROJECT_DIR, ref, Path(tmp) / label))
                    sides[label] = (worktrees[-1], Path(tmp) / "plans" / label)
            if any(project is None and (plans / "plan.json").is_file() for project, plans in sides.values()) and (
                    len(stacks or []) != 1):
                raise compare.PlanFailed("a folder holding one plan.json is one stack's plan: name it with --stack")
            everywhere = {name for project, plans in sides.values() for name in (
                compare.stacks_at(project) if project else [path.parent.name for path in plans.glob("*/plan.json")])}
            names = list(dict.fromkeys(stacks or [])) or sorted(everywhere)
            if touched:
                names = compare.touched_stacks(compare.changed_files(PROJECT_DIR, base, head), names)
            diffs = [_diff_stack(compare, stack, sides, table, offline) for stack in names]
        except compare.PlanFailed as error:
            typer.echo(f"hubctl diff: {error}", err=True)
            raise typer.Exit(2) from None
        finally:
            for where in worktrees:
                compare.remove_worktree(PROJECT_DIR, where)
    markdown = compare.render(diffs, base, head)
    if out is not None:
        out.write_text(markdown)
    typer.echo(markdown, nl=False)


def _diff_stack(compare, stack: str, sides: dict, table: dict, offline: bool):
    """One stack compared: each side planned in its worktree (or read from its plan folder); where both are
    commits and the engine is built, the resources as its providers diff them."""
    folders, flavors, errors = [], [], []
    for project, plans in (sides["base"], sides["head"]):
        # A plan folder of one stack is that stack's, whatever its name: the stack is what --stack says.
        folder: Optional[Path] = plans if project is None and (plans / "plan.json").is_file() else plans / stack
        stack_file = project / f"Pulumi.{stack}.yaml" if project else None
        if project is not None:
            error = compare.plan_stack(project, stack, folder) if stack_file.is_file() else None
            if error:
                errors.append(error)
            if error or not stack_file.is_file():
                folder = None
        elif not (folder / "plan.json").is_file():
            folder = None
        folders.append(folder)
        flavors.append(compare.flavors_of(stack_file))
    result = compare.compare(stack, *folders, table, *flavors)
    result.error = "\n".join(errors)
    projects = [project for project, _ in (sides["base"], sides["head"])]
    if not offline and not errors and None not in folders and None not in projects:
        from .engine import EngineMissing, engine_bin

        try:
            engine_bin()
        except EngineMissing:
            return result  # offline, as the Markdown says
        changes, why = compare.engine_changes(stack, *projects)
        if changes is not None:
            result.changes, result.source = changes, "engine"
            result.warnings = compare.warnings(*compare.plans_of(*folders), changes)
        if why:
            result.warnings.append(f"the engine's diff: {why}")
    return result


def _read_volumes(hub_config: HubConfig, command: str) -> tuple[Any, list]:
    """The cloud connection and the hub's volumes, classified; a cloud error ends the command in one line."""
    from . import volumes as inventory

    try:
        api = inventory.connect()
        found, servers, attachments = inventory.read_cloud(api)
    except inventory.CloudError as error:
        typer.echo(f"{command}: {error}", err=True)
        raise typer.Exit(1) from None
    return api, inventory.classify(found, servers, hub_config, attachments)


@app.command()
def flavors(
    stack: str = typer.Option("dev", help="Stack whose catalog the cloud's is compared with."),
    config: Optional[Path] = typer.Option(None, help="Any Pulumi.<stack>.yaml, instead of --stack."),
    write: bool = typer.Option(False, "--write", help="Write every flavor into hub.cloud.flavors (one `pulumi "
                               "config set-all --path`, printed before it runs)."),
    json_output: bool = typer.Option(False, "--json", help="The cloud's catalog as JSON, for scripts."),
) -> None:
    """The cloud's flavors (vCPUs, RAM, disk, GPUs from the extra specs) beside the stack's catalog, which a
    preset may have filled for another cloud. Credentials as the openstack CLI reads them."""
    from . import flavors as catalogs
    from . import volumes as inventory

    stack, hub_config = _load(stack, config)
    try:
        cloud = catalogs.catalog(inventory.read_flavors(inventory.connect()))
    except inventory.CloudError as error:
        typer.echo(f"hubctl flavors: {error}", err=True)
        raise typer.Exit(1) from None
    said = catalogs.compare(cloud, hub_config.cloud.flavor_catalog)
    if json_output:
        typer.echo(json.dumps({"stack": stack, "flavors": cloud, "inTheStack": said}, indent=2))
    else:
        typer.echo(f"flavors of the cloud, beside the catalog of stack {stack} "
                   f"(preset {hub_config.cloud.preset}):\n")
        typer.echo(catalogs.render_table(cloud, said))
    if not write:
        if any(state != "same" for state in said.values()) and not json_output:
            typer.echo("\n`hubctl flavors --write` writes them all into hub.cloud.flavors", err=True)
        return
    command = catalogs.set_all_command(cloud, stack)
    typer.echo("  " + shlex.join(command), err=True)
    _pulumi(config.parent if config is not None else PROJECT_DIR, *command[1:], capture=True)
    typer.echo(f"--write: {len(cloud)} flavors in {catalogs.FLAVORS_PATH}", err=True)


@app.command()
def volumes(
    stack: str = typer.Option("dev", help="Stack whose Pulumi.<stack>.yaml names the hub."),
    config: Optional[Path] = typer.Option(None, help="Any Pulumi.<stack>.yaml, instead of --stack."),
    fix: bool = typer.Option(False, "--fix", help="Delete attachments whose server is gone (after asking)."),
    adopt: bool = typer.Option(False, "--adopt", help="Add the homes and hub database of earlier clusters to "
                               "hub.userStorage.adopt (pulumi config set), for the next `pulumi up` to serve."),
    yes: bool = typer.Option(False, "--yes", help="With --fix or --delete-home: do not ask."),
    json_output: bool = typer.Option(False, "--json", help="The inventory as JSON, for scripts."),
    delete_home: Optional[str] = typer.Option(None, "--delete-home", metavar="USER", help="Delete USER's home for "
                                              "good: its claim and volume in the cluster, then the Cinder volume "
                                              "(after asking; the user's server must be stopped)."),
) -> None:
    """Every Cinder volume of the hub (shared data, k3s state, hub database, users' homes) with status, size,
    attachment and owner; flags stuck states and attachments to servers that are gone. Credentials as the
    openstack CLI reads them (clouds.yaml with OS_CLOUD, or OS_* variables)."""
    from . import volumes as inventory

    stack, hub_config = _load(stack, config)
    api, rows = _read_volumes(hub_config, "hubctl volumes")
    stale = inventory.stale_attachments(rows)
    if json_output:
        typer.echo(json.dumps({
            "hub": hub_config.name, "stack": stack, "volumes": [row.as_json() for row in rows],
            "staleAttachments": [attachment.attachment_id for _, attachment in stale],
            "adminRequests": [{"volume": row.id, "command": flag.command}
                              for row, flag in inventory.admin_requests(rows)],
        }, indent=2))
    else:
        typer.echo(f"volumes of the hub {hub_config.name} (stack {stack}):\n")
        typer.echo(inventory.render_table(rows, hub_config.name))
        typer.echo("\nthe same with the openstack CLI:")
        for command in inventory.equivalent_commands(hub_config.name):
            typer.echo(f"  {command}")
    if delete_home is not None:
        _delete_home(stack, config, hub_config, rows, api, delete_home, yes)
        return
    if adopt:
        _adopt(stack, config, hub_config, rows)
    if not fix:
        return
    # Messages go to stderr under --json, so that stdout stays one JSON document.
    err = json_output
    for row, flag in inventory.admin_requests(rows):
        typer.echo(f"not fixed here (a cloud admin's): {row.name or row.id}: send them `{flag.command}`", err=err)
    if not stale:
        typer.echo("--fix: no stale attachment to delete", err=err)
        return
    typer.echo(f"--fix will delete {len(stale)} attachment(s) whose server is gone:", err=err)
    for row, attachment in stale:
        typer.echo(f"  {inventory.delete_attachment_command(attachment.attachment_id)}"
                   f"   # {row.name or row.id}, server {attachment.server_id}", err=err)
    if not yes and not typer.confirm("Delete them?", err=True):
        typer.echo("nothing deleted", err=err)
        raise typer.Exit(1)
    try:
        inventory.delete_attachments(api, [attachment.attachment_id for _, attachment in stale])
    except inventory.CloudError as error:
        typer.echo(f"hubctl volumes --fix: {error}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"deleted {len(stale)} attachment(s); run `hubctl volumes --stack {stack}` again to see the "
               "volumes' new state", err=err)


def _pulumi(project_dir: Path, *args: str, capture: bool = False) -> "subprocess.CompletedProcess[str]":
    """Run the admin's own `pulumi` (on PATH, with their backend and secrets) in the project's folder."""
    import shutil
    import subprocess

    if shutil.which("pulumi") is None:
        typer.echo("hubctl: no `pulumi` on PATH (https://www.pulumi.com/docs/install/)", err=True)
        raise typer.Exit(2)
    result = subprocess.run(["pulumi", *args], cwd=project_dir, text=True, capture_output=capture)
    if result.returncode != 0:
        said = (result.stderr or "").strip() if capture else "see its output above"
        typer.echo(f"hubctl: `{shlex.join(['pulumi', *args[:3]])} …` failed: {said}", err=True)
        raise typer.Exit(1)
    return result


@app.command()
def teardown(
    stack: str = typer.Option("dev", help="Stack to tear down."),
    config: Optional[Path] = typer.Option(None, help="Any Pulumi.<stack>.yaml, instead of --stack."),
    everything: bool = typer.Option(False, "--all", help="The hub for good: also delete the shared data, the "
                                    "cluster's state, the hub database and every user's home (asks for the hub's "
                                    "name)."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask (pulumi destroy --yes)."),
    confirm: Optional[str] = typer.Option(None, "--confirm", help="With --all --yes: the hub's name, typed back."),
) -> None:
    """Delete the cluster's servers and keep everything else: the network, the floating IP, the cluster's identity,
    its Kubernetes objects and every volume. The next `pulumi up` boots new servers that resume the cluster, and
    every user finds their home. Reads the stack's state with `pulumi stack export`, prints what goes and what
    stays and the exact `pulumi destroy` it runs."""
    from . import teardown as plan

    stack, hub_config = _load(stack, config)
    project_dir = config.parent if config is not None else PROJECT_DIR
    state = json.loads(_pulumi(project_dir, "stack", "export", "--stack", stack, capture=True).stdout)
    resources = state.get("deployment", {}).get("resources") or []
    if everything:
        _teardown_all(stack, hub_config, project_dir, resources, yes, confirm)
        return
    decided = plan.plan_teardown(resources)
    if decided.empty:
        typer.echo(f"nothing to tear down: the stack {stack} holds no server (`pulumi up --stack {stack}` builds "
                   "them)")
        return
    typer.echo(f"teardown of the hub {hub_config.name} (stack {stack}):")
    typer.echo("\n".join(plan.describe(resources, decided)))
    command = plan.destroy_command(stack, decided, yes=yes)
    typer.echo(f"\nruns (in {project_dir}):\n  {shlex.join(command)}\n")
    _pulumi(project_dir, *command[1:])
    typer.echo(f"\ntorn down; `pulumi up --stack {stack}` brings the cluster back with every user's home")


def _teardown_all(stack: str, hub_config: HubConfig, project_dir: Path, resources: list, yes: bool,
                  confirm: Optional[str]) -> None:
    from . import teardown as plan
    from . import volumes as inventory

    api, rows = _read_volumes(hub_config, "hubctl teardown --all")
    volumes = {row.id: (row.name, row.size_gb, row.role) for row in rows}
    for volume_id, name, size in plan.stack_volumes(resources):
        volumes.setdefault(volume_id, (name, size, "the stack's"))
    commands = [["pulumi", "state", "unprotect", "--all", "--yes", "--stack", stack],
                ["pulumi", "destroy", "--stack", stack, "--yes"]]
    typer.echo(f"deleting the hub {hub_config.name} (stack {stack}) for good:")
    typer.echo(f"  - every resource of the stack ({len(resources)})")
    for volume_id, (name, size, role) in sorted(volumes.items(), key=lambda item: (item[1][0] or "", item[0])):
        typer.echo(f"  - volume {name or volume_id}, {size} GB ({role}; id {volume_id})")
    typer.echo("runs:")
    for command in commands:
        typer.echo(f"  {shlex.join(command)}")
    typer.echo(f"  openstack volume delete {' '.join(sorted(volumes))}" if volumes else "  (no volume to delete)")
    if yes:
        typed = confirm
        if typed is None:
            typer.echo("hubctl teardown --all --yes: give the hub's name with --confirm", err=True)
            raise typer.Exit(2)
    else:
        typed = typer.prompt(f"Type the hub's name ({hub_config.name}) to delete it and all its data")
    if typed != hub_config.name:
        typer.echo(f"{typed!r} is not {hub_config.name!r}: nothing deleted", err=True)
        raise typer.Exit(1)
    for command in commands:
        _pulumi(project_dir, *command[1:])
    left = inventory.delete_volumes(api, sorted(volumes))
    for problem in left:
        typer.echo(f"not deleted: {problem}", err=True)
    if left:
        raise typer.Exit(1)
    for address in plan.kept_floating_ips(resources):
        typer.echo(f"kept, as floatingIp.keepOnTeardown says: floating IP {address} (`openstack floating ip delete "
                   f"{address}` releases it)")
    typer.echo(f"the hub {hub_config.name} is gone; `pulumi stack rm --stack {stack}` removes its empty stack")


def _delete_home(stack: str, config_path: Optional[Path], hub_config: HubConfig, rows: list, api, user: str,
                 yes: bool) -> None:
    """One user's home, for good: the claim and its PersistentVolume in the cluster first (else KubeSpawner would
    find a claim bound to a volume that is gone, and the user could not start a server), then the Cinder volume."""
    from render import naming
    from render.cloud_init import NFS_EXPORT_PATH

    from . import volumes as inventory
    from .cluster_api import Cluster, ClusterError

    if not isinstance(hub_config.user_storage, CinderHomes):
        typer.echo(f"homes are on the NFS share: {user}'s home is the folder {NFS_EXPORT_PATH}/home/"
                   f"{naming.safe_slug(user)} on the server that serves it; with {user}'s server stopped, remove it "
                   "there (`sudo rm -rf` over SSH)", err=True)
        raise typer.Exit(1)
    homes = inventory.homes_of(rows, user)
    if not homes:
        typer.echo(f"no home of {user!r} among the hub's volumes (the table above lists whose each is)", err=True)
        raise typer.Exit(1)
    refusals = inventory.home_deletion_refusals(homes, hub_config)
    for refusal in refusals:
        typer.echo(f"not deleted: {refusal}", err=True)
    if refusals:
        raise typer.Exit(1)
    project_dir = config_path.parent if config_path is not None else PROJECT_DIR
    outputs = json.loads(_pulumi(project_dir, "stack", "output", "--json", "--show-secrets", "--stack", stack,
                                 capture=True).stdout or "{}")
    typer.echo(f"\ndeletes {user}'s home for good:")
    for row in homes:
        typer.echo(f"  - claim {row.claim} and its PersistentVolume (cluster), volume {row.id}, {row.size_gb} GB")
    if "kubeconfig" not in outputs:
        typer.echo("  (the stack deploys no Kubernetes layer: claims in your own cluster are yours to delete)")
    if not yes and not typer.confirm("Delete it?", err=True):
        typer.echo("nothing deleted", err=True)
        raise typer.Exit(1)
    try:
        if "kubeconfig" in outputs:
            with Cluster(outputs["kubeconfig"]) as cluster:
                for row in homes:
                    namespace, claim = row.claim.split("/", 1)
                    volume_name = cluster.claim_volume(namespace, claim)
                    cluster.delete_claim(namespace, claim)
                    if volume_name:
                        cluster.delete_volume(volume_name)
    except ClusterError as error:
        typer.echo(f"hubctl volumes --delete-home: {error}; nothing deleted in Cinder", err=True)
        raise typer.Exit(1) from None
    left = inventory.delete_volumes(api, [row.id for row in homes])
    for problem in left:
        typer.echo(f"not deleted: {problem}", err=True)
    if left:
        raise typer.Exit(1)
    typer.echo(f"deleted {user}'s home; their next server starts with an empty one")


def _adopt(stack: str, config_path: Optional[Path], hub_config: HubConfig, rows: list) -> None:
    """Write the adoptable volumes into the stack's config with `pulumi config set`, printing each command."""
    import shutil
    import subprocess

    from . import volumes as inventory

    decided = inventory.adoptions(rows, hub_config)
    entries = [adoption.entry for adoption in decided if adoption.entry is not None]
    typer.echo(f"\n--adopt: {len(entries)} volume(s) to give back to their claims", err=True)
    for adoption in decided:
        if adoption.entry is None:
            typer.echo(f"  not adopted: {adoption.claim}: {adoption.refused}", err=True)
    if not entries:
        return
    start = len(hub_config.user_storage.adopt)
    commands = inventory.config_set_commands(entries, start, stack)
    project_dir = config_path.parent if config_path is not None else PROJECT_DIR
    if shutil.which("pulumi") is None:
        typer.echo("hubctl volumes --adopt: no `pulumi` on PATH; run these in the project's folder:", err=True)
        for command in commands:
            typer.echo("  " + shlex.join(command), err=True)
        raise typer.Exit(1)
    for command in commands:
        typer.echo("  " + shlex.join(command), err=True)
        result = subprocess.run(command, cwd=project_dir, capture_output=True, text=True)
        if result.returncode != 0:
            typer.echo(f"hubctl volumes --adopt: {' '.join(command[:4])} failed: {result.stderr.strip()}", err=True)
            raise typer.Exit(1)
    typer.echo(f"--adopt: {len(entries)} volume(s) in {inventory.ADOPT_PATH}; `pulumi preview` shows their "
               "PersistentVolumes, `pulumi up` makes them", err=True)


if __name__ == "__main__":
    app()
