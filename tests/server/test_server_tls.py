"""HTTPS on a LAN: the local CA and server certificate, certificates given by their user (and
refused when bad), the CA offered to phones, Secure cookies and HSTS over HTTPS only, and the scan
screen's notice when reached over plain HTTP from another machine."""

from __future__ import annotations

import datetime as dt
import shutil
import stat
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from corridor.cli.main import app as cli
from corridor.core.errors import InputError
from corridor.server import tls
from corridor.server.app import create_app
from corridor.server.run import tls_files
from corridor.server.settings import Settings
from corridor.server.web.headers import HSTS
from server.conftest import CHEAP, PASSWORD, World, make_world


@pytest.fixture
def lan_settings(tmp_path: Path, sqlite_template: Path) -> Settings:
    """A service on SQLite (nothing here depends on the database)."""
    path = tmp_path / "corridor.db"
    shutil.copyfile(sqlite_template, path)
    return Settings(
        database_url=f"sqlite:///{path}",
        data_dir=tmp_path / "data",
        key_file=tmp_path / "keys" / "corridor.key",
        **CHEAP,  # type: ignore[arg-type]
    )


def _client(settings: Settings, base_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(settings), base_url=base_url, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def https_world(lan_settings: Settings) -> Iterator[World]:
    """The service as reached at https://field-laptop.lan (the scheme uvicorn reports over TLS)."""
    tls.ensure_local_tls(lan_settings.data_dir, ["field-laptop.lan"])
    for client in _client(lan_settings, "https://field-laptop.lan"):
        yield make_world(client, lan_settings)


@pytest.fixture
def lan_http_world(lan_settings: Settings) -> Iterator[World]:
    """The service as reached over plain HTTP at a LAN address."""
    for client in _client(lan_settings, "http://192.168.1.20:8000"):
        yield make_world(client, lan_settings)


# The local CA and the server certificate ---------------------------------------------------------


def test_the_local_ca_is_kept_and_the_server_certificate_follows_the_names(tmp_path: Path) -> None:
    made = tls.ensure_local_tls(tmp_path, ["field-laptop.lan", "10.20.30.40"])
    assert made.ca_file is not None
    ca = tls.load_certificate(made.ca_file)
    server = tls.load_certificate(made.cert_file)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    server.verify_directly_issued_by(ca)
    covered = tls.covered_names(server)
    assert {"field-laptop.lan", "localhost", "127.0.0.1", "10.20.30.40"} <= set(covered)
    assert server.not_valid_after_utc - server.not_valid_before_utc <= dt.timedelta(days=398)
    for key in ("ca.key", "server.key"):
        assert stat.S_IMODE((tmp_path / "tls" / key).stat().st_mode) == 0o600
    ca_bytes, server_bytes = made.ca_file.read_bytes(), made.cert_file.read_bytes()
    again = tls.ensure_local_tls(tmp_path, ["field-laptop.lan", "10.20.30.40"])
    assert (again.ca_file.read_bytes(), again.cert_file.read_bytes()) == (ca_bytes, server_bytes)  # type: ignore[union-attr]
    renamed = tls.ensure_local_tls(tmp_path, ["field-laptop-2.lan"])
    assert renamed.ca_file.read_bytes() == ca_bytes  # type: ignore[union-attr]  # phones keep trusting
    new_server = tls.load_certificate(renamed.cert_file)
    assert "field-laptop-2.lan" in tls.covered_names(new_server)
    assert "field-laptop.lan" not in tls.covered_names(new_server)
    new_server.verify_directly_issued_by(ca)
    assert renamed.fingerprint == made.fingerprint == tls.fingerprint(ca)
    assert len(made.fingerprint.split(":")) == 32


def test_the_server_certificate_is_renewed_and_the_kept_keys_stay_private(tmp_path: Path) -> None:
    """A server certificate near its end, or not signed by the CA kept, is made again (the CA
    kept); keys widened by a copy are made private again; a CA with a half missing is refused,
    never replaced behind the phones' back."""
    names = ["field-laptop.lan"]
    made = tls.ensure_local_tls(tmp_path, names)
    folder = tmp_path / "tls"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    ca_bytes = (folder / "ca.crt").read_bytes()
    ca_key = tls.load_private_key(folder / "ca.key")
    server = tls.load_certificate(made.cert_file)
    server_key = tls.load_private_key(made.key_file)
    now = dt.datetime.now(dt.UTC)
    for signer, days_left in ((ca_key, 10), (ec.generate_private_key(ec.SECP256R1()), 300)):
        assert isinstance(signer, ec.EllipticCurvePrivateKey)
        ending = (
            x509.CertificateBuilder()
            .subject_name(server.subject)
            .issuer_name(server.issuer)
            .public_key(server_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=days_left))
            .add_extension(
                server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value, False
            )
            .sign(signer, hashes.SHA256())
        )
        made.cert_file.write_bytes(ending.public_bytes(serialization.Encoding.PEM))
        renewed = tls.load_certificate(tls.ensure_local_tls(tmp_path, names).cert_file)
        assert renewed.not_valid_after_utc - now > dt.timedelta(days=390), days_left
        renewed.verify_directly_issued_by(tls.load_certificate(folder / "ca.crt"))
    assert (folder / "ca.crt").read_bytes() == ca_bytes
    for key in ("ca.key", "server.key"):
        (folder / key).chmod(0o644)
    tls.ensure_local_tls(tmp_path, names)
    for key in ("ca.key", "server.key"):
        assert stat.S_IMODE((folder / key).stat().st_mode) == 0o600, key
    for half in ("ca.key", "ca.crt"):
        kept = (folder / half).read_bytes()
        (folder / half).unlink()
        with pytest.raises(InputError) as caught:
            tls.ensure_local_tls(tmp_path, names)
        assert caught.value.where == str(folder / half) and "incomplete" in caught.value.message
        (folder / half).write_bytes(kept)
    assert (folder / "ca.crt").read_bytes() == ca_bytes


def test_a_host_name_that_is_not_one_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        tls.ensure_local_tls(tmp_path, ["field laptop!"])
    assert caught.value.where == "--host-name"


def _self_signed(folder: Path, name: str) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=90))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / f"{name}.crt", folder / f"{name}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_file, key_file


def test_a_certificate_given_is_served_and_bad_files_are_named(
    tmp_path: Path, lan_settings: Settings
) -> None:
    cert_file, key_file = _self_signed(tmp_path, "ops.example.org")
    served = tls_files(lan_settings, use_tls=True, cert_file=cert_file, key_file=key_file, host_names=[])
    assert served is not None and served.ca_file is None and served.names == ("ops.example.org",)
    _, other_key = _self_signed(tmp_path, "other.example.org")
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    cases = {
        "mismatched": (cert_file, other_key, str(other_key), "does not belong"),
        "not a certificate": (garbage, key_file, str(garbage), "not a certificate"),
        "not a key": (cert_file, garbage, str(garbage), "not a private key"),
        "missing": (tmp_path / "none.crt", key_file, str(tmp_path / "none.crt"), "does not exist"),
    }
    for case, (cert, key, where, words) in cases.items():
        with pytest.raises(InputError) as caught:
            tls_files(lan_settings, use_tls=False, cert_file=cert, key_file=key, host_names=[])
        assert caught.value.where == where and words in caught.value.message, case
    with pytest.raises(InputError) as alone:
        tls_files(lan_settings, use_tls=False, cert_file=cert_file, key_file=None, host_names=[])
    assert alone.value.where == "--cert"
    assert tls_files(lan_settings, use_tls=False, cert_file=None, key_file=None, host_names=[]) is None
    assert not (lan_settings.data_dir / "tls").exists()  # nothing made for plain HTTP


def test_serve_with_a_bad_key_says_which_file_and_fails(tmp_path: Path) -> None:
    """Checked before anything starts: the scheduler named (where nothing listens) is never
    reached, nor an embedded cluster started."""
    cert_file, _ = _self_signed(tmp_path, "ops.example.org")
    _, other_key = _self_signed(tmp_path, "other.example.org")
    result = CliRunner().invoke(
        cli,
        [
            "serve",
            *("--cert", str(cert_file), "--key", str(other_key)),
            *("--db", f"sqlite:///{tmp_path}/x.db", "--scheduler", "tcp://127.0.0.1:9"),
        ],
    )
    assert result.exit_code == 2, result.output  # bad input, as every command
    assert str(other_key) in result.output and "does not belong" in result.output
    assert "Traceback" not in result.output and "scheduler" not in result.output.lower()
    assert not (tmp_path / "x.db").exists()  # refused before anything was made


# Over HTTPS: Secure cookies, HSTS, the CA for phones -------------------------------------------


def test_over_https_cookies_are_secure_and_hsts_is_sent(https_world: World) -> None:
    client = https_world.client
    answer = client.post(
        "/login", data={"username": "coordinator", "password": PASSWORD}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text
    cookies = answer.headers.get_list("set-cookie")
    assert cookies and all("secure" in c.lower() for c in cookies)
    assert answer.headers["strict-transport-security"] == HSTS
    page = client.get("/")
    assert page.status_code == 200 and "strict-transport-security" in page.headers


def test_the_ca_is_offered_without_log_in(https_world: World) -> None:
    client = https_world.client
    ca_file = tls.ca_file_of(https_world.settings.data_dir)
    download = client.get("/ca.crt")
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/x-x509-ca-cert"
    assert download.content == ca_file.read_bytes()
    assert b"PRIVATE KEY" not in download.content and download.content.count(b"BEGIN") == 1
    for secret in (
        "/ca.key",
        "/server.key",
        "/tls/ca.key",
        "/static/../tls/ca.key",
        "/static/%2e%2e/tls/ca.key",
    ):
        answer = client.get(secret)
        assert answer.status_code == 404 and b"PRIVATE KEY" not in answer.content, secret
    page = client.get("/ca")
    fingerprint = tls.fingerprint(tls.load_certificate(ca_file))
    assert page.status_code == 200 and fingerprint in page.text
    assert "<svg" in page.text and "field-laptop.lan" in page.text
    arabic = client.get("/ca?lang=ar")
    assert "جهة التصديق" in arabic.text and fingerprint in arabic.text


def test_over_plain_http_on_the_lan_scanning_points_to_https(lan_http_world: World) -> None:
    """The browser knows it has no secure context (the scan screen's script asks it, and opens
    /needs-https): that page links to the same screen at the https address."""
    client = lan_http_world.client
    answer = client.post(
        "/login", data={"username": "coordinator", "password": PASSWORD}, follow_redirects=False
    )
    assert answer.status_code == 303
    assert all("secure" not in c.lower() for c in answer.headers.get_list("set-cookie"))
    assert "strict-transport-security" not in answer.headers
    scan = f"/operations/{lan_http_world.operation_id}/scan"
    notice = client.get("/needs-https", params={"next": scan})
    assert notice.status_code == 200 and "This screen needs HTTPS" in notice.text
    assert (
        f'href="https://192.168.1.20{scan}"' in notice.text
        and 'href="https://192.168.1.20/ca"' in notice.text
    )
    elsewhere = client.get("/needs-https", params={"next": "//evil.example/x"})
    assert 'href="https://192.168.1.20/"' in elsewhere.text and "evil.example" not in elsewhere.text
    assert "HTTPS" in client.get("/needs-https?lang=ar").text
    assert client.get("/ca.crt").status_code == 404  # no CA made: served over plain HTTP


def test_a_certificate_given_is_never_shown_with_a_ca_left_by_an_earlier_run(
    tmp_path: Path, lan_settings: Settings
) -> None:
    """``serve --tls`` once (a local CA stays in the data folder), then ``serve --cert --key``:
    the phones are not offered that CA, which signs nothing served now. Served over plain HTTP
    afterwards, it is not offered either."""
    old = tls.ensure_local_tls(lan_settings.data_dir, ["field-laptop.lan"])
    assert old.ca_file is not None and old.ca_file.exists()
    stale = old.fingerprint
    cert_file, key_file = _self_signed(tmp_path, "ops.example.org")
    served = tls_files(lan_settings, use_tls=True, cert_file=cert_file, key_file=key_file, host_names=[])
    assert tls.trust_of(served) == tls.Trust(given=cert_file)
    own = tls.fingerprint(tls.load_certificate(cert_file))
    app = create_app(lan_settings, trust=tls.trust_of(served))
    with TestClient(app, base_url="https://ops.example.org") as client:
        download = client.get("/ca.crt")
        assert download.status_code == 404 and b"CERTIFICATE" not in download.content
        assert "operator's own certificate" in download.json()["error"]["message"]
        for lang, words in (("en", "operator's own certificate"), ("ar", "شهادة مشغّلها الخاصة")):
            shown = client.get(f"/ca?lang={lang}")
            text = unescape(shown.text)
            assert shown.status_code == 200 and 'id="ca-given"' in text and words in text
            assert own in text and "ops.example.org" in text
            assert stale not in text and "/ca.crt" not in text
    with TestClient(create_app(lan_settings, trust=tls.trust_of(None))) as client:
        assert client.get("/ca.crt").status_code == 404
        shown = client.get("/ca")
        assert 'id="ca-none"' in shown.text and stale not in shown.text
    # Served with the local CA again: offered as before.
    with TestClient(create_app(lan_settings, trust=tls.trust_of(old))) as client:
        assert client.get("/ca.crt").content == old.ca_file.read_bytes()
        assert stale in client.get("/ca").text
