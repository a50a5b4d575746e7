"""Connections to PostgreSQL over TCP, as in the cloud: verified TLS or nothing, and a user and password from
a secret that may rotate.

Two servers listen on 127.0.0.1 for this module (one cluster made once, copied): one with TLS on a self-signed
certificate for `localhost`, one without TLS. Both take passwords (scram) over TCP and trust their unix socket,
through which the tests manage roles. They are the machine's PostgreSQL, not the embedded one, whose build
has no TLS.
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import ssl
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pg8000.native
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import URL, text
from sqlalchemy.exc import InterfaceError

from storywink.config import Settings
from storywink.db.engine import Database
from storywink.domain.errors import ServiceUnavailable

SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:storywink-db"
PASSWORD = "p@ss:w/rd%?#&="  # everything a URL would have to quote


def _postgres_with_tls() -> Path | None:
    """The bin directory of the machine's PostgreSQL (Debian's postgresql) if it was built with OpenSSL; the
    embedded server's build (pgserver) has no TLS."""
    pg_config = shutil.which("pg_config")
    if pg_config is None:
        return None
    found = subprocess.run([pg_config, "--bindir", "--configure"], capture_output=True, text=True, check=False)
    bindir, _, configure = found.stdout.partition("\n")
    return Path(bindir) if found.returncode == 0 and "openssl" in configure and Path(bindir, "postgres").is_file() else None


POSTGRES_BIN = _postgres_with_tls()
pytestmark = pytest.mark.skipif(POSTGRES_BIN is None, reason="needs a PostgreSQL server built with OpenSSL (Debian's postgresql)")


def _system_user() -> str | None:
    """postgres refuses to run as root: like pgserver, run it as the `pgserver` user then."""
    if os.geteuid() != 0:
        return None
    from pgserver.utils import ensure_user_exists

    ensure_user_exists("pgserver")
    return "pgserver"


@dataclass
class Server:
    port: int
    socket_dir: Path

    def admin(self) -> pg8000.native.Connection:
        return pg8000.native.Connection("postgres", unix_sock=str(self.socket_dir / f".s.PGSQL.{self.port}"))

    def set_password(self, role: str, password: str) -> None:
        admin = self.admin()
        try:
            exists = admin.run("SELECT 1 FROM pg_roles WHERE rolname = :role", role=role)
            verb = "ALTER" if exists else "CREATE"
            admin.run(f"{verb} ROLE {pg8000.native.identifier(role)} LOGIN PASSWORD {pg8000.native.literal(password)}")
        finally:
            admin.close()


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    # Not pytest's tmp_path: its parents are private to root, and the server may run as another user.
    path = Path(tempfile.mkdtemp(prefix="storywink-pg-"))
    user = _system_user()
    if user:
        shutil.chown(path, user)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def certificate(workdir: Path) -> Path:
    """A self-signed certificate for the name `localhost` only (no IP address), and its key beside it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = workdir / "server.crt", workdir / "server.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_file.chmod(0o600)  # postgres refuses a key others can read
    user = _system_user()
    if user:
        shutil.chown(key_file, user)
    return cert_file


@pytest.fixture(scope="module")
def cluster(workdir: Path) -> Path:
    """One initdb for the module: passwords over TCP, trust on the unix socket."""
    data = workdir / "template"
    subprocess.run(
        [POSTGRES_BIN / "initdb", "-D", data, "-U", "postgres", "-E", "utf8", "--no-sync",
         "--auth-local=trust", "--auth-host=scram-sha-256"],
        check=True, capture_output=True, user=_system_user(),
    )
    return data


def _serve(cluster: Path, port: int, name: str, *options: str) -> Iterator[Server]:
    data = cluster.with_name(name)
    subprocess.run(["cp", "-a", cluster, data], check=True)
    pg_ctl = [POSTGRES_BIN / "pg_ctl", "-D", data]
    user = _system_user()
    server_options = " ".join(
        ["-c listen_addresses=127.0.0.1", f"-p {port}", f"-k {cluster.parent}", "-c fsync=off", *options]
    )
    started = subprocess.run(
        [*pg_ctl, "-w", "-t", "30", "-l", data / "log", "-o", server_options, "start"],
        check=False, capture_output=True, text=True, user=user,
    )
    if started.returncode != 0:
        log = (data / "log").read_text() if (data / "log").exists() else ""
        pytest.fail(f"the {name} server did not start: {started.stderr}{log}")
    try:
        yield Server(port=port, socket_dir=cluster.parent)
    finally:
        subprocess.run([*pg_ctl, "-w", "-m", "fast", "stop"], check=False, capture_output=True, user=user)


@pytest.fixture(scope="module")
def tls_server(cluster: Path, certificate: Path, free_ports: Callable[[], int]) -> Iterator[Server]:
    key = certificate.with_suffix(".key")
    yield from _serve(cluster, free_ports(), "tls", "-c ssl=on", f"-c ssl_cert_file={certificate}", f"-c ssl_key_file={key}")


@pytest.fixture(scope="module")
def plaintext_server(cluster: Path, free_ports: Callable[[], int]) -> Iterator[Server]:
    yield from _serve(cluster, free_ports(), "plaintext", "-c ssl=off")


@pytest.fixture(scope="module")
def app_role(tls_server: Server, plaintext_server: Server) -> str:
    for server in (tls_server, plaintext_server):
        server.set_password("storywink_app", PASSWORD)
    return "storywink_app"


class FakeSecret:
    """A secret as Powertools returns it: the value first read, until a read with force_fetch."""

    def __init__(self, value: str) -> None:
        self.value = value
        self._cached: str | None = None
        self.reads: list[bool] = []  # force_fetch of each read

    def __call__(self, arn: str, *, force_fetch: bool = False) -> str:
        assert arn == SECRET_ARN
        self.reads.append(force_fetch)
        if self._cached is None or force_fetch:
            self._cached = self.value
        return self._cached


def managed_secret(username: str, password: str) -> str:
    return json.dumps({"username": username, "password": password})


def tcp_url(server: Server, host: str, role: str) -> str:
    url = URL.create("postgresql+pg8000", username=role, password=PASSWORD, host=host, port=server.port, database="postgres")
    return url.render_as_string(hide_password=False)


def database(read_secret: FakeSecret | None = None, **settings: object) -> Database:
    # Explicit values win over what the session's environment holds (its DATABASE_URL among them).
    values: dict[str, object] = {"DATABASE_URL": None, "DATABASE_SECRET_ARN": None, "DATABASE_CA_FILE": None, **settings}
    return Database(Settings(**values), read_secret=read_secret)


def tls_in_use(db: Database) -> bool:
    try:
        with db.engine.connect() as connection:
            return connection.execute(text("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")).scalar_one()
    finally:
        db.dispose()


# ---------------------------------------------------------------- TLS


def test_a_server_whose_certificate_is_not_in_the_shipped_bundle_is_refused(tls_server, app_role):
    db = database(DATABASE_URL=tcp_url(tls_server, "localhost", app_role))

    with pytest.raises(ssl.SSLCertVerificationError, match="self-signed certificate"):
        tls_in_use(db)


def test_a_server_whose_certificate_the_configured_ca_file_trusts_is_reached_over_tls(tls_server, app_role, certificate):
    db = database(DATABASE_URL=tcp_url(tls_server, "localhost", app_role), DATABASE_CA_FILE=str(certificate))

    assert tls_in_use(db) is True


def test_a_certificate_for_another_host_name_is_refused(tls_server, app_role, certificate):
    # The certificate names localhost; 127.0.0.1 is the same server, but not the name it proves.
    db = database(DATABASE_URL=tcp_url(tls_server, "127.0.0.1", app_role), DATABASE_CA_FILE=str(certificate))

    with pytest.raises(ssl.SSLCertVerificationError, match="mismatch, certificate is not valid for '127.0.0.1'"):
        tls_in_use(db)


def test_a_server_that_declines_tls_is_refused_not_used_in_plaintext(plaintext_server, app_role, certificate):
    db = database(DATABASE_URL=tcp_url(plaintext_server, "localhost", app_role), DATABASE_CA_FILE=str(certificate))

    with pytest.raises(InterfaceError, match="Server refuses SSL"):
        tls_in_use(db)


def test_tls_disabled_reaches_a_server_on_this_machine_in_plaintext(plaintext_server, app_role):
    db = database(DATABASE_URL=tcp_url(plaintext_server, "127.0.0.1", app_role), DATABASE_TLS="disable")

    assert tls_in_use(db) is False


def test_a_unix_socket_is_used_as_it_is_without_tls(tls_server):
    socket = tls_server.socket_dir / f".s.PGSQL.{tls_server.port}"
    db = database(DATABASE_URL=f"postgresql+pg8000://postgres@/postgres?unix_sock={socket}")

    assert tls_in_use(db) is False


# ---------------------------------------------------------------- credentials from a secret


def secret_database(tls_server: Server, certificate: Path, secret: FakeSecret) -> Database:
    """The cloud's shape: the managed master-user secret, the server named by the settings, verified TLS."""
    return database(
        secret,
        DATABASE_SECRET_ARN=SECRET_ARN,
        DATABASE_HOST="localhost",
        DATABASE_PORT=tls_server.port,
        DATABASE_NAME="postgres",
        DATABASE_CA_FILE=str(certificate),
    )


def current_user(db: Database) -> str:
    db.dispose()  # the next statement opens a new connection, which logs in
    with db.engine.connect() as connection:
        return connection.execute(text("SELECT current_user")).scalar_one()


def test_the_managed_secret_logs_in_at_the_host_the_settings_name(tls_server, certificate):
    tls_server.set_password("managed_user", PASSWORD)
    secret = FakeSecret(managed_secret("managed_user", PASSWORD))
    db = secret_database(tls_server, certificate, secret)

    assert current_user(db) == "managed_user"
    assert tls_in_use(db) is True
    assert secret.reads == [False]


def test_a_rotated_password_is_read_again_once_and_used_from_then_on(tls_server, certificate):
    tls_server.set_password("rotated_user", "first password")
    secret = FakeSecret(managed_secret("rotated_user", "first password"))
    db = secret_database(tls_server, certificate, secret)
    assert current_user(db) == "rotated_user"

    tls_server.set_password("rotated_user", "second password")
    secret.value = managed_secret("rotated_user", "second password")

    assert current_user(db) == "rotated_user"
    assert current_user(db) == "rotated_user"
    assert secret.reads == [False, True]  # one read past the cache, at the first rejected login


def test_a_secret_the_server_rejects_fails_clearly_after_one_read_again(tls_server, certificate):
    tls_server.set_password("rejected_user", "the real password")
    secret = FakeSecret(managed_secret("rejected_user", "a wrong password"))
    db = secret_database(tls_server, certificate, secret)

    with pytest.raises(ServiceUnavailable) as rejected:
        current_user(db)

    assert rejected.value.code == "DATABASE_CREDENTIALS_REJECTED"
    assert "a wrong password" not in str(rejected.value)
    assert secret.reads == [False, True]
