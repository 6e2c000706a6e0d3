"""Load the hub config from the running stack (`pulumi up`) or from a `Pulumi.<stack>.yaml` file (offline plan).

Both go through `parse`, so both sources give the same model for the same config.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import SecretStr, ValidationError

from .errors import ConfigError, problems_from_validation
from .model import HubConfig

PROJECT = "hubstack"
CONFIG_KEY = "hub"


def parse(data: Any, source: str = "", *, offline: bool = False, plaintext_secrets: bool = False) -> HubConfig:
    """Validate the value of `hubstack:hub`.

    `offline`: unset secrets stand as placeholders. `plaintext_secrets`: the source could only hold a secret in
    plain text (an unencrypted stack file), so any secret set there is refused.
    """
    if not isinstance(data, dict):
        raise ConfigError(
            [(CONFIG_KEY, f"must be a mapping of the hub's settings under `config: {PROJECT}:{CONFIG_KEY}:`")],
            source,
        )
    try:
        return HubConfig.model_validate(
            data, context={"offline": offline, "plaintext_secrets": plaintext_secrets}
        )
    except ValidationError as error:
        raise ConfigError(problems_from_validation(error, data, HubConfig), source) from None


def load_from_stack() -> HubConfig:
    """The running stack's config; the only place that reads `pulumi.Config`."""
    import pulumi

    # Nested `secure:` values arrive decrypted; the model knows which fields are secrets and the components
    # wrap them in `pulumi.Output.secret` again.
    from pulumi.runtime.config import is_config_secret

    key = f"{PROJECT}:{CONFIG_KEY}"
    return parse(
        pulumi.Config(PROJECT).get_object(CONFIG_KEY),
        f"stack {pulumi.get_stack()}",
        plaintext_secrets=not is_config_secret(key),
    )


def read_stack_file(path: Path) -> Any:
    """The raw `hubstack:hub` value of a stack file, with encrypted values (`secure:`) left unset."""
    try:
        document = yaml.safe_load(Path(path).read_text()) or {}
    except (OSError, yaml.YAMLError) as error:
        raise ConfigError([(CONFIG_KEY, f"cannot read the stack file: {error}")], str(path)) from None
    config = document.get("config") if isinstance(document, dict) else None
    if not isinstance(config, dict):
        raise ConfigError([(CONFIG_KEY, "the file has no `config:` mapping")], str(path))
    data = config.get(f"{PROJECT}:{CONFIG_KEY}", config.get(CONFIG_KEY))
    return _without_ciphertext(data)


def load_stack_file(path: Path) -> HubConfig:
    return parse(read_stack_file(path), str(path), offline=True, plaintext_secrets=True)


def _without_ciphertext(value: Any) -> Any:
    # Offline there is no key to decrypt with: an encrypted value counts as set but unknown (a placeholder).
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return None
        return {key: _without_ciphertext(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_without_ciphertext(item) for item in value]
    return value


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
