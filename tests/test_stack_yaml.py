"""config.stack_yaml: a stack file read as Pulumi reads it (yaml.v3, then Pulumi's JSON config object). The engine
tier compares it with the real CLI (tests/engine/test_stack_yaml.py); these pin each rule without it."""

from __future__ import annotations

import pytest

from config.stack_yaml import StackYamlError, load, plain


@pytest.mark.parametrize("text, value", [
    ("yes", "yes"), ("no", "no"), ("on", "on"), ("y", "y"),  # YAML 1.1 booleans are text to yaml.v3
    ("true", True), ("False", False), ("~", None), ("", None),
    ("1e3", 1000), ("1.5", 1.5), ("2.0", 2), (".5", 0.5),  # a float without fraction arrives as an integer (JSON)
    ("0755", 493), ("0o17", 15), ("0x1F", 31), ("0b101", 5), ("1_000", 1000), ("+3", 3),
    ("1:30", "1:30"),  # no sexagesimal numbers in YAML 1.2
    ("2025-10-20", "2025-10-20 00:00:00 +0000 UTC"),  # Go's time.String()
    ("2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.1 -0500 -0500"),
    ("2025-13-40", "2025-13-40"), ('"2025-10-20"', "2025-10-20"), ("1.33.5", "1.33.5"), ("!!str 0755", "0755"),
])
def test_scalar_as_pulumi_passes_it(text, value):
    read = plain(load(f"key: {text}\n"))["key"]
    assert read == value and type(read) is type(value)


def test_numbers_and_dates_keep_the_text_written_for_messages():
    written: dict = {}
    plain(load("a: 1e3\nb:\n  - 2025-10-20\nc: text\n"), (), written)
    assert written == {("a",): "1e3", ("b", 0): "2025-10-20"}


def test_keys_become_text_as_go_prints_them():
    assert plain(load("1: a\ntrue: b\n")) == {"1": "a", "true": "b"}


@pytest.mark.parametrize("text, line", [("a: 1\nb: 2\na: 3\n", 3), ("m:\n  x: 1\n  x: 2\n", 3), ('1: a\n"1": b\n', 2)])
def test_a_key_written_twice_is_refused_with_its_line(text, line):
    with pytest.raises(StackYamlError) as caught:
        load(text)
    assert caught.value.line == line and "written twice" in caught.value.message


def test_not_a_number_pulumi_can_pass():
    with pytest.raises(StackYamlError, match="not a number Pulumi can pass"):
        load("a: .inf\n")
