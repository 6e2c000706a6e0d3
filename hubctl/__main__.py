"""`python -m hubctl …`: offline plan, config check, JSON schema and key reference."""

from __future__ import annotations

import json
import re
import shlex
import statistics
import time
from pathlib import Path
from typing import Optional

import typer

from config import ConfigError, HubConfig, json_schema, load_stack_file, read_stack_file

from .plan import PROJECT_DIR, render_tree, run_program, write_plan
from .reference import render_reference

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__, pretty_exceptions_enable=False)


def _stack_file(stack: str, config_path: Optional[Path]) -> tuple[str, Path]:
    if config_path is None:
        return stack, PROJECT_DIR / f"Pulumi.{stack}.yaml"
    match = re.fullmatch(r"Pulumi\.(.+)\.yaml", config_path.name)
    if not match:
        raise typer.BadParameter(f"{config_path} is not named Pulumi.<stack>.yaml", param_hint="--config")
    return match[1], config_path


def _load(stack: str, config_path: Optional[Path]):
    stack, path = _stack_file(stack, config_path)
    if not path.is_file():
        typer.echo(f"error: no stack file {path} (give --stack <name> or --config <path>)", err=True)
        raise typer.Exit(2)
    try:
        return stack, load_stack_file(path)
    except ConfigError as error:
        typer.echo(error.render(), err=True)
        raise typer.Exit(1) from None


@app.command()
def plan(
    stack: str = typer.Option("dev", help="Stack whose Pulumi.<stack>.yaml is planned."),
    config: Optional[Path] = typer.Option(None, help="Any Pulumi.<stack>.yaml, instead of --stack."),
    out: Optional[Path] = typer.Option(None, help="Output folder (default build/plan/<stack>)."),
    quiet: bool = typer.Option(False, help="Do not print the tree."),
) -> None:
    """Run the program under mocks with a stack's config; write plan.json, Helm values and cloud-init."""
    stack, hub_config = _load(stack, config)
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
    """Validate a stack file and print the hostname it gives."""
    stack, hub_config = _load(stack, config)
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
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_reference())
    typer.echo(f"wrote {out}")


@app.command()
def bench(
    stacks: list[str] = typer.Argument(None, help="Stacks to time (default: dev prod)."),
    runs: int = typer.Option(5, min=1, help="Runs per stack; the median is reported."),
) -> None:
    """Wall time of the offline plan per stack (load, run under mocks, write), median of N runs."""
    import subprocess
    import sys

    for stack in stacks or ["dev", "prod"]:
        times = []
        for _ in range(runs):
            # A fresh interpreter each run: what `make plan` costs, imports included.
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "hubctl", "plan", "--stack", stack, "--quiet",
                 "--out", str(PROJECT_DIR / "build" / "bench" / stack)],
                check=True, cwd=PROJECT_DIR, stdout=subprocess.DEVNULL,
            )
            times.append(time.perf_counter() - started)
        typer.echo(
            f"{stack}: median {statistics.median(times):.2f} s over {runs} runs "
            f"(min {min(times):.2f}, max {max(times):.2f})"
        )


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
def volumes(
    stack: str = typer.Option("dev", help="Stack whose Pulumi.<stack>.yaml names the hub."),
    config: Optional[Path] = typer.Option(None, help="Any Pulumi.<stack>.yaml, instead of --stack."),
    fix: bool = typer.Option(False, "--fix", help="Delete attachments whose server is gone (after asking)."),
    adopt: bool = typer.Option(False, "--adopt", help="Add the homes and hub database of earlier clusters to "
                               "hub.userStorage.adopt (pulumi config set), for the next `pulumi up` to serve."),
    yes: bool = typer.Option(False, "--yes", help="With --fix: do not ask."),
    json_output: bool = typer.Option(False, "--json", help="The inventory as JSON, for scripts."),
) -> None:
    """Every Cinder volume of the hub (shared data, k3s state, hub database, users' homes) with status, size,
    attachment and owner; flags stuck states and attachments to servers that are gone. Credentials as the
    openstack CLI reads them (clouds.yaml with OS_CLOUD, or OS_* variables)."""
    from . import volumes as inventory

    stack, hub_config = _load(stack, config)
    try:
        api = inventory.connect()
        volumes_found, servers, attachments = inventory.read_cloud(api)
    except inventory.CloudError as error:
        typer.echo(f"hubctl volumes: {error}", err=True)
        raise typer.Exit(1) from None
    rows = inventory.classify(volumes_found, servers, hub_config, attachments)
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
