"""Config errors that name the key path (`hub.profiles[1].memory.limit`) and say what would be right."""

from __future__ import annotations

import difflib
import re
import types
from collections.abc import Iterable, Sequence
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

ROOT_KEY = "hub"


class RuleViolation(ValueError):
    """A cross-field rule broken at `key` (a dotted sub-path of the model that raised it)."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key
        self.message = message


class ConfigError(Exception):
    """Every problem of one stack config, each as (key path, message)."""

    def __init__(self, problems: Sequence[tuple[str, str]], source: str = "") -> None:
        self.problems = list(problems)
        self.source = source
        super().__init__(self.render())

    def render(self) -> str:
        where = f" in {self.source}" if self.source else ""
        lines = [f"invalid hub config{where} ({len(self.problems)} problem{'s' * (len(self.problems) != 1)}):"]
        lines += [f"  - {path}: {message}" for path, message in self.problems]
        return "\n".join(lines)


def join_path(parts: Iterable[str | int]) -> str:
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def split_path(path: str) -> list[str | int]:
    """`profiles[1].memory.limit` -> ["profiles", 1, "memory", "limit"]: join_path's inverse."""
    return [int(index) if index else key for key, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path)]


def get_path(data: Any, path: str) -> Any:
    """The value at `profiles[1].memory.limit` in nested dicts and lists."""
    for step in split_path(path):
        data = data[step]
    return data


def set_path(data: Any, path: str, value: Any) -> None:
    """Set the value at `profiles[1].memory.limit` in nested dicts and lists, making missing dicts on the way."""
    *parents, last = split_path(path)
    for step in parents:
        data = data.setdefault(step, {}) if isinstance(step, str) else data[step]
    data[last] = value


def _path_in_input(loc: Sequence[str | int], data: Any) -> list[str | int]:
    """Keep the parts of pydantic's `loc` that are keys of the user's input.

    pydantic adds the tag of a discriminated union (`auth.github.clientId`) and the member type of a plain
    union to `loc`; the user wrote neither, so they are dropped by walking the input alongside.
    """
    kept: list[str | int] = []
    current = data
    for index, part in enumerate(loc):
        last = index == len(loc) - 1
        if isinstance(current, dict):
            if part not in current and current.get("type") == part:
                continue  # the tag of a discriminated union, not a key
            if part in current or last:
                kept.append(part)
                current = current.get(part)
        elif isinstance(current, list) and isinstance(part, int):
            kept.append(part)
            current = current[part] if part < len(current) else None
        else:
            break
    return kept


def _members(annotation: Any) -> list[Any]:
    origin = get_origin(annotation)
    if origin is Annotated:
        return _members(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return [member for argument in get_args(annotation) for member in _members(argument)]
    return [annotation]


def _step(annotation: Any, part: str | int) -> Any:
    for member in _members(annotation):
        if isinstance(member, type) and issubclass(member, BaseModel):
            for name, field in member.model_fields.items():
                if part in (name, field.alias):
                    return field.annotation
            tag = member.model_fields.get("type")
            if tag is not None and get_args(tag.annotation) == (part,):
                return member
        elif get_origin(member) is list and isinstance(part, int):
            return get_args(member)[0]
        elif get_origin(member) is dict and isinstance(part, str):
            return get_args(member)[1]
    return None


def _fields_at(root: type[BaseModel], loc: Sequence[str | int]) -> dict[str, str]:
    """Python name -> config key of the model where pydantic's `loc` points (union tags lead through unions)."""
    annotation: Any = root
    for part in loc:
        annotation = _step(annotation, part)
    for member in _members(annotation):
        if isinstance(member, type) and issubclass(member, BaseModel):
            return {name: field.alias or name for name, field in member.model_fields.items()}
    return {}


def _tags_at(root: type[BaseModel], loc: Sequence[str | int]) -> list[str]:
    """The `type` values of the discriminated union at `loc`."""
    annotation: Any = root
    for part in loc:
        annotation = _step(annotation, part)
    tags = []
    for member in _members(annotation):
        if isinstance(member, type) and issubclass(member, BaseModel) and "type" in member.model_fields:
            tags += get_args(member.model_fields["type"].annotation)
    return tags


def _known_keys(root: type[BaseModel], loc: Sequence[str | int]) -> list[str]:
    return list(_fields_at(root, loc).values())


def _unknown_key_message(root: type[BaseModel], loc: Sequence[str | int]) -> str:
    known = _known_keys(root, loc[:-1])
    close = difflib.get_close_matches(str(loc[-1]), known, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"is not a known key; {hint}known keys here: {', '.join(known)}"


def _parts(key: str) -> list[str | int]:
    return [int(part) if part.isdigit() else part for part in key.split(".")]


def problems_from_validation(error: ValidationError, data: Any, root: type[BaseModel]) -> list[tuple[str, str]]:
    problems = []
    for detail in error.errors(include_url=False):
        loc = detail["loc"]
        parts: list[str | int] = [ROOT_KEY, *_path_in_input(loc, data)]
        if loc and isinstance(parts[-1], str):
            # A default that failed validation (an unset secret) is reported by Python name: use the key.
            parts[-1] = _fields_at(root, loc[:-1]).get(parts[-1], parts[-1])
        cause = (detail.get("ctx") or {}).get("error")
        if isinstance(cause, RuleViolation):
            if cause.key:
                parts += _parts(cause.key)
            message = cause.message
        elif isinstance(cause, ValueError):
            message = str(cause)
        elif detail["type"] == "extra_forbidden":
            message = _unknown_key_message(root, detail["loc"])
        elif detail["type"] in ("union_tag_invalid", "union_tag_not_found"):
            context = detail["ctx"]
            parts.append(context["discriminator"].strip("'"))
            message = f"use one of {', '.join(_tags_at(root, loc))}"
            message = f"{context['tag']!r} is not a known type: {message}" if "tag" in context else f"is required: {message}"
        elif detail["type"] == "missing":
            message = "is required"
        else:
            message = detail["msg"]
        path = join_path(parts)
        problems.append((path, message.replace("{path}", path)))
    return problems
