"""render/naming.py against KubeSpawner 7.0.0's own functions (jupyterhub-kubespawner, a test requirement)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from kubespawner import KubeSpawner, slugs

from render import naming

# Names as identity providers hand them over: GitHub logins, e-mail addresses, mixed case, non-ASCII, digits first,
# KubeSpawner's own separator, and names longer than its 48-character cap.
USERNAMES = [
    "alice", "Alice", "jane.doe@example.org", "user_1", "1st-student", "a--b", "élodie", "名前", "-dash-", "x",
    "github|12345", "a" * 48, "a" * 49, "Very.Long.Name.From.An.Identity.Provider@university.example.edu",
]
SERVERNAMES = ["", "gpu", "My Server", "s" * 40]


def _kubespawner_claim(username: str, servername: str, scheme: str) -> str:
    """The claim name KubeSpawner 7.0.0 itself expands: its real `_expand_user_properties`, on a stand-in spawner
    that has only what the method reads (a spawner object needs a running hub)."""
    spawner = SimpleNamespace(
        name=servername, user=SimpleNamespace(name=username, id=7), slug_scheme=scheme,
        _namespace_default=lambda: "jhub",
    )
    return KubeSpawner._expand_user_properties(spawner, KubeSpawner.pvc_name_template.default_value)


def test_templates_are_kubespawners_defaults():
    assert naming.PVC_NAME_TEMPLATE == KubeSpawner.pvc_name_template.default_value
    assert KubeSpawner.slug_scheme.default_value == "safe"


@pytest.mark.parametrize("name", USERNAMES + ["", "UPPER", "a-", "ab" * 40])
def test_slugs_match_kubespawner(name: str):
    assert naming.escape_slug(name) == slugs.escape_slug(name)
    assert naming.is_valid_object_name(name) == slugs.is_valid_object_name(name)
    assert naming.safe_slug(name) == slugs.safe_slug(name)
    assert naming.safe_slug(name, max_length=naming.SLUG_MAX_LENGTH) == slugs.safe_slug(
        name, max_length=naming.SLUG_MAX_LENGTH)


@pytest.mark.parametrize("scheme", ["safe", "escape"])
@pytest.mark.parametrize("servername", SERVERNAMES)
@pytest.mark.parametrize("username", USERNAMES)
def test_home_claim_name_matches_kubespawner(username: str, servername: str, scheme: str):
    assert naming.home_claim_name(username, servername, scheme) == _kubespawner_claim(username, servername, scheme)


def test_multi_slug_matches_kubespawner():
    names = ["Very.Long.Name.From.An.Identity.Provider@university.example.edu", "My Long Server Name"]
    assert naming.multi_slug(names) == slugs.multi_slug(names)


def test_the_schemes_differ_where_it_matters():
    # What the inventory relies on: a plain login names the same claim in both schemes, an e-mail address does not
    # (the safe one hashes it, the escape one spells each byte out).
    assert naming.home_claim_name("alice") == naming.home_claim_name("alice", scheme="escape") == "claim-alice"
    assert naming.home_claim_name("jane.doe@example.org") == "claim-jane-doe-example-org---" + \
        slugs.hashlib.sha256(b"jane.doe@example.org").hexdigest()[:8]
    assert naming.home_claim_name("jane.doe@example.org", scheme="escape") == "claim-jane-2edoe-40example-2eorg"


def test_unknown_scheme_is_refused():
    with pytest.raises(ValueError, match="slug scheme"):
        naming.user_server("alice", scheme="pretty")
