"""Stack files read as Pulumi reads them: Go's yaml.v3, then Pulumi's config object (sdk/go/common/resource/config).

PyYAML alone reads YAML 1.1, which differs where admins trip: `yes`/`no`/`on`/`off` are text to Pulumi, not
booleans; `1e3` is the number 1000, not text; a key written twice makes Pulumi refuse the file; an unquoted date is
handed to the program as Go prints a time ("2025-10-20 00:00:00 +0000 UTC"). The rules below follow yaml.v3's
resolve.go (v3.0.1) and Pulumi's unmarshalObject, where every number ends up as JSON.
"""

from __future__ import annotations

import base64
import math
import re
from datetime import datetime, timedelta, timezone
from typing import Any

import yaml

try:
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # PyYAML built without libyaml
    _Loader = yaml.SafeLoader

_PLAIN = "!hubstack/plain"  # a plain (unquoted) scalar, resolved here as yaml.v3 resolves it
_STANDARD = "tag:yaml.org,2002:"
_NULL = {"", "~", "null", "Null", "NULL"}
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_SPECIAL_FLOATS = {".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF"}
_YAML_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_GO_INT = re.compile(r"^[-+]?(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$")
# yaml.v3's allowedTimestampFormats: date; date T time zone; date, one space, time without zone.
_TIMESTAMP = re.compile(
    r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?:"
    r"[Tt](?P<H>\d{1,2}):(?P<M>\d{1,2}):(?P<S>\d{1,2})(?:\.(?P<f>\d{1,9}))?(?P<z>Z|[-+]\d{2}:\d{2})"
    r"| (?P<H2>\d{1,2}):(?P<M2>\d{1,2}):(?P<S2>\d{1,2})(?:\.(?P<f2>\d{1,9}))?)?$"
)


class StackYamlError(ValueError):
    """The file is not YAML that Pulumi accepts; `line` is 1-based (0: unknown)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class _Written:
    """A value with the text it was written as, so that messages quote what the admin wrote (`1e3`, `0755`)."""

    text: str

    def __new__(cls, value: Any, text: str) -> Any:
        made = super().__new__(cls, value)  # type: ignore[call-arg]
        made.text = text
        return made


class UnquotedDate(_Written, str):
    """An unquoted date or time: Pulumi hands the program Go's time.String() of it."""


class NumberFromText(_Written, int):
    pass


class FloatFromText(_Written, float):
    pass


def _go_time_string(match: re.Match[str]) -> str:
    # Go's time.Time.String(): "2006-01-02 15:04:05.999999999 -0700 MST"; a parsed time without a zone is UTC.
    # A fixed offset has no zone name, and Go prints the offset again in its place.
    group = match.groupdict()
    clock = [int(group[key] or group[f"{key}2"] or 0) for key in "HMS"]
    when = datetime(int(group["y"]), int(group["m"]), int(group["d"]), *clock)
    fraction = (group["f"] or group["f2"] or "").rstrip("0")
    zone = group["z"]
    offset, name = ("+0000", "UTC") if zone in (None, "Z") else (zone.replace(":", ""),) * 2
    return f"{when:%Y-%m-%d %H:%M:%S}{'.' + fraction if fraction else ''} {offset} {name}"


def _number(value: float | int, text: str) -> Any:
    # Pulumi passes config objects to the program as JSON: a float without a fraction arrives as an integer.
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise ValueError(f"{text} is not a number Pulumi can pass (NaN and infinity are not JSON)")
        if value.is_integer() and abs(value) < 1e21:
            return NumberFromText(int(value), text)
        return FloatFromText(value, text)
    return NumberFromText(value, text)


def resolve_plain(text: str) -> Any:
    """A plain scalar as yaml.v3 resolves it into an interface{} (resolve.go), then as Pulumi passes it."""
    if text in _NULL:
        return None
    if text in _BOOL:
        return _BOOL[text]
    if text in _SPECIAL_FLOATS:
        raise ValueError(f"{text} is not a number Pulumi can pass (NaN and infinity are not JSON)")
    if not text or text[0] not in "+-0123456789.":
        return text
    if text[0] == ".":
        try:
            return _number(float(text), text)
        except ValueError:
            return text
    timestamp = _TIMESTAMP.match(text)
    if timestamp:
        try:
            return UnquotedDate(_go_time_string(timestamp), text)
        except ValueError:
            pass  # not a real date (2025-13-40): yaml.v3 goes on to read it as a number or text
    plain = text.replace("_", "")
    if _GO_INT.match(plain):
        sign = -1 if plain[0] == "-" else 1
        digits = plain.lstrip("+-")
        if digits[:2].lower() in ("0x", "0o", "0b"):
            value = int(digits[2:], {"x": 16, "o": 8, "b": 2}[digits[1].lower()])
        elif len(digits) > 1 and digits[0] == "0":
            value = int(digits, 8)  # Go's base 0: a leading 0 is octal
        else:
            value = int(digits)
        if -(2**63) <= sign * value < 2**64:
            return _number(sign * value, text)
    if _YAML_FLOAT.match(plain):
        return _number(float(plain), text)
    return text


class _StackLoader(_Loader):  # type: ignore[misc,valid-type]
    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:  # noqa: D102
        if kind is yaml.ScalarNode and implicit[0]:
            return _STANDARD + "merge" if value == "<<" else _PLAIN
        return super().resolve(kind, value, implicit)

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:  # noqa: D102
        seen: dict[tuple[type, Any], int] = {}
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                # yaml.v3 compares keys as written, so `1` and "1" are the same key to it.
                first = seen.setdefault((type(key_node), key_node.value), key_node.start_mark.line + 1)
                if first != key_node.start_mark.line + 1:
                    raise StackYamlError(
                        key_node.start_mark.line + 1,
                        f"the key {key_node.value!r} is written twice in one mapping (lines {first} and "
                        f"{key_node.start_mark.line + 1}); Pulumi refuses the file: keep one",
                    )
        # Pairs, not a dict, until the keys are text: `1:` and `true:` are two keys to Go, one to Python.
        self.flatten_mapping(node)
        return {_go_key(key): value for key, value in self.construct_pairs(node, deep=deep)}


def _go_key(key: Any) -> str:
    # Pulumi turns every mapping key into text as Go's fmt prints it.
    if key is None:
        return "<nil>"
    if isinstance(key, bool):
        return "true" if key else "false"
    return str(key)


def _construct_plain(loader: _StackLoader, node: Any) -> Any:
    try:
        return resolve_plain(node.value)
    except ValueError as error:
        raise StackYamlError(node.start_mark.line + 1, str(error)) from None


def _construct_tagged(kind: str):
    def construct(loader: _StackLoader, node: Any) -> Any:
        text = loader.construct_scalar(node)
        if kind == "str":
            return text
        if kind == "binary":
            return base64.b64decode(text).decode("utf-8", "replace")
        value = resolve_plain(text)
        expected = {"null": type(None), "bool": bool, "int": int, "float": (int, float), "timestamp": UnquotedDate}
        if not isinstance(value, expected[kind]) or (kind == "int" and isinstance(value, bool)):
            raise StackYamlError(node.start_mark.line + 1, f"cannot read {text!r} as !!{kind}")
        return float(value) if kind == "float" else value

    return construct


_StackLoader.add_constructor(_PLAIN, _construct_plain)
for _kind in ("str", "binary", "null", "bool", "int", "float", "timestamp"):
    _StackLoader.add_constructor(_STANDARD + _kind, _construct_tagged(_kind))


def is_encrypted(value: Any) -> bool:
    """A value `pulumi config set --secret` wrote: `{secure: <ciphertext>}`."""
    return isinstance(value, dict) and set(value) == {"secure"}


def plain(value: Any, path: tuple[str | int, ...] = (), written: dict[tuple[str | int, ...], str] | None = None) -> Any:
    """`value` with plain numbers and text only; `written` gets the text of each number and unquoted date by path."""
    written = {} if written is None else written
    if isinstance(value, dict):
        return {key: plain(item, (*path, key), written) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item, (*path, index), written) for index, item in enumerate(value)]
    if isinstance(value, _Written):
        written[path] = value.text
        return next(plain_type(value) for plain_type in (str, int, float) if isinstance(value, plain_type))
    return value


def load(text: str) -> Any:
    """The document as Pulumi's config object holds it, numbers and unquoted dates marked with the text written
    (`plain` strips the marks); StackYamlError where Pulumi would refuse the file."""
    try:
        return yaml.load(text, Loader=_StackLoader)  # noqa: S506 (a safe loader)
    except StackYamlError:
        raise
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 0
        problem = str(error.problem or error)
        if "tab character" in problem:
            problem = "a tab where YAML wants spaces; indent with spaces only"
        raise StackYamlError(line, f"is not valid YAML: {problem}") from None
    except yaml.YAMLError as error:
        raise StackYamlError(0, f"is not valid YAML: {error}") from None


__all__ = ["StackYamlError", "is_encrypted", "load", "plain"]
