"""The reference of every config key, generated from the model so that it cannot drift from it."""

from __future__ import annotations

import types
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from config import HubConfig

_HEADER = """# Stack config reference

Generated from `config/model.py` by `make docs` (`python -m hubctl reference`); do not edit by hand.

Everything lives under one stack config key, `hubstack:hub`. Each path below is also what
`pulumi config set --path 'hub.<path>' <value>` takes, and what an error message names. Secrets are set with
`pulumi config set --secret --path …`, never written in plain text. A JSON schema for editors is in
`schema/hub-config.schema.json`.

| key | type | default | description |
|---|---|---|---|
"""


def _members(annotation: Any) -> list[Any]:
    origin = get_origin(annotation)
    if origin is Annotated:
        return _members(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return [member for argument in get_args(annotation) for member in _members(argument)]
    return [annotation]


def _type_name(annotation: Any) -> str:
    names = []
    for member in _members(annotation):
        origin = get_origin(member)
        if member is type(None):
            continue
        if member is SecretStr:
            names.append("secret")
        elif origin is Literal:
            names.append(" \\| ".join(f"`{value}`" for value in get_args(member)))
        elif origin is list:
            names.append(f"list of {_type_name(get_args(member)[0])}")
        elif origin is dict:
            names.append(f"map of {_type_name(get_args(member)[1])}")
        elif isinstance(member, type) and issubclass(member, BaseModel):
            names.append("object")
        else:
            names.append(getattr(member, "__name__", str(member)))
    return " or ".join(dict.fromkeys(names))


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    if field.default_factory is not None:
        value = field.default_factory()
    else:
        value = field.default
    if value is None or value is PydanticUndefined:
        return ""
    if isinstance(value, BaseModel):
        return ""  # an object's defaults are listed under its own keys
    return f"`{value}`" if value not in ({}, []) else ""


def _rows(model: type[BaseModel], prefix: str) -> list[str]:
    rows = []
    for name, field in model.model_fields.items():
        key = f"{prefix}.{field.alias or name}"
        description = (field.description or "").replace("|", "\\|")
        if name == "type" and get_origin(field.annotation) is Literal:
            continue
        rows.append(f"| `{key}` | {_type_name(field.annotation)} | {_default(field)} | {description} |")
        models = [m for m in _members(field.annotation) if isinstance(m, type) and issubclass(m, BaseModel)]
        for inner in [get_args(m)[0] for m in _members(field.annotation) if get_origin(m) in (list, dict)]:
            models += [m for m in _members(inner) if isinstance(m, type) and issubclass(m, BaseModel)]
        container = next((get_origin(m) for m in _members(field.annotation) if get_origin(m) in (list, dict)), None)
        child_prefix = key + ("[]" if container is list else ".<name>" if container is dict else "")
        for member in models:
            tag = member.model_fields.get("type")
            if tag is not None and get_origin(tag.annotation) is Literal and len(models) > 1:
                value = get_args(tag.annotation)[0]
                rows.append(f"| `{child_prefix}.type: {value}` | | | {member.__doc__ or ''} |".replace("\n", " "))
            rows += _rows(member, child_prefix)
    return rows


def render_reference() -> str:
    return _HEADER + "\n".join(_rows(HubConfig, "hub")) + "\n"
