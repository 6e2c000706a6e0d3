"""Validators built from the upstream data in ../shared/upstream/ (the real charts' schemas and defaults)."""

from __future__ import annotations

import copy
import json
import os
import subprocess
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml
from kubernetes_validate.utils import all_versions
from packaging.version import Version

from config.model import DEFAULT_CERT_MANAGER_CHART

from .conftest import PROJECT_DIR, UPSTREAM

Z2JH = UPSTREAM / "z2jh-4.4.0"
CERT_MANAGER = UPSTREAM / "cert-manager-v1.21.1"
KUBESPAWNER_TRAITS = UPSTREAM / "kubespawner-7.0.0" / "kubespawner-traits.txt"
# Upstream data that is not in ../shared/upstream/, from Go modules (`make upstream` downloads them from the Go module
# proxy): cert-manager's CRDs at the chart's version (deploy/crds/, the source of the chart's); the HelmChartConfig
# CRD of k3s's helm-controller (its schema is the same in the 0.16 and 0.17 lines); a Traefik chart of the majors k3s
# ships (v37), whose values k3s's Traefik takes from a HelmChartConfig.
CERT_MANAGER_MODULE = f"github.com/cert-manager/cert-manager@{DEFAULT_CERT_MANAGER_CHART}"
HELM_CONTROLLER_MODULE = "github.com/k3s-io/helm-controller@v0.16.27"
TRAEFIK_CHART_MODULE = "github.com/traefik/traefik-helm-chart@v37.1.1+incompatible"
GO_MODULES = (CERT_MANAGER_MODULE, HELM_CONTROLLER_MODULE, TRAEFIK_CHART_MODULE)


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


@lru_cache(maxsize=None)
def go_module(module: str) -> Path:
    # Only from the module cache (GOPROXY=off): tests reach no network.
    env = {**os.environ, "GOPROXY": "off", "GOFLAGS": "-mod=mod", "GOTOOLCHAIN": "local"}
    result = subprocess.run(["go", "mod", "download", "-json", module], cwd=PROJECT_DIR, env=env,
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise AssertionError(f"{module} is not in the Go module cache: run `make upstream` "
                             f"(`make test` does): {result.stdout.strip()} {result.stderr.strip()}")
    return Path(json.loads(result.stdout)["Dir"])


def _closed(schema: Any) -> Any:
    """The schema with unknown fields refused: the API server would prune them silently, so a typo'd field would
    vanish instead of failing."""
    if isinstance(schema, list):
        return [_closed(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    closed = {key: _closed(value) for key, value in schema.items()}
    if ("properties" in schema and "additionalProperties" not in schema
            and not schema.get("x-kubernetes-preserve-unknown-fields")):
        closed["additionalProperties"] = False
    return closed


@lru_cache(maxsize=None)
def _crd_validator(crd_file: Path, version: str) -> jsonschema.Draft4Validator:
    crd = yaml.safe_load(crd_file.read_text())
    (served,) = [entry for entry in crd["spec"]["versions"] if entry["name"] == version]
    return jsonschema.Draft4Validator(_closed(served["schema"]["openAPIV3Schema"]))


def _crd_errors(manifest: dict[str, Any], crd_file: Path) -> list[str]:
    errors = _crd_validator(crd_file, manifest["apiVersion"].split("/")[1]).iter_errors(manifest)
    return sorted(f"{'.'.join(map(str, error.absolute_path))}: {error.message}" for error in errors)


def cert_manager_errors(manifest: dict[str, Any], plural: str) -> list[str]:
    """Errors of a cert-manager object against its CRD's schema (unknown fields refused)."""
    group = manifest["apiVersion"].split("/")[0]
    return _crd_errors(manifest, go_module(CERT_MANAGER_MODULE) / "deploy" / "crds" / f"{group}_{plural}.yaml")


def helm_chart_config_errors(manifest: dict[str, Any]) -> list[str]:
    """Errors of a k3s HelmChartConfig against its CRD's schema (unknown fields refused)."""
    crds = go_module(HELM_CONTROLLER_MODULE) / "pkg" / "crds" / "yaml" / "generated"
    return _crd_errors(manifest, crds / "helm.cattle.io_helmchartconfigs.yaml")


@lru_cache(maxsize=None)
def traefik_chart() -> tuple[dict[str, Any], Any, str]:
    """The Traefik chart's default values, a validator of its values schema, and its pod template (where its values
    become Traefik's arguments)."""
    chart = go_module(TRAEFIK_CHART_MODULE) / "traefik"
    schema = json.loads((chart / "values.schema.json").read_text())
    return (yaml.safe_load((chart / "values.yaml").read_text()), jsonschema.validators.validator_for(schema)(schema),
            (chart / "templates" / "_podtemplate.tpl").read_text())
