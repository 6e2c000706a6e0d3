"""A certificate you bring (hub.tls.type: manual) is checked with the config, before anything is created."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from config import ConfigError, HubConfig, parse
from config.certificates import chain_warning, covers, expiry_warning
from config.model import SECRET_PLACEHOLDER
from hubctl.plan import run_program

from . import certs
from .conftest import set_path, stack_data

DEV_HOST = "dev-hub.hubstack-dev.projects.jetstream-cloud.org"


def _manual(certificate: str, key: str | None = None) -> dict:
    data = stack_data("dev")
    tls = {"type": "manual", "certificate": certificate}
    if key is not None:
        tls["key"] = key
        set_path(data, "auth.clientSecret", "decrypted-by-the-engine")
    set_path(data, "tls", tls)
    return data


def _load(data: dict) -> HubConfig:
    # With a key the stack's secrets are there (pulumi up); without, the offline plan's placeholders stand in.
    secrets_set = "key" in data["tls"]
    return parse(data, offline=not secrets_set, plaintext_secrets=not secrets_set)


def _problems(data: dict) -> dict[str, str]:
    with pytest.raises(ConfigError) as caught:
        _load(data)
    return dict(caught.value.problems)


def test_brought_chain_with_its_key_is_accepted():
    issued = certs.server(DEV_HOST)
    config = _load(_manual(certs.chain(issued, certs.intermediate()), issued.key_pem))
    assert config.tls.type == "manual"


def test_wildcard_certificate_covers_the_hostname():
    issued = certs.server("*.hubstack-dev.projects.jetstream-cloud.org")
    _load(_manual(certs.chain(issued, certs.intermediate()), issued.key_pem))


def test_key_of_another_certificate_is_refused():
    issued, other = certs.server(DEV_HOST), certs.server(DEV_HOST)
    problems = _problems(_manual(certs.chain(issued, certs.intermediate()), other.key_pem))
    assert "does not match hub.tls.certificate" in problems["hub.tls.key"]


def test_key_that_is_no_pem_key_is_refused():
    issued = certs.server(DEV_HOST)
    problems = _problems(_manual(certs.chain(issued), "not a key"))
    assert "is not an unencrypted PEM private key" in problems["hub.tls.key"]


def test_offline_the_placeholder_key_skips_only_the_key_match():
    config = _load(_manual(certs.for_host(DEV_HOST)[0]))
    assert config.tls.key.get_secret_value() == SECRET_PLACEHOLDER
    # Everything else is still checked offline.
    assert "does not cover" in _problems(_manual(certs.chain(certs.server("other.example.org"))))[
        "hub.tls.certificate"
    ]


def _refusals():
    intermediate = certs.intermediate()
    day = timedelta(days=1)
    return [
        ("other-host", certs.chain(certs.server("other.example.org"), intermediate),
         f"does not cover the hub's hostname {DEV_HOST} (other.example.org)"),
        ("wildcard-two-levels-up", certs.chain(certs.server("*.projects.jetstream-cloud.org"), intermediate),
         "does not cover"),
        ("no-subject-alternative-name", certs.chain(certs.server(), intermediate), "no DNS names in subjectAltName"),
        ("expired", certs.chain(certs.server(DEV_HOST, not_before=certs.NOW - 90 * day,
                                             not_after=certs.NOW - day), intermediate), "expired on"),
        ("not-yet-valid", certs.chain(certs.server(DEV_HOST, not_before=certs.NOW + day), intermediate),
         "is not valid before"),
        ("root-in-chain", certs.chain(certs.server(DEV_HOST), intermediate, certs.root()),
         "certificate 3 of the chain (Test Root CA) is a self-signed root; leave the root out"),
        ("self-signed-server", certs.chain(certs.self_signed(DEV_HOST)), "the server certificate is self-signed"),
        ("intermediate-first", certs.chain(intermediate, certs.server(DEV_HOST)),
         "give the server certificate first, then each intermediate in order"),
        ("garbage", "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n",
         "is not a readable PEM certificate chain"),
    ]


@pytest.mark.parametrize("case", _refusals(), ids=lambda case: case[0])
def test_wrong_certificate_is_refused_naming_the_key(case):
    _, certificate, message = case
    problems = _problems(_manual(certificate))
    assert message in problems["hub.tls.certificate"]


@pytest.mark.parametrize(
    "dns_name, hostname, expected",
    [
        ("hub.example.org", "hub.example.org", True),
        ("*.example.org", "hub.example.org", True),
        ("*.example.org", "example.org", False),
        ("*.example.org", "a.hub.example.org", False),
        ("hub.example.org", "hub.example.com", False),
    ],
)
def test_wildcard_matches_exactly_one_label(dns_name, hostname, expected):
    assert covers(dns_name, hostname) is expected


def test_certificate_expiring_within_30_days_warns_and_later_does_not():
    soon = certs.chain(certs.server(DEV_HOST, not_after=certs.NOW + timedelta(days=10)))
    later = certs.chain(certs.server(DEV_HOST, not_after=certs.NOW + timedelta(days=60)))
    warning = expiry_warning(soon, certs.NOW)
    assert warning and "days left" in warning
    assert expiry_warning(later, certs.NOW) is None


def test_program_warns_of_a_certificate_about_to_expire(caplog):
    """`pulumi up` logs it with pulumi.log.warn; the offline plan prints the same message (mock engine log)."""
    issued = certs.server(DEV_HOST, not_after=certs.NOW + timedelta(days=10))
    config = _load(_manual(certs.chain(issued, certs.intermediate())))
    with caplog.at_level(logging.WARNING):
        run_program(config, "dev")
    assert any("hub.tls.certificate" in record.getMessage() and "days left" in record.getMessage()
               for record in caplog.records)


def test_a_chain_without_its_intermediate_warns_and_a_whole_one_does_not():
    issued = certs.server(DEV_HOST)
    assert "append the intermediate" in chain_warning(certs.chain(issued))
    assert chain_warning(certs.chain(issued, certs.intermediate())) is None
