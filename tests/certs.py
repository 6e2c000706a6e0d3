"""Test certificates made on the spot: a root CA, an intermediate, and server certificates they issue; a cluster's
own authorities and a client certificate of one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

NOW = datetime.now(timezone.utc)


@dataclass(frozen=True)
class Issued:
    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode()

    @property
    def key_pem(self) -> str:
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _issue(
    common_name: str,
    issuer: Issued | None,
    *,
    ca: bool,
    dns_names: tuple[str, ...] = (),
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    organization: str | None = None,
) -> Issued:
    key = _key()
    subject = x509.Name([*([x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization)] if organization else []),
                         x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.certificate.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or NOW - timedelta(days=1))
        .not_valid_after(not_after or NOW + timedelta(days=90))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if dns_names:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(name) for name in dns_names]), critical=False
        )
    return Issued(builder.sign(issuer.key if issuer else key, hashes.SHA256()), key)


@lru_cache(maxsize=None)
def root() -> Issued:
    return _issue("Test Root CA", None, ca=True, not_after=NOW + timedelta(days=3650))


@lru_cache(maxsize=None)
def intermediate() -> Issued:
    return _issue("Test Intermediate CA", root(), ca=True, not_after=NOW + timedelta(days=1825))


def server(*dns_names: str, not_before: datetime | None = None, not_after: datetime | None = None) -> Issued:
    return _issue(dns_names[0] if dns_names else "no-san", intermediate(), ca=False, dns_names=dns_names,
                  not_before=not_before, not_after=not_after)


def self_signed(*dns_names: str) -> Issued:
    return _issue(dns_names[0], None, ca=False, dns_names=dns_names)


def authority(common_name: str) -> Issued:
    """A CA of its own, as a cluster's server or client CA."""
    return _issue(common_name, None, ca=True)


def client(common_name: str, organization: str, issuer: Issued) -> Issued:
    """A client certificate (Kubernetes reads the user from CN, the group from O)."""
    return _issue(common_name, issuer, ca=False, organization=organization)


def chain(*parts: Issued) -> str:
    return "".join(part.pem for part in parts)


@lru_cache(maxsize=None)
def for_host(hostname: str) -> tuple[str, str]:
    """(chain PEM, key PEM) of a valid certificate for `hostname`, cached per host."""
    issued = server(hostname)
    return chain(issued, intermediate()), issued.key_pem
