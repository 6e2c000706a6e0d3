"""Stack config: the validated `HubConfig` and how it is loaded."""

from .errors import ConfigError
from .loader import CONFIG_KEY, PROJECT, load_from_stack, load_stack_file, parse, read_stack_file, to_stack_config
from .model import SECRET_PLACEHOLDER, HubConfig, json_schema

__all__ = [
    "CONFIG_KEY",
    "ConfigError",
    "HubConfig",
    "PROJECT",
    "SECRET_PLACEHOLDER",
    "json_schema",
    "load_from_stack",
    "load_stack_file",
    "parse",
    "read_stack_file",
    "to_stack_config",
]
