"""Both config sources (the running stack, a stack file) give the same model through the same validation."""

from __future__ import annotations

import json

import pulumi
import pytest

from config import ConfigError, load_from_stack, load_stack_file

from .conftest import PROJECT_DIR, HubMocks, set_path, stack_data

KEY = "hubstack:hub"


@pytest.fixture
def stack_config():
    """Run with Pulumi's mocks and set the stack's config the way the engine hands it to the program."""
    pulumi.runtime.set_mocks(HubMocks(), project="hubstack", stack="dev", preview=True)

    def set_config(value, secret: bool = True):
        pulumi.runtime.set_all_config({KEY: json.dumps(value)}, [KEY] if secret else [])

    yield set_config
    pulumi.runtime.set_all_config({}, [])


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_stack_config_and_stack_file_give_equal_models(stack_config, stack):
    from_file = load_stack_file(PROJECT_DIR / f"Pulumi.{stack}.yaml")
    data = stack_data(stack)
    # The engine hands over the decrypted secret; offline the file's secret is a placeholder.
    set_path(data, "auth.clientSecret", "decrypted-by-the-engine")
    stack_config(data)
    from_stack = load_from_stack()
    assert from_stack.auth.client_secret.get_secret_value() == "decrypted-by-the-engine"
    without_secret = {"auth": {"client_secret"}}
    assert from_stack.model_dump(exclude=without_secret) == from_file.model_dump(exclude=without_secret)
    assert from_stack.model_copy(update={"auth": from_file.auth}) == from_file


def test_stack_config_without_secrets_is_equal_in_full(stack_config, tmp_path):
    data = stack_data("dev")
    set_path(data, "auth", {"type": "dummy", "allowDummy": True, "allowedUsers": ["alice"]})
    stack_file = tmp_path / "Pulumi.test.yaml"
    stack_file.write_text(json.dumps({"config": {KEY: data}}))
    stack_config(data, secret=False)
    assert load_from_stack() == load_stack_file(stack_file)


def test_secret_set_in_plain_stack_config_is_refused(stack_config):
    data = stack_data("dev")
    set_path(data, "auth.clientSecret", "typed-without---secret")
    stack_config(data, secret=False)
    with pytest.raises(ConfigError) as caught:
        load_from_stack()
    assert "hub.auth.clientSecret" in str(caught.value) and "plain text" in str(caught.value)


def test_missing_config_key_is_a_clear_error(stack_config):
    pulumi.runtime.set_all_config({}, [])
    with pytest.raises(ConfigError) as caught:
        load_from_stack()
    assert "hubstack:hub" in str(caught.value)


def test_encrypted_value_in_file_counts_as_set_offline(tmp_path):
    data = stack_data("dev")
    set_path(data, "auth.clientSecret", {"secure": "v1:AAAA"})
    stack_file = tmp_path / "Pulumi.enc.yaml"
    stack_file.write_text(json.dumps({"config": {KEY: data}}))
    assert load_stack_file(stack_file).auth.client_secret.get_secret_value() == "[secret]"
