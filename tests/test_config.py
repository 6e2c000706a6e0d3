"""The config model over YAML fixtures: valid stacks load, every invalid case names its key path."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from config import ConfigError, HubConfig, parse
from config.model import SECRET_PLACEHOLDER

from .conftest import FIXTURES, PROJECT_DIR, join_path, set_path, stack_data

INVALID = yaml.safe_load((FIXTURES / "invalid-configs.yaml").read_text())
VALID = sorted((FIXTURES / "valid").glob("Pulumi.*.yaml")) + sorted(PROJECT_DIR.glob("Pulumi.*.yaml"))


def _offline(data) -> HubConfig:
    return parse(data, offline=True, plaintext_secrets=True)


def test_enough_invalid_cases():
    assert len(INVALID) >= 25


@pytest.mark.parametrize("case", INVALID, ids=[case["case"] for case in INVALID])
def test_invalid_config_names_key_path(case):
    data = stack_data(case["base"])
    for path, value in case["set"].items():
        set_path(data, path, value)
    with pytest.raises(ConfigError) as caught:
        _offline(data)
    problems = dict(caught.value.problems)
    assert case["error"] in problems, caught.value.render()
    assert case["message"] in problems[case["error"]], caught.value.render()
    assert case["error"] in caught.value.render()


@pytest.mark.parametrize("path", [pytest.param(path, id=path.name) for path in VALID if path.name != "Pulumi.yaml"])
def test_valid_stack_files_load(path: Path):
    from config import load_stack_file

    config = load_stack_file(path)
    assert len(config.hostname) <= 63
    assert config.oauth_callback_url == f"{config.url}/hub/oauth_callback"


def test_unset_secret_offline_is_a_placeholder_and_online_an_error():
    data = stack_data("dev")
    assert _offline(data).auth.client_secret.get_secret_value() == SECRET_PLACEHOLDER
    with pytest.raises(ConfigError) as caught:
        parse(data)
    assert "pulumi config set --secret --path 'hub.auth.clientSecret'" in str(caught.value)


def test_secret_never_shows_in_repr_or_dump():
    data = stack_data("dev")
    set_path(data, "auth.clientSecret", "oauth-client-secret-value")
    config = parse(data)
    assert "oauth-client-secret-value" not in repr(config)
    assert "oauth-client-secret-value" not in config.model_dump_json()


def test_all_problems_listed_at_once():
    data = stack_data("dev")
    set_path(data, "singleuser.image.tag", "~")
    set_path(data, "cloud.adminCidrs", ["nonsense"])
    set_path(data, "culling.every", 1)
    with pytest.raises(ConfigError) as caught:
        _offline(data)
    assert {path for path, _ in caught.value.problems} == {
        "hub.singleuser.image.tag",
        "hub.cloud.adminCidrs[0]",
        "hub.culling.every",
    }


def test_hostname_from_name_and_domain_and_callback_derived():
    config = _offline(stack_data("prod"))
    assert config.hostname == "atmos-course.atm240.projects.jetstream-cloud.org"
    assert config.oauth_callback_url == "https://atmos-course.atm240.projects.jetstream-cloud.org/hub/oauth_callback"


def test_hostname_of_exactly_63_characters_is_accepted():
    data = stack_data("dev")
    set_path(data, "domain", "~")
    fqdn = "h" * 20 + "." + "x" * 30 + ".example.org"  # 63 characters
    set_path(data, "fqdn", fqdn)
    assert len(fqdn) == 63 and _offline(data).hostname == fqdn
    set_path(data, "fqdn", "h" + fqdn)
    with pytest.raises(ConfigError):
        _offline(data)


def test_world_admin_cidr_with_opt_in():
    data = stack_data("dev")
    set_path(data, "cloud.adminCidrs", ["0.0.0.0/0"])
    set_path(data, "cloud.allowAdminFromAnywhere", True)
    assert _offline(data).cloud.admin_cidrs == ["0.0.0.0/0"]


def test_custom_flavor_replaces_builtin_for_fit_check():
    data = stack_data("prod")
    set_path(data, "cloud.flavors", {"m3.large": {"vcpus": 16, "ramGb": 8, "diskGb": 60}})
    with pytest.raises(ConfigError) as caught:
        _offline(data)
    assert "hub.singleuser.memory.guarantee" not in dict(caught.value.problems)
    assert "hub.profiles[0].memory.guarantee" in dict(caught.value.problems)


def test_profile_inherits_singleuser_guarantee_and_blames_singleuser():
    data = stack_data("prod")
    set_path(data, "singleuser.memory", {"guarantee": "70G", "limit": "70G"})
    with pytest.raises(ConfigError) as caught:
        _offline(data)
    assert "hub.singleuser.memory.guarantee" in dict(caught.value.problems)


def test_memory_units_normalised_and_ordered():
    data = stack_data("dev")
    set_path(data, "singleuser.memory", {"guarantee": "1536Mi", "limit": "2Gi"})
    config = _offline(data)
    assert (config.singleuser.memory.guarantee, config.singleuser.memory.limit) == ("1536M", "2G")


def test_model_is_frozen():
    config = _offline(stack_data("dev"))
    with pytest.raises(Exception):
        config.name = "other"  # type: ignore[misc]


# What pydantic says in its own words: none of it may reach an admin.
PYDANTIC_WORDS = re.compile(r"Input should|instance of|String should|Value error|validation error|Field required|"
                            r"should have|Extra inputs|type=|\[type|<class", re.IGNORECASE)
WRONG_VALUES = [[], {}, "x", 12345, 1.5, True, None, -1, "", {"secure": "v1:AAAA"}, "x\u200b"]


def _leaf_paths(value, path=()):
    if path:
        yield path
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        yield from _leaf_paths(item, (*path, key))


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_wrong_value_anywhere_gets_our_words(stack):
    """Each key of the example stacks, set to each kind of wrong value: every problem names a hub key and says
    what is wrong in words of its own, never pydantic's."""
    checked = 0
    for path in _leaf_paths(stack_data(stack)):
        for wrong in WRONG_VALUES:
            data = stack_data(stack)
            set_path(data, join_path(path), wrong)
            try:
                _offline(data)
            except ConfigError as error:
                for key, message in error.problems:
                    checked += 1
                    assert key.startswith("hub"), (path, wrong, key)
                    assert not PYDANTIC_WORDS.search(message), (join_path(path), wrong, message)
    assert checked > 300
