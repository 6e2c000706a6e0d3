"""Load the hub config from the running stack (`pulumi up`) or from a `Pulumi.<stack>.yaml` file (offline).

Both go through `parse`, so both sources give the same model for the same config. A stack file is read as Pulumi
reads it (config.stack_yaml), and every key beside `hubstack:hub` is checked too: a setting made without
`--path`, a typo in a namespace or in a provider's key would otherwise be ignored without a word.
"""

from __future__ import annotations

import difflib
import functools
import importlib.util
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from pydantic import SecretStr, ValidationError

from . import stack_yaml
from .errors import UNSET_SECRET, ConfigError, join_path, problems_from_validation
from .model import SECRET_PLACEHOLDER, HubConfig
from .provider_cloud import cloud_mismatches, credential_warnings, provider_cloud

PROJECT = "hubstack"
CONFIG_KEY = "hub"
# What Pulumi reads from a stack file (sdk/go/common/workspace/project.go, ProjectStack).
STACK_FILE_KEYS = ("config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment")
# Namespaces whose keys the program's providers read, besides the engine's own `pulumi:` settings. The
# Kubernetes provider is made from the cluster's kubeconfig, so no `kubernetes:` key would reach it.
PROVIDER_NAMESPACES = ("openstack", "command", "random", "tls")
OPENSTACK_SECRET_KEYS = ("password", "applicationCredentialSecret", "token")


def parse(
    data: Any,
    source: str = "",
    *,
    offline: bool = False,
    plaintext_secrets: bool = False,
    secrets_required: bool = False,
    written: Optional[dict[tuple[str | int, ...], str]] = None,
) -> HubConfig:
    """Validate the value of `hubstack:hub`.

    `offline`: encrypted secrets stand as placeholders, and so do unset ones unless `secrets_required`.
    `plaintext_secrets`: the source could only hold a secret in plain text (an unencrypted stack file), so any
    secret set there is refused. `written`: the text of numbers and dates as the file has them, for messages.
    """
    if not isinstance(data, dict):
        raise ConfigError(
            [(CONFIG_KEY, f"must be a mapping of the hub's settings under `config: {PROJECT}:{CONFIG_KEY}:`")],
            source,
        )
    context = {"offline": offline, "plaintext_secrets": plaintext_secrets, "secrets_required": secrets_required}
    try:
        return HubConfig.model_validate(data, context=context)
    except ValidationError as error:
        raise ConfigError(problems_from_validation(error, data, HubConfig, written or {}), source) from None


def load_from_stack() -> HubConfig:
    """The running stack's config; the only place that reads `pulumi.Config`."""
    import pulumi

    # Nested `secure:` values arrive decrypted; the model knows which fields are secrets and the components
    # wrap them in `pulumi.Output.secret` again.
    from pulumi.runtime.config import is_config_secret

    key = f"{PROJECT}:{CONFIG_KEY}"
    source = f"stack {pulumi.get_stack()}"
    config = parse(pulumi.Config(PROJECT).get_object(CONFIG_KEY), source, plaintext_secrets=not is_config_secret(key))
    openstack = pulumi.Config("openstack")
    settings = {name: value for name in ("cloud", "authUrl", "region", "applicationCredentialId",
                                         "applicationCredentialName") if (value := openstack.get(name))}
    provider = provider_cloud(settings, os.environ)
    problems = cloud_mismatches(config, provider)
    if problems:
        raise ConfigError([(f"{CONFIG_KEY}.{key}", message) for key, message in problems], source)
    for key, message in credential_warnings(config, provider):
        pulumi.log.warn(f"{CONFIG_KEY}.{key}: {message}")
    return config


@dataclass
class StackFile:
    """A stack file as Pulumi reads it: the `hubstack:hub` value (encrypted values as `{secure: ...}`), the text
    of its numbers and dates as written, and the problems of every other key."""

    hub: Any = None
    written: dict[tuple[str | int, ...], str] = field(default_factory=dict)
    problems: list[tuple[str, str]] = field(default_factory=list)


def read_stack(path: Path) -> StackFile:
    path = Path(path)
    try:
        document = stack_yaml.load(path.read_text(encoding="utf-8-sig"))
    except OSError as error:
        raise ConfigError([(CONFIG_KEY, f"cannot read the stack file: {error.strerror}")], str(path)) from None
    except stack_yaml.StackYamlError as error:
        where = f"line {error.line}" if error.line else "the file"
        raise ConfigError([(where, error.message)], str(path)) from None
    stack = StackFile()
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise ConfigError([("the file", "must be a mapping with a `config:` key")], str(path))
    for key in document:
        if key not in STACK_FILE_KEYS:
            stack.problems.append((key, _top_level_message(key)))
    config = document.get("config")
    if not isinstance(config, dict):
        raise ConfigError(stack.problems or [("config", f"the file has no `config:` mapping; the hub's settings go "
                                                        f"under `config: {PROJECT}:{CONFIG_KEY}:`")], str(path))
    # Pulumi gives a key without a namespace the project's (workspace/loaders.go, stackConfigNamespacedWithProject).
    named = {}
    for key, value in config.items():
        full = key if ":" in key else f"{PROJECT}:{key}"
        if full in named:
            stack.problems.append((key, f"is the same setting as {named[full][0]} (a key without a namespace is "
                                        f"{PROJECT}'s): keep one"))
        else:
            named[full] = (key, value)
    for full, (key, value) in named.items():
        if full == f"{PROJECT}:{CONFIG_KEY}":
            stack.hub = stack_yaml.plain(value, (), stack.written)
        else:
            message = _other_key_message(full, value)
            if message:
                stack.problems.append((key, message))
    if stack.hub is None and not stack.problems:
        stack.problems.append((f"{PROJECT}:{CONFIG_KEY}", "is not set: the hub's settings go under "
                                                          f"`config: {PROJECT}:{CONFIG_KEY}:`"))
    return stack


def _top_level_message(key: str) -> str:
    if key.startswith(f"{PROJECT}:") or key == CONFIG_KEY:
        return "belongs under `config:` (indent it below a `config:` line)"
    close = difflib.get_close_matches(key, STACK_FILE_KEYS, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"is not a key Pulumi reads in a stack file; {hint}a stack file has {', '.join(STACK_FILE_KEYS)}"


def _other_key_message(key: str, value: Any) -> Optional[str]:
    """The problem of a config key other than `hubstack:hub`, or None where it is one Pulumi or a provider reads."""
    namespace, _, name = key.partition(":")
    shown = stack_yaml.plain(value)
    if namespace == PROJECT:
        # `pulumi config set hub.cluster.workerCount 3` without --path makes a key of its own, which nothing reads;
        # a mapping here is a block indented one level too little.
        path = name if name.startswith((f"{CONFIG_KEY}.", f"{CONFIG_KEY}[")) else f"{CONFIG_KEY}.{name}"
        if isinstance(shown, (dict, list)) and not stack_yaml.is_encrypted(value):
            return (f"is not under {PROJECT}:{CONFIG_KEY}, so nothing reads it: indent it below "
                    f"`{PROJECT}:{CONFIG_KEY}:` (it would be {path})")
        command = (f"pulumi config set --secret --path '{path}' <value>" if stack_yaml.is_encrypted(value)
                   else f"pulumi config set --path '{path}' {_shell(shown)}")
        return (
            f"is ignored: {PROJECT} reads one setting, {PROJECT}:{CONFIG_KEY}, and this looks like {path} set "
            f"without --path. Run `pulumi config rm '{key}'` and `{command}`"
        )
    if namespace == "pulumi":
        return None
    if namespace == "openstack":
        known = _openstack_keys()
        if known and name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"did you mean openstack:{close[0]}? " if close else ""
            return f"is not a setting of the OpenStack provider; {hint}see `pulumi config set openstack:<key>` keys " \
                   "in the provider's docs (authUrl, cloud, region, ...)"
        if name in OPENSTACK_SECRET_KEYS and not stack_yaml.is_encrypted(value):
            return (f"is a secret but stands in plain text in the stack file: remove it and run "
                    f"`pulumi config set --secret {key} <value>` (or use clouds.yaml: openstack:cloud)")
        return None
    if namespace in PROVIDER_NAMESPACES:
        return None
    if namespace == "kubernetes":
        return ("is ignored: the program makes its own Kubernetes provider from the cluster it creates, so no "
                f"kubernetes: setting reaches it; remove it (`pulumi config rm '{key}'`)")
    close = difflib.get_close_matches(namespace, [PROJECT, *PROVIDER_NAMESPACES, "pulumi", "kubernetes"], n=1)
    if close == [PROJECT]:
        return f"is not read: the namespace {namespace!r} is not {PROJECT!r}; did you mean {PROJECT}:{name}?"
    hint = f"did you mean {close[0]}:{name}? " if close else ""
    return (f"is not read by this program: {hint}it reads {PROJECT}:{CONFIG_KEY}, pulumi:* and the settings of "
            f"its providers ({', '.join(PROVIDER_NAMESPACES)}); remove it (`pulumi config rm '{key}'`)")


def _shell(value: Any) -> str:
    text = str(value).lower() if isinstance(value, bool) else str(value)
    return text if re.fullmatch(r"[\w.,:/@+=-]+", text) else "'" + text.replace("'", "'\\''") + "'"


@functools.cache
def _openstack_keys() -> list[str]:
    """The OpenStack provider's config keys, from the installed SDK's source (not imported: that is slow)."""
    spec = importlib.util.find_spec("pulumi_openstack")
    if not spec or not spec.submodule_search_locations:
        return []
    source = Path(next(iter(spec.submodule_search_locations))) / "config" / "vars.py"
    if not source.is_file():
        return []
    return sorted(set(re.findall(r"__config__\.get(?:_\w+)?\('(\w+)'\)", source.read_text())))


def read_stack_file(path: Path) -> Any:
    """The raw `hubstack:hub` value of a stack file (encrypted values as `{secure: ...}`)."""
    stack = read_stack(path)
    if stack.hub is None:
        raise ConfigError(stack.problems, str(path))
    return stack.hub


def check_stack_file(path: Path, *, secrets_required: bool) -> tuple[HubConfig, list[tuple[str, str]]]:
    """The validated config of a stack file, and the secrets it leaves unset as warnings (the config's own
    warnings are config.warnings'); ConfigError with every problem at once.

    Offline there is no key to decrypt with: an encrypted secret stands as a placeholder. A secret that is not
    set at all is a problem when `secrets_required` (`pulumi up` would refuse it), else a warning.
    """
    stack = read_stack(path)
    problems, unset, config = list(stack.problems), [], None
    if stack.hub is not None:
        try:
            config = parse(stack.hub, str(path), offline=True, plaintext_secrets=True, secrets_required=True,
                           written=stack.written)
        except ConfigError as error:
            unset = [problem for problem in error.problems if problem[1].startswith(UNSET_SECRET)]
            problems += [problem for problem in error.problems if secrets_required or problem not in unset]
    if problems:
        raise ConfigError(problems, str(path))
    if config is None:  # only secrets unset, which the plan stands placeholders for
        config = parse(stack.hub, str(path), offline=True, plaintext_secrets=True, written=stack.written)
    return config, [(key, f"{message}; until then the plan shows a placeholder") for key, message in unset]


def load_stack_file(path: Path) -> HubConfig:
    """The config of a stack file as the offline plan takes it (unset secrets as placeholders)."""
    return check_stack_file(path, secrets_required=False)[0]


def secret_paths(config: HubConfig) -> list[str]:
    """`pulumi config set --path` paths of the secrets a config holds offline (placeholders)."""
    found: list[str] = []

    def walk(value: Any, parts: list[str | int]) -> None:
        if isinstance(value, SecretStr):
            if value.get_secret_value() == SECRET_PLACEHOLDER:
                found.append(join_path(parts))
        elif isinstance(value, (dict, list)):
            for key, item in (value.items() if isinstance(value, dict) else enumerate(value)):
                walk(item, [*parts, key])

    walk(config.model_dump(mode="python", by_alias=True), [CONFIG_KEY])
    return found


def to_stack_config(config: HubConfig) -> dict[str, Any]:
    """The model as a `hubstack:hub` value again (secrets in clear: only for in-process use, never written)."""
    return _reveal(config.model_dump(mode="python", by_alias=True))


def _reveal(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, dict):
        return {key: _reveal(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_reveal(item) for item in value]
    return value
