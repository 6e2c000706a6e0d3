"""Validators built from the upstream data in ../shared/upstream/ (the real charts' schemas and defaults)."""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from typing import Any

import jsonschema
import kubernetes_validate
import yaml
from kubernetes_validate.utils import all_versions
from packaging.version import Version

from .conftest import UPSTREAM

Z2JH = UPSTREAM / "z2jh-4.4.0"
CERT_MANAGER = UPSTREAM / "cert-manager-v1.21.1"
KUBESPAWNER_TRAITS = UPSTREAM / "kubespawner-7.0.0" / "kubespawner-traits.txt"


def helm_merge(defaults: Any, overrides: Any) -> Any:
    """Helm's coalescing of user values over a chart's values.yaml: maps merge, anything else replaces."""
    if not (isinstance(defaults, dict) and isinstance(overrides, dict)):
        return copy.deepcopy(overrides)
    merged = copy.deepcopy(defaults)
    for key, value in overrides.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = helm_merge(merged.get(key), value)
    return merged


@lru_cache(maxsize=None)
def _chart(folder: str) -> tuple[dict[str, Any], jsonschema.Draft7Validator]:
    base = UPSTREAM / folder
    schema = json.loads((base / "values.schema.json").read_text())
    return yaml.safe_load((base / "values.yaml").read_text()), jsonschema.Draft7Validator(schema)


def chart_errors(folder: str, values: dict[str, Any]) -> list[str]:
    """Schema errors of `values` merged over the chart's defaults, as 'path: message' lines."""
    defaults, validator = _chart(folder)
    errors = validator.iter_errors(helm_merge(defaults, values))
    return sorted(f"{'.'.join(map(str, error.absolute_path))}: {error.message}" for error in errors)


@lru_cache(maxsize=None)
def kubespawner_traits() -> frozenset[str]:
    lines = KUBESPAWNER_TRAITS.read_text().splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def schema_version(kubernetes_version: str) -> str:
    """The kubernetes-validate schema nearest the cluster's version (the newest not newer, else the oldest)."""
    wanted = Version(".".join(kubernetes_version.split(".")[:2]))
    shipped = sorted({Version(version) for version in all_versions()})
    older = [version for version in shipped if version <= wanted]
    return str(older[-1] if older else shipped[0])


def kubernetes_errors(manifest: dict[str, Any], kubernetes_version: str) -> list[str]:
    try:
        kubernetes_validate.validate(manifest, schema_version(kubernetes_version), strict=True)
    except kubernetes_validate.ValidationError as error:
        return [f"{'.'.join(map(str, error.absolute_path))}: {error.message}"]
    return []
