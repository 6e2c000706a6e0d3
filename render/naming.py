"""Names of what holds a hub's data: its volumes in OpenStack, and the claims KubeSpawner 7 gives users' homes
(pure re-implementations of its slug schemes).

z2jh 4.4.0 runs KubeSpawner 7.0.0, whose default `slug_scheme` is "safe" and whose default `pvc_name_template` is
`claim-{user_server}` (z2jh leaves `singleuser.storage.dynamic.pvcNameTemplate` empty, so KubeSpawner's default
applies). Homes made by KubeSpawner before 7 carry names of the older "escape" scheme, and KubeSpawner 7 keeps
using a claim name it has recorded (`remember_pvc_name`), so both schemes name claims that exist today.

The functions follow kubespawner/slugs.py and KubeSpawner._expand_user_properties of 7.0.0 (BSD-3-Clause), and
escapism 1.1.0 for the old scheme; tests/test_naming.py checks them against those functions themselves. They are
written here rather than imported so that hubctl and the program do not depend on JupyterHub.
"""

from __future__ import annotations

import hashlib
import re
import string

def shared_data_volume_name(hub: str) -> str:
    """The Cinder volume of the NFS share (components/shared_data_volume.py): renamed with the hub."""
    return f"{hub}-shared-data"


def state_volume_name(hub: str) -> str:
    """The Cinder volume of k3s's state (components/cluster_identity.py): renamed with the hub."""
    return f"{hub}-k3s-state"


# KubeSpawner's default pvc_name_template (7.0.0) and the z2jh chart's hub database claim (4.4.0:
# "jupyterhub.hub-pvc.fullname" is "<hub fullname>-db-dir", and with fullnameOverride "" the hub is "hub").
PVC_NAME_TEMPLATE = "claim-{user_server}"
CLAIM_PREFIX = "claim-"
HUB_DB_CLAIM = "hub-db-dir"

# KubeSpawner caps each of {username}, {servername} and {user_server} at 48 characters.
SLUG_MAX_LENGTH = 48
_HASH_LENGTH = 8

_ALPHA_LOWER = tuple(string.ascii_lowercase)
_ALPHANUM_LOWER = tuple(string.ascii_lowercase + string.digits)
_OBJECT_NAME = re.compile(r"^[a-z0-9\-]+$")
_NOT_ALPHANUM = re.compile(r"[^a-z0-9]+")
_ESCAPE_SAFE = frozenset(string.ascii_lowercase + string.digits)


def is_valid_object_name(name: str) -> bool:
    """A DNS label under RFC 1035 and RFC 1123: what KubeSpawner keeps unchanged."""
    return (
        0 < len(name) <= 63
        and name.startswith(_ALPHA_LOWER)
        and name.endswith(_ALPHANUM_LOWER)
        and bool(_OBJECT_NAME.match(name))
    )


def _extract_safe_name(name: str, max_length: int) -> str:
    safe = _NOT_ALPHANUM.sub("-", name.lower())
    safe = safe.lstrip("-")[:max_length].rstrip("-")
    if safe and not safe.startswith(_ALPHA_LOWER):
        safe = "x-" + safe[: max_length - 2]
    return safe or "x"


def _strip_and_hash(name: str, max_length: int) -> str:
    name_length = max_length - (_HASH_LENGTH + 3)
    if name_length < 1:
        raise ValueError(f"cannot make safe names shorter than {_HASH_LENGTH + 4}")
    digest = hashlib.sha256(name.encode("utf8")).hexdigest()[:_HASH_LENGTH]
    # "---" before the hash: it cannot collide with the "{username}--{servername}" join.
    return f"{_extract_safe_name(name, name_length)}---{digest}"


def safe_slug(name: str, max_length: int | None = None) -> str:
    """KubeSpawner 7's "safe" slug: the name itself when it is already a valid object name (and has no "--"),
    else a stripped name with a hash of the original."""
    if "--" not in name and is_valid_object_name(name) and (max_length is None or len(name) <= max_length):
        return name
    return _strip_and_hash(name, max_length or 32)


def multi_slug(names: list[str], max_length: int = SLUG_MAX_LENGTH) -> str:
    """Several names joined by "--" with one hash of them all (a user and server name too long together)."""
    hasher = hashlib.sha256(names[0].encode("utf8"))
    for name in names[1:]:
        hasher.update(b"\xff")  # never a UTF-8 start byte: words cannot run into each other
        hasher.update(name.encode("utf8"))
    per_name = (max_length - (_HASH_LENGTH + 1)) // len(names) - 2
    if per_name < 2:
        raise ValueError(f"not enough characters for {len(names)} names: {max_length}")
    return f"{'--'.join(_extract_safe_name(name, per_name) for name in names)}---{hasher.hexdigest()[:_HASH_LENGTH]}"


def escape_slug(name: str) -> str:
    """The "escape" scheme of KubeSpawner before 7: every character but [a-z0-9] becomes "-" and the hex of each
    of its UTF-8 bytes (escapism with "-" as the escape character), then lower case."""
    escaped = []
    for character in name:
        if character in _ESCAPE_SAFE:
            escaped.append(character)
        else:
            escaped.extend(f"-{byte:X}" for byte in character.encode("utf8"))
    return "".join(escaped).lower()


def user_server(username: str, servername: str = "", scheme: str = "safe") -> str:
    """`{user_server}` as KubeSpawner 7 expands it, for one slug scheme."""
    if scheme == "escape":
        escaped = escape_slug(username)
        return f"{escaped}--{escape_slug(servername)}" if servername else escaped
    if scheme != "safe":
        raise ValueError(f"slug scheme must be 'safe' or 'escape', not {scheme!r}")
    safe_username = safe_slug(username, max_length=SLUG_MAX_LENGTH)
    safe_servername = safe_slug(servername, max_length=SLUG_MAX_LENGTH) if servername else ""
    if len(safe_username) + len(safe_servername) + 2 > SLUG_MAX_LENGTH:
        return multi_slug([username, servername], max_length=SLUG_MAX_LENGTH)
    return f"{safe_username}--{safe_servername}" if servername else safe_username


def home_claim_name(username: str, servername: str = "", scheme: str = "safe") -> str:
    """The claim KubeSpawner 7 makes for a user's (default or named) server with z2jh's default template."""
    # KubeSpawner strips a trailing "-" left by an empty server name (the template does not end in "-").
    return PVC_NAME_TEMPLATE.format(user_server=user_server(username, servername, scheme)).rstrip("-")
