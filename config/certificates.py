"""Checks of a certificate you bring (`hub.tls.type: manual`), run while the config is validated.

A wrong certificate would otherwise surface only in a browser after `pulumi up`: refused here with the key
path, before anything is created.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from .errors import RuleViolation

EXPIRY_WARNING = timedelta(days=30)


def load_chain(certificate_pem: str) -> list[x509.Certificate]:
    try:
        return x509.load_pem_x509_certificates(certificate_pem.encode())
    except ValueError as error:
        raise RuleViolation("certificate", f"is not a readable PEM certificate chain: {error}") from None


def _name(certificate: x509.Certificate) -> str:
    common_names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(common_names[0].value) if common_names else certificate.subject.rfc4514_string()


def _is_self_signed(certificate: x509.Certificate) -> bool:
    if certificate.issuer != certificate.subject:
        return False
    try:
        certificate.verify_directly_issued_by(certificate)
    except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
        return False
    return True


def _dns_names(certificate: x509.Certificate) -> list[str]:
    try:
        alternative_names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return [name.lower().rstrip(".") for name in alternative_names.get_values_for_type(x509.DNSName)]


def covers(dns_name: str, hostname: str) -> bool:
    """RFC 6125 matching: exact, or a wildcard standing for exactly one left-most label."""
    if dns_name == hostname:
        return True
    if dns_name.startswith("*."):
        first, _, rest = hostname.partition(".")
        return bool(first) and rest == dns_name[2:]
    return False


def check_chain(chain: list[x509.Certificate], hostname: str, now: datetime) -> None:
    """The chain serves `hostname` now: right order, no root, valid dates, the name in subjectAltName."""
    server = chain[0]
    for index, certificate in enumerate(chain):
        if _is_self_signed(certificate):
            what = "the server certificate is self-signed" if index == 0 else (
                f"certificate {index + 1} of the chain ({_name(certificate)}) is a self-signed root"
            )
            hint = "browsers refuse it: use a CA-issued certificate or type: letsencrypt" if index == 0 else (
                "leave the root out: clients have it, and some refuse a chain that sends it"
            )
            raise RuleViolation("certificate", f"{what}; {hint}")
    for index, (certificate, issuer) in enumerate(zip(chain, chain[1:])):
        try:
            certificate.verify_directly_issued_by(issuer)
        except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
            raise RuleViolation(
                "certificate",
                f"certificate {index + 2} of the chain ({_name(issuer)}) did not issue certificate {index + 1} "
                f"({_name(certificate)}): give the server certificate first, then each intermediate in order",
            ) from None
    for certificate in chain:
        if certificate.not_valid_after_utc <= now:
            raise RuleViolation(
                "certificate",
                f"{_name(certificate)} expired on {certificate.not_valid_after_utc:%Y-%m-%d}: renew it",
            )
        if certificate.not_valid_before_utc > now:
            raise RuleViolation(
                "certificate",
                f"{_name(certificate)} is not valid before {certificate.not_valid_before_utc:%Y-%m-%d %H:%M} UTC",
            )
    names = _dns_names(server)
    if not any(covers(name, hostname) for name in names):
        listed = ", ".join(names) if names else "no DNS names in subjectAltName"
        raise RuleViolation("certificate", f"does not cover the hub's hostname {hostname} ({listed})")


def check_key(server: x509.Certificate, key_pem: str) -> None:
    try:
        key = serialization.load_pem_private_key(key_pem.encode(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise RuleViolation("key", "is not an unencrypted PEM private key") from None
    public = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(*public) != server.public_key().public_bytes(*public):
        raise RuleViolation(
            "key", "does not match hub.tls.certificate (a different key pair): set the key issued with it"
        )


def expiry_warning(certificate_pem: str, now: datetime) -> str | None:
    """A warning when the server certificate expires within EXPIRY_WARNING (the config is valid otherwise)."""
    server = load_chain(certificate_pem)[0]
    left = server.not_valid_after_utc - now
    if left < EXPIRY_WARNING:
        return (
            f"{_name(server)} expires on {server.not_valid_after_utc:%Y-%m-%d} ({left.days} days left): renew it "
            "and set the new chain and key"
        )
    return None


def chain_warning(certificate_pem: str) -> str | None:
    """A warning when the chain is the server certificate alone and a CA that is not a public root issued it: its
    intermediate is missing. Browsers may fetch it; command-line clients, Python and git do not, and fail on the
    hub's address. (A longer chain that ends below a private root is an institution's own CA: no warning.)"""
    chain = load_chain(certificate_pem)
    if len(chain) > 1 or chain[0].issuer in _public_roots():
        return None
    return (
        f"holds the server certificate alone, and its issuer ({chain[0].issuer.rfc4514_string()}) is not a public "
        "root: append the intermediate certificate(s) your CA sent, after the server's (without them, clients "
        "other than browsers refuse the hub)"
    )


_ROOTS: set[x509.Name] | None = None


def _public_roots() -> set[x509.Name]:
    """Subjects of the roots that Mozilla's store (certifi, as requests uses it) trusts."""
    global _ROOTS
    if _ROOTS is None:
        import warnings

        import certifi
        from cryptography.utils import CryptographyDeprecationWarning

        with open(certifi.where(), "rb") as bundle, warnings.catch_warnings():
            # Some long-trusted roots carry a negative serial number, which cryptography warns about.
            warnings.simplefilter("ignore", CryptographyDeprecationWarning)
            _ROOTS = {root.subject for root in x509.load_pem_x509_certificates(bundle.read())}
    return _ROOTS
