"""Stack config: the validated `HubConfig` and how it is loaded."""

from .errors import ConfigError
from .loader import (
    CONFIG_KEY,
    PROJECT,
    check_stack_file,
    load_from_stack,
    load_stack_file,
    parse,
    read_stack_file,
    secret_paths,
    to_stack_config,
)
from .model import SECRET_PLACEHOLDER, HubConfig, json_schema

__all__ = [
    "CONFIG_KEY",
    "ConfigError",
    "check_stack_file",
    "HubConfig",
    "PROJECT",
    "SECRET_PLACEHOLDER",
    "json_schema",
    "load_from_stack",
    "load_stack_file",
    "parse",
    "read_stack_file",
    "secret_paths",
    "to_stack_config",
]
