"""HTTPS on a LAN without a public certificate: a local certificate authority and a server
certificate it signs, made with the ``cryptography`` package; or a certificate and key given.

Phones reach a field laptop by its address; a page loaded over plain HTTP from anything but
``localhost`` is not a secure context, and the browser then withholds the storage and crypto the
scanning screen needs. So ``corridor serve --tls`` serves HTTPS with a server certificate for the
machine's host names and LAN addresses, signed by a CA kept in the data folder. The CA is made
once and reused at every start (its key is mode 0600), so a phone that installed (trusted) it
once stays trusting; the server certificate is made again when the names or addresses change,
when it nears its end, or when it was not signed by the CA kept.

The files, in ``<data_dir>/tls/``: ``ca.crt``, ``ca.key``, ``server.crt``, ``server.key``.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import ipaddress
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from corridor.core.errors import InputError

TLS_FOLDER = "tls"
CA_NAME = "corridor local CA"
# Phones (iOS above all) refuse server certificates valid for more than 825 days; 397 days is
# also under the 398 days browsers allow for any certificate.
SERVER_DAYS = 397
CA_DAYS = 3650
# A server certificate this close to its end is made again at start.
RENEW_DAYS = 30
MIME_CA = "application/x-x509-ca-cert"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey


@dataclass(frozen=True)
class TlsFiles:
    """What uvicorn serves HTTPS with, and what phones are told to trust.

    ``ca_file`` is None for a certificate given by its user (no CA made here to offer)."""

    cert_file: Path
    key_file: Path
    ca_file: Path | None
    names: tuple[str, ...]
    addresses: tuple[str, ...]

    @property
    def fingerprint(self) -> str:
        """SHA-256 fingerprint of the CA certificate (or of the certificate given)."""
        return fingerprint(load_certificate(self.ca_file or self.cert_file))


@dataclass(frozen=True)
class Trust:
    """What the ``/ca`` page offers phones: the local CA the service serves with (``ca_file``),
    or the certificate its operator gave (``given``: it offers no CA, since any left in the data
    folder by an earlier ``--tls`` run signs nothing served now), or neither (plain HTTP)."""

    ca_file: Path | None = None
    given: Path | None = None


def trust_of(served: TlsFiles | None) -> Trust:
    """What phones are offered when serving ``served`` (None: plain HTTP)."""
    if served is None:
        return Trust()
    if served.ca_file is not None:
        return Trust(ca_file=served.ca_file)
    return Trust(given=served.cert_file)


def folder_of(data_dir: Path) -> Path:
    return data_dir / TLS_FOLDER


def ca_file_of(data_dir: Path) -> Path:
    return folder_of(data_dir) / "ca.crt"


def fingerprint(cert: x509.Certificate) -> str:
    """``AB:CD:...``: the SHA-256 fingerprint as phones and browsers show it."""
    digest = cert.fingerprint(hashes.SHA256())
    return ":".join(f"{b:02X}" for b in digest)


def spki_sha256(cert: x509.Certificate) -> str:
    """Base64 of the SHA-256 of the certificate's public key (SubjectPublicKeyInfo): the form
    browsers pin keys by (chromium's ``--ignore-certificate-errors-spki-list``)."""
    der = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(hashlib.sha256(der).digest()).decode("ascii")


def local_names() -> tuple[list[str], list[str]]:
    """This machine's host names and addresses (LAN and loopback), as a server certificate
    names them: ``(names, addresses)``."""
    names = ["localhost"]
    for name in (socket.gethostname(), socket.getfqdn()):
        if name and name not in names:
            names.append(name.lower())
    addresses = ["127.0.0.1", "::1"]
    for name in {socket.gethostname(), socket.getfqdn()}:
        with contextlib.suppress(OSError):
            for info in socket.getaddrinfo(name, None):
                addresses.append(str(info[4][0]))
    for probe in (("10.255.255.255", 1, socket.AF_INET), ("fd00::1", 1, socket.AF_INET6)):
        # The address the machine would reach its LAN from (a UDP "connect" sends nothing).
        with contextlib.suppress(OSError), socket.socket(probe[2], socket.SOCK_DGRAM) as s:
            s.connect(probe[:2])
            addresses.append(str(s.getsockname()[0]))
    return _unique(names), _unique(str(ipaddress.ip_address(a.split("%")[0])) for a in addresses)


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


def ensure_local_tls(data_dir: Path, extra_names: Iterable[str] = ()) -> TlsFiles:
    """The local CA (made once, kept) and a server certificate for this machine's names and
    addresses and ``extra_names`` (made again when they change)."""
    names, addresses = local_names()
    for name in extra_names:
        try:
            addresses.append(str(ipaddress.ip_address(name)))
        except ValueError:
            names.append(_host_name(name))
    names, addresses = _unique(names), _unique(addresses)
    folder = folder_of(data_dir)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    ca_key, ca_cert = _ensure_ca(folder)
    cert_file, key_file = folder / "server.crt", folder / "server.key"
    if not _server_current(cert_file, key_file, ca_cert, names, addresses):
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _server_certificate(key, ca_key, ca_cert, names, addresses)
        _write_key(key_file, key)
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    for kept in (folder / "ca.key", key_file):
        _owner_only(kept)
    return TlsFiles(cert_file, key_file, folder / "ca.crt", tuple(names), tuple(addresses))


def _owner_only(path: Path) -> None:
    """Make a kept private key readable by its owner alone again (a copy or a restore from a
    backup may have widened it)."""
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)


def _host_name(name: str) -> str:
    text = name.strip().lower().rstrip(".")
    labels = text.split(".")
    if not text or len(text) > 253 or not all(_label_ok(label) for label in labels):
        raise InputError(
            f"{name!r} is not a host name",
            where="--host-name",
            hint="give a name such as field-laptop.lan (letters, digits, - and .) or an IP address",
        )
    return text


def _label_ok(label: str) -> bool:
    return (
        0 < len(label) <= 63
        and label[0] != "-"
        and label[-1] != "-"
        and all(c.isascii() and (c.isalnum() or c == "-") for c in label)
    )


def _ensure_ca(folder: Path) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key_file, cert_file = folder / "ca.key", folder / "ca.crt"
    if key_file.exists() and cert_file.exists():
        key = load_private_key(key_file)
        cert = load_certificate(cert_file)
        if isinstance(key, ec.EllipticCurvePrivateKey) and _same_key(cert, key):
            return key, cert
        raise InputError(
            "the local CA's key does not belong to its certificate",
            where=str(key_file),
            hint=f"move {folder} away to make a new CA (phones must then install it again)",
        )
    if key_file.exists() or cert_file.exists():
        present, absent = (key_file, cert_file) if key_file.exists() else (cert_file, key_file)
        raise InputError(
            f"the local CA is incomplete: {absent.name} is missing beside {present.name}",
            where=str(absent),
            hint=f"put {absent.name} back (phones trust this CA), or move {folder} away to make "
            "a new CA (phones must then install it again)",
        )
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, f"{CA_NAME} ({socket.gethostname()})"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "corridor"),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_key(key_file, key)
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key, cert


def _server_certificate(
    key: ec.EllipticCurvePrivateKey,
    ca_key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate,
    names: list[str],
    addresses: list[str],
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    alternatives: list[x509.GeneralName] = [x509.DNSName(n) for n in names]
    alternatives += [x509.IPAddress(ipaddress.ip_address(a)) for a in addresses]
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=SERVER_DAYS))
        .add_extension(x509.SubjectAlternativeName(alternatives), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )


def _server_current(
    cert_file: Path, key_file: Path, ca_cert: x509.Certificate, names: list[str], addresses: list[str]
) -> bool:
    """True when the kept server certificate names exactly ``names`` and ``addresses``, was
    signed by ``ca_cert``, matches its key and is not near its end."""
    if not (cert_file.exists() and key_file.exists()):
        return False
    try:
        cert = load_certificate(cert_file)
        key = load_private_key(key_file)
    except InputError:
        return False
    have_names, have_addresses = map(set, _alternatives(cert))
    left = cert.not_valid_after_utc - dt.datetime.now(dt.UTC)
    return (
        have_names == set(names)
        and have_addresses == set(addresses)
        and left > dt.timedelta(days=RENEW_DAYS)
        and cert.issuer == ca_cert.subject
        and _signed_by(cert, ca_cert)
        and _same_key(cert, key)
    )


def _signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _write_key(path: Path, key: PrivateKey) -> None:
    """Write a private key readable by its owner alone (0600 from the start, never wider)."""
    data = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


def load_certificate(path: Path) -> x509.Certificate:
    """The first certificate of a PEM (or DER) file; an InputError naming the file otherwise."""
    data = _read(path, "certificate")
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificates(data)[0]
        return x509.load_der_x509_certificate(data)
    except ValueError:
        raise InputError(
            "not a certificate (PEM or DER)",
            where=str(path),
            hint="give the certificate file (-----BEGIN CERTIFICATE-----)",
        ) from None


def load_private_key(path: Path) -> PrivateKey:
    """An unencrypted private key (PEM or DER); an InputError naming the file otherwise."""
    data = _read(path, "key")
    try:
        if b"-----BEGIN" in data:
            key = serialization.load_pem_private_key(data, password=None)
        else:
            key = serialization.load_der_private_key(data, password=None)
    except TypeError:
        raise InputError(
            "the private key is protected by a password",
            where=str(path),
            hint="give the key without a password (openssl pkey -in KEY -out PLAIN.key)",
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise InputError(
            "not a private key (PEM or DER)",
            where=str(path),
            hint="give the private key file (-----BEGIN PRIVATE KEY-----)",
        ) from None
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey):
        raise InputError(
            f"a {type(key).__name__} key cannot serve HTTPS here",
            where=str(path),
            hint="give an RSA or EC (P-256, P-384) key",
        )
    return key


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"the {what} file does not exist", where=str(path)) from None
    except (IsADirectoryError, PermissionError) as exc:
        raise InputError(f"the {what} file cannot be read: {exc.strerror}", where=str(path)) from None


def _same_key(cert: x509.Certificate, key: PrivateKey) -> bool:
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    der = serialization.Encoding.DER
    return bool(cert.public_key().public_bytes(der, spki) == key.public_key().public_bytes(der, spki))


def given_tls(cert_file: Path, key_file: Path) -> TlsFiles:
    """A certificate and key given by their user, checked before serving: each is readable as
    what it claims to be, and the key is the certificate's."""
    cert = load_certificate(cert_file)
    key = load_private_key(key_file)
    if not _same_key(cert, key):
        raise InputError(
            f"the key does not belong to the certificate {cert_file}",
            where=str(key_file),
            hint="give the private key the certificate was issued for",
        )
    if cert.not_valid_after_utc < dt.datetime.now(dt.UTC):
        raise InputError(
            f"the certificate expired on {cert.not_valid_after_utc:%Y-%m-%d}",
            where=str(cert_file),
            hint="renew the certificate, or serve with --tls alone to use a local CA",
        )
    names, addresses = _alternatives(cert)
    return TlsFiles(cert_file, key_file, None, tuple(names), tuple(addresses))


def _alternatives(cert: x509.Certificate) -> tuple[list[str], list[str]]:
    """The host names and addresses a certificate covers."""
    try:
        alternatives = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return [], []
    names = list(alternatives.get_values_for_type(x509.DNSName))
    return names, [str(a) for a in alternatives.get_values_for_type(x509.IPAddress)]


def covered_names(cert: x509.Certificate) -> list[str]:
    """What a server certificate covers, names then addresses."""
    names, addresses = _alternatives(cert)
    return [*names, *addresses]
