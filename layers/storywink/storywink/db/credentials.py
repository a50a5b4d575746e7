"""Where and as whom the database is reached: DATABASE_URL, or a Secrets Manager secret that may rotate.

The secret holds the URL (`postgresql+pg8000://...`, or `{"url": "..."}`), or a user and a password
as RDS keeps them: the managed master-user secret `{"username": ..., "password": ...}`, which names no
server, or the older `{..., "host", "port", "dbname"}`. DATABASE_HOST, DATABASE_PORT and DATABASE_NAME
name the server where they are set (the RDS Proxy endpoint in the cloud), the secret's fields where not. It is read through Powertools' cache; when the server rejects its user or password, the
rejected connection reads it again past the cache and retries once, and the connections after it log
in with what it read: a rotated password is used at once, not after the cache expires or a new
container starts.
"""

from __future__ import annotations

import json
import threading
from typing import Any, Protocol

from sqlalchemy import URL, make_url
from sqlalchemy.exc import ArgumentError

from storywink.config import Settings
from storywink.domain.errors import ServiceUnavailable

SECRET_MAX_AGE_SECONDS = 300
DEFAULT_PORT = 5432
# PostgreSQL's SQLSTATEs for a rejected login: invalid_password, invalid_authorization_specification.
REJECTED_LOGIN = frozenset({"28P01", "28000"})


class SecretReader(Protocol):
    def __call__(self, arn: str, *, force_fetch: bool = False) -> str: ...


def read_secret_with_powertools(arn: str, *, force_fetch: bool = False) -> str:
    from aws_lambda_powertools.utilities.parameters import get_secret

    return str(get_secret(arn, max_age=SECRET_MAX_AGE_SECONDS, force_fetch=force_fetch))


def resolve_database_url(settings: Settings, read_secret: SecretReader | None = None, *, force_fetch: bool = False) -> URL:
    if settings.database_url:
        return _parsed(settings.database_url, "DATABASE_URL")
    if settings.database_secret_arn:
        read = read_secret or read_secret_with_powertools
        return url_from_secret(read(settings.database_secret_arn, force_fetch=force_fetch), settings)
    raise ServiceUnavailable(
        "No database configured: set DATABASE_URL or DATABASE_SECRET_ARN", code="DATABASE_NOT_CONFIGURED"
    )


def url_from_secret(secret: str, settings: Settings) -> URL:
    if not secret.lstrip().startswith("{"):
        return _parsed(secret.strip(), "the secret DATABASE_SECRET_ARN")
    fields = json.loads(secret)
    if "url" in fields:
        return _parsed(fields["url"], "the secret DATABASE_SECRET_ARN")
    if not {"username", "password"} <= fields.keys():
        raise ServiceUnavailable(
            "The secret DATABASE_SECRET_ARN holds neither a url nor a username and password",
            code="DATABASE_NOT_CONFIGURED",
        )
    host = settings.database_host or fields.get("host")
    database = settings.database_name or fields.get("dbname")
    missing = [name for name, value in (("DATABASE_HOST", host), ("DATABASE_NAME", database)) if not value]
    if missing:
        raise ServiceUnavailable(
            f"The secret DATABASE_SECRET_ARN does not say where the database is: set {' and '.join(missing)}",
            code="DATABASE_NOT_CONFIGURED",
        )
    return URL.create(
        "postgresql+pg8000",
        username=fields["username"],
        password=fields["password"],
        host=host,
        port=settings.database_port or int(fields.get("port") or DEFAULT_PORT),
        database=database,
    )


def _parsed(url: str, source: str) -> URL:
    try:
        return make_url(url)
    except ArgumentError:
        # SQLAlchemy's message quotes the whole URL, password included.
        raise ServiceUnavailable(f"{source} is not a database URL", code="DATABASE_NOT_CONFIGURED") from None


def login_rejected(error: Exception) -> bool:
    # pg8000 raises the server's error fields as a dict: {"C": sqlstate, "M": message, ...}.
    fields = error.args[0] if error.args else None
    return isinstance(fields, dict) and fields.get("C") in REJECTED_LOGIN


class DatabaseCredentials:
    """The URL an engine is created with, and the user and password its next connection logs in with."""

    def __init__(self, settings: Settings, read_secret: SecretReader | None = None) -> None:
        self._settings = settings
        self._read_secret = read_secret
        self._lock = threading.Lock()
        self.url = resolve_database_url(settings, read_secret)

    @property
    def from_secret(self) -> bool:
        """Whether the user and password come from a secret that can change under a running container."""
        return self._settings.database_url is None

    def connect(self, dialect: Any, connection_record: Any, cargs: list[Any], cparams: dict[str, Any]) -> Any:
        """The engine's `do_connect`: log in with the current user and password; once they are rejected, read
        the secret again and retry once with what it holds now."""
        tried = self.url
        cparams.update(user=tried.username, password=tried.password)
        try:
            return dialect.connect(*cargs, **cparams)
        except dialect.loaded_dbapi.DatabaseError as error:
            if not login_rejected(error):
                raise
            renewed = self._renewed(tried)
            if renewed is None:
                raise ServiceUnavailable(
                    "The database rejected the user and password of the secret DATABASE_SECRET_ARN, read again just now",
                    code="DATABASE_CREDENTIALS_REJECTED",
                ) from error
        cparams.update(user=renewed.username, password=renewed.password)
        return dialect.connect(*cargs, **cparams)

    def _renewed(self, rejected: URL) -> URL | None:
        """The URL the secret holds now, read past the cache unless another connection just did; None if unchanged."""
        with self._lock:
            if self.url == rejected:
                self.url = resolve_database_url(self._settings, self._read_secret, force_fetch=True)
            return None if self.url == rejected else self.url
