"""The real Pulumi engine in a throwaway workspace: `pulumi preview` with no cloud, or `pulumi up` against one.

The engine comes from `engine/build.sh` (CLI, Python language host and every provider, no downloads). A workspace
is a temp copy of the project with a file backend, a dummy passphrase, and a dummy value for every secret the stack
needs. Its OpenStack credentials are dummies (a provider only authenticates when it first calls the API, which a
preview of config-driven resources never does) unless a cloud is given (the local cloud of `make cloud`). The
repository's files are never touched.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Optional

import yaml
from pydantic import SecretStr

from config import CONFIG_KEY, PROJECT, HubConfig, parse, secret_paths
from config.errors import get_path, join_path, set_path

PROJECT_DIR = Path(__file__).resolve().parent.parent
BUILD = PROJECT_DIR / "engine" / "build.sh"
CHARTS = PROJECT_DIR / "engine" / "charts.sh"
CONFIG_NAME = f"{PROJECT}:{CONFIG_KEY}"
DUMMY_SECRET = "dummy-secret"
INCOMPLETE = 3  # a `--check` (engine, charts, local cloud): it cannot run here, and says why in one line

# No cloud: credentials that open nothing. The Keystone URL and region are the stack's own (set_config), where
# its Cinder CSI driver goes, for the program refuses a provider that goes elsewhere (config/provider_cloud.py). A
# preview never contacts them: it succeeded with this 127.0.0.1 URL, where nothing listens, and the preview of dev
# took the same time (5 s) with Jetstream2's URL in a sandbox that cannot reach it.
_DUMMY_CLOUD = {
    "OS_AUTH_URL": "http://127.0.0.1:5000/v3", "OS_USERNAME": "dummy", "OS_PASSWORD": "dummy",
    "OS_PROJECT_NAME": "dummy", "OS_USER_DOMAIN_NAME": "Default", "OS_PROJECT_DOMAIN_NAME": "Default",
    "OS_REGION_NAME": "RegionOne", "OS_INTERFACE": "public", "OS_IDENTITY_API_VERSION": "3",
}
# Anything that would point the engine or a provider elsewhere than this workspace (and every OS_* variable).
_CLEARED = ("PULUMI_ACCESS_TOKEN", "PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE_FILE", "KUBECONFIG")


class EngineMissing(RuntimeError):
    """The engine or the chart archives are not built (the message is the check's one line)."""


class PulumiFailed(RuntimeError):
    def __init__(self, command: list[str], result: subprocess.CompletedProcess[str]) -> None:
        self.result = result
        lines = (result.stderr or result.stdout).strip().splitlines()
        # Pulumi's own error lines first (a Go or Python stack trace can follow them), then the tail.
        said = [line for line in lines if line.lstrip().lower().startswith(("error", "warning"))]
        tail = "\n".join([*said[:10], *lines[-15:]])
        super().__init__(f"`pulumi {' '.join(command)}` exited {result.returncode}:\n{tail}")


def engine_bin() -> Path:
    """The bin dir of the complete engine (`engine/build.sh`)."""
    return _checked(BUILD)


def chart_archives() -> Path:
    """The folder of the chart archives of `make charts` (`engine/charts.sh`)."""
    return _checked(CHARTS)


def _checked(script: Path) -> Path:
    # `--check` builds nothing and asks no network: the folder, or one line on what is missing.
    result = subprocess.run([str(script), "--check"], capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise EngineMissing(result.stdout.strip() or result.stderr.strip())
    return Path(result.stdout.strip())


class Workspace:
    """A temp copy of the project with one stack, run by the built engine. Use as a context manager."""

    def __init__(self, stack: str, cloud: Optional[dict[str, str]] = None, program: Path = PROJECT_DIR) -> None:
        """`cloud`: the OS_* variables of a real cloud (e.g. OS_CLOUD and OS_CLIENT_CONFIG_FILE); else dummies.
        `program`: the project folder whose program runs (another commit's worktree, for `hubctl diff`)."""
        self.stack = stack
        self.program = program
        self.bin_dir = engine_bin()
        self._tmp = Path(tempfile.mkdtemp(prefix=f"hubstack-{stack}-"))
        self.project = self._tmp / "project"
        self.env = {key: value for key, value in os.environ.items()
                    if key not in _CLEARED and not key.startswith("OS_")}
        self.env.update(cloud if cloud is not None else _DUMMY_CLOUD)
        self._dummy_cloud = cloud is None
        self.env.update({
            "PATH": f"{self.bin_dir}:{os.environ.get('PATH', '')}",
            # A home of its own (no user credentials) with the engine's providers, and no others.
            "PULUMI_HOME": str(self._tmp / "home"),
            "PULUMI_IGNORE_AMBIENT_PLUGINS": "true",
            "PULUMI_SKIP_UPDATE_CHECK": "1",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PULUMI_CONFIG_PASSPHRASE": "hubstack-offline-dummy",
            "PULUMI_EXPERIMENTAL": "true",  # preview --save-plan
        })
        self._ciphertexts: dict[tuple[str, str], Any] = {}

    def __enter__(self) -> "Workspace":
        try:
            self._copy_program()
            if (PROJECT_DIR / ".venv").exists():
                (self.project / ".venv").symlink_to(PROJECT_DIR / ".venv")
            (self._tmp / "state").mkdir()
            (self._tmp / "home").mkdir()
            (self._tmp / "home" / "plugins").symlink_to(self.bin_dir / "home" / "plugins")
            self.pulumi("login", "--non-interactive", f"file://{self._tmp / 'state'}")
            self.pulumi("stack", "init", "--non-interactive", "--secrets-provider", "passphrase", self.stack)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *_: object) -> None:
        shutil.rmtree(self._tmp, ignore_errors=True)

    def _copy_program(self) -> None:
        shutil.copytree(self.program, self.project, symlinks=True, dirs_exist_ok=True, ignore=shutil.ignore_patterns(
            ".git", ".venv", "build", "__pycache__", "*.pyc", ".pytest_cache", "Pulumi.*.yaml"))

    def use_program(self, program: Path) -> None:
        """Run `program`'s files from now on, on the same stack and state (a pull request's head after its base)."""
        for path in self.project.iterdir():
            if path.name != ".venv" and not (path.name.startswith("Pulumi.") and path.name != "Pulumi.yaml"):
                shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
        self.program = program
        self._copy_program()

    @property
    def stack_file(self) -> Path:
        return self.project / f"Pulumi.{self.stack}.yaml"

    def pulumi(self, *args: str, check: bool = True, timeout: int = 600) -> subprocess.CompletedProcess[str]:
        command = list(args)
        result = subprocess.run(["pulumi", *command], cwd=self.project, env=self.env, capture_output=True,
                                text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise PulumiFailed(command, result)
        return result

    def set_config(self, hub: dict[str, Any], source: str = "", secrets: Optional[dict[str, str]] = None) -> HubConfig:
        """Make `hub` the stack's `hubstack:hub`, with a dummy for every secret it needs (or the value `secrets`
        gives for its path, e.g. a TLS key that must match its certificate); the validated model."""
        config = parse(hub, source, offline=True, plaintext_secrets=True)
        if self._dummy_cloud:
            self.env.update({"OS_AUTH_URL": str(config.cloud.auth_url), "OS_REGION_NAME": str(config.cloud.region)})
        needed = secret_paths(config)
        for path in needed:
            value = (secrets or {}).get(path, DUMMY_SECRET)
            if (path, value) not in self._ciphertexts:
                self._ciphertexts[path, value] = self._encrypt(path, value)
        hub = json.loads(json.dumps(hub))
        for path in needed:
            set_path(hub, path.split(".", 1)[1], self._ciphertexts[path, (secrets or {}).get(path, DUMMY_SECRET)])
        self._write_config({CONFIG_NAME: hub})
        return config

    def _write_config(self, values: dict[str, Any]) -> None:
        # The file keeps what `stack init` wrote (the passphrase provider's salt).
        document = yaml.safe_load(self.stack_file.read_text()) if self.stack_file.exists() else {}
        document["config"] = values
        self.stack_file.write_text(yaml.safe_dump(document, sort_keys=False))

    def _encrypt(self, path: str, value: str) -> Any:
        # The passphrase provider encrypts: set the secret alone, then read its `secure:` value back.
        self._write_config({})
        self.pulumi("config", "set", "--secret", "--path", f"{PROJECT}:{path}", "--", value)
        written = yaml.safe_load(self.stack_file.read_text())["config"][CONFIG_NAME]
        return get_path(written, path.split(".", 1)[1])

    def schemas(self) -> dict[str, Any]:
        """Each provider's Pulumi schema, by package name, from the provider binaries themselves."""
        found = {}
        for binary in sorted((self.bin_dir / "home" / "plugins").glob("resource-*/pulumi-resource-*")):
            schema = json.loads(self.pulumi("package", "get-schema", str(binary)).stdout)
            found[schema["name"]] = schema
        return found

    def update_plan(self) -> dict[str, Any]:
        """The update plan of a preview (`--save-plan`): per resource its goal, its steps and the outputs its
        provider planned, secrets encrypted for this stack."""
        path = self._tmp / "plan.json"
        self.pulumi("preview", "--non-interactive", "--refresh=false", "--save-plan", str(path))
        return json.loads(path.read_text())

    def archives(self, source: Path) -> Path:
        """A folder of this workspace's own with every chart archive of `source` (a change may add one)."""
        folder = self._tmp / "charts"
        folder.mkdir(exist_ok=True)
        for archive in source.glob("*.tgz"):
            (folder / archive.name).symlink_to(archive)
        return folder

    def import_deployment(self, deployment: dict[str, Any]) -> None:
        path = self._tmp / "deployment.json"
        path.write_text(json.dumps(deployment))
        self.pulumi("stack", "import", "--file", str(path), "--force")

    def up(self, *extra: str, timeout: int = 1200) -> None:
        self.pulumi("up", "--yes", "--non-interactive", "--skip-preview", "--stack", self.stack, *extra,
                    timeout=timeout)

    def destroy(self, *extra: str, timeout: int = 1200) -> None:
        self.pulumi("destroy", "--yes", "--non-interactive", "--skip-preview", "--stack", self.stack, *extra,
                    timeout=timeout)

    def outputs(self) -> dict[str, Any]:
        """The stack's outputs, secrets shown as `[secret]`."""
        return json.loads(self.pulumi("stack", "output", "--json", "--stack", self.stack).stdout)

    def deployment(self) -> dict[str, Any]:
        """`pulumi stack export`: the state, secrets encrypted."""
        return json.loads(self.pulumi("stack", "export", "--stack", self.stack).stdout)

    def preview(self, *extra: str, refused_ok: bool = False) -> dict[str, Any]:
        """`pulumi preview --json`, parsed; PulumiFailed (with what pulumi said) unless it succeeds, or with
        `refused_ok` unless it at least ran the program (then "refused" is true and the diagnostics say why)."""
        result = self.pulumi("preview", "--non-interactive", "--json", "--stack", self.stack, *extra, check=False)
        try:
            preview = json.loads(result.stdout)
        except json.JSONDecodeError:
            raise PulumiFailed(["preview", "--json", *extra], result) from None
        preview["refused"] = result.returncode != 0
        if result.returncode != 0 and not (refused_ok and preview.get("steps")):
            said = [d.get("message", "").strip() for d in preview.get("diagnostics", [])]
            result.stderr = "\n".join(said) + "\n" + (result.stderr or "")
            raise PulumiFailed(["preview", "--json", *extra], result)
        return preview
