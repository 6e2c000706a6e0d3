"""Config errors that name the key path (`hub.profiles[1].memory.limit`) and say what would be right."""

from __future__ import annotations

import difflib
import re
import types
from collections.abc import Iterable, Sequence
from typing import Annotated, Any, Optional, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from .stack_yaml import is_encrypted

ROOT_KEY = "hub"
# How every unset secret's message starts: the offline plan takes these as warnings, `check` as problems.
UNSET_SECRET = "is a secret and is not set"
CAMEL_CASE = "is not a key: keys are camelCase here"
ENCRYPTED_NOT_SECRET = "is encrypted (set with --secret), but it is not a secret: set it again without --secret"


# What each string pattern of the model means, in words with an example: pydantic would show the regex.
_PATTERN_RULES: dict[str, str] = {}


def rule(pattern: str, words: str) -> str:
    """`pattern`, remembered with the words that say it, for the message of a value that does not match."""
    _PATTERN_RULES[pattern] = words
    return pattern


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
    typed = str(loc[-1])
    camel = _camel(typed)
    if camel != typed and camel in known:
        return f"{CAMEL_CASE}, write {camel}"
    lowered = {key.lower(): key for key in known}
    if typed.lower() in lowered:
        return f"is not a key: keys are case-sensitive, write {lowered[typed.lower()]}"
    close = difflib.get_close_matches(typed, known, n=1)
    hint = f"did you mean {close[0]}? " if close else ""
    return f"is not a known key; {hint}known keys here: {', '.join(known)}"


def _parts(key: str) -> list[str | int]:
    """A rule's key (`profiles.1.default` or `adopt[0].claim`) as path parts."""
    return [int(part) if isinstance(part, str) and part.isdigit() else part for part in split_path(key)]


def _field_at(root: type[BaseModel], loc: Sequence[str | int]) -> Optional[FieldInfo]:
    """The pydantic field where `loc` ends (None inside a list, a mapping or a union member's tag)."""
    annotation: Any = root
    for part in loc[:-1]:
        annotation = _step(annotation, part)
    for member in _members(annotation):
        if isinstance(member, type) and issubclass(member, BaseModel):
            for name, info in member.model_fields.items():
                if loc and loc[-1] in (name, info.alias):
                    return info
    return None


_KINDS = {
    "string_type": "must be text",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "list_type": "must be a list (one `- item` a line, or [a, b])",
    "dict_type": "must be a mapping of names to values (`name: value` lines)",
    "model_type": "must be a mapping of settings (`key: value` lines below it)",
    "model_attributes_type": "must be a mapping of settings (`key: value` lines below it)",
}
_YAML_WORDS = {True: "true", False: "false", None: "empty"}


def _value_text(value: Any, written: Optional[str]) -> str:
    if written is not None:
        return written
    if isinstance(value, bool) or value is None:
        return _YAML_WORDS[value]
    return str(value)


def _message(detail: Any, root: type[BaseModel], loc: Sequence[str | int], value: Any, written: Optional[str]) -> str:
    """pydantic's complaint in the words of the stack file: what is wrong, and what would be right."""
    kind = detail["type"]
    context = detail.get("ctx") or {}
    info = _field_at(root, loc)
    help_text = f" ({info.description.rstrip('.')})" if info is not None and info.description else ""
    shown = _value_text(value, written)
    if is_encrypted(value):
        return ENCRYPTED_NOT_SECRET
    if written is not None and isinstance(value, str):
        return f"{written} unquoted is a date to YAML (Pulumi would pass {value!r}): put it in quotes, \"{written}\""
    if kind == "string_type" and written is not None:
        return f"{written} is read as a number, not text: put it in quotes, \"{written}\""
    if kind == "string_type" and isinstance(value, bool):
        return f"{shown} is read as a boolean, not text: put it in quotes if you mean the text{help_text}"
    if kind == "string_pattern_mismatch":
        words = _PATTERN_RULES.get(context.get("pattern", ""))
        return f"{shown!r} is not {words}{help_text}" if words else f"{shown!r} is not valid here{help_text}"
    if kind in ("string_too_short", "too_short") and not value:
        return f"must not be empty{help_text}"
    if kind == "too_short":
        return f"must list at least {context.get('min_length')}{help_text}"
    if kind in ("string_too_long", "too_long"):
        return f"is too long: at most {context.get('max_length')}{' characters' * (kind == 'string_too_long')}"
    bounds = {"greater_than": "more than", "greater_than_equal": "at least", "less_than": "less than",
              "less_than_equal": "at most"}
    if kind in bounds:
        limit = next(iter(context.values()), "")
        return f"{shown} is out of range: it must be {bounds[kind]} {limit}{help_text}"
    if kind == "literal_error":
        return f"{shown!r} is not one of {context.get('expected', '').replace(' or ', ', ')}"
    if kind in _KINDS and value is None:
        return f"is empty: it {_KINDS[kind]}{help_text}"
    if kind in _KINDS:
        got = ("a list" if isinstance(value, list) else "a mapping" if isinstance(value, dict)
               else shown if isinstance(value, bool) else repr(shown))
        return f"{_KINDS[kind]}, not {got}{help_text}"
    if kind == "missing":
        return f"is required{help_text}"
    return f"{detail['msg']}{help_text}"


def problems_from_validation(
    error: ValidationError, data: Any, root: type[BaseModel], written: Optional[dict[tuple[str | int, ...], str]] = None
) -> list[tuple[str, str]]:
    problems = []
    for detail in error.errors(include_url=False):
        loc = detail["loc"]
        in_input = _path_in_input(loc, data)
        parts: list[str | int] = [ROOT_KEY, *in_input]
        if loc and isinstance(parts[-1], str) and detail["type"] != "extra_forbidden":
            # A default that failed validation (an unset secret) is reported by Python name: use the key. An
            # unknown key stays as typed, even where it is a Python name (client_secret).
            parts[-1] = _fields_at(root, loc[:-1]).get(parts[-1], parts[-1])
        cause = (detail.get("ctx") or {}).get("error")
        if isinstance(cause, RuleViolation):
            if cause.key:
                parts += _parts(cause.key)
            message = cause.message
        elif isinstance(cause, ValueError):
            message = str(cause)
        elif detail["type"] == "extra_forbidden" and loc[-1] == "secure" and len(parts) > 1:
            parts.pop()
            message = ENCRYPTED_NOT_SECRET
        elif detail["type"] == "extra_forbidden":
            message = _unknown_key_message(root, detail["loc"])
        elif detail["type"] in ("union_tag_invalid", "union_tag_not_found"):
            context = detail["ctx"]
            parts.append(context["discriminator"].strip("'"))
            message = f"use one of {', '.join(_tags_at(root, loc))}"
            message = (f"{context['tag']!r} is not a known type: {message}" if "tag" in context
                       else f"is required: {message}")
        else:
            message = _message(detail, root, loc, detail.get("input"), (written or {}).get(tuple(in_input)))
        path = join_path(parts)
        problems.append((path, message.replace("{path}", path)))
    # A key typed in snake_case leaves its camelCase key unset: say the one thing to fix, not also its echo.
    renamed = {path.rsplit(".", 1)[0] + "." + _camel(path.rsplit(".", 1)[1])
               for path, message in problems if message.startswith(CAMEL_CASE)}
    return [(path, message) for path, message in problems
            if path not in renamed or message.startswith(CAMEL_CASE)]


def _camel(key: str) -> str:
    return re.sub(r"[_-]+([a-z0-9])", lambda match: match[1].upper(), key)
