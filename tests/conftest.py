"""Shared fixtures: an embedded PostgreSQL, a moto server, a local token issuer and an API client."""

from __future__ import annotations

import json
import logging
import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
STATE_DIR = REPO / ".storywink"
SAMPLE_PHOTOS = REPO / "samples" / "photos"
BUCKET = "storywink-test-media"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def free_ports() -> Callable[[], int]:
    """For a server a test starts: a port on 127.0.0.1 that is free right now."""
    return free_port


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session", autouse=True)
def aws_environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A moto server on 127.0.0.1 that every boto3 client in this process talks to; stops with the session."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "MEDIA_BUCKET": BUCKET,
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_NAMESPACE": "Storywink",
            "POWERTOOLS_DEV": "false",
            "LOG_LEVEL": "WARNING",
        }
    )
    _reset_container()
    import boto3

    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=BUCKET)
    yield endpoint
    server.stop()


@pytest.fixture(scope="session")
def issuer(tmp_path_factory: pytest.TempPathFactory):
    from storywink.auth.local_issuer import load_or_create_issuer

    local = load_or_create_issuer(tmp_path_factory.mktemp("auth"), "storywink-test", "storywink-api")
    os.environ.update(
        {"AUTH_JWKS_URL": local.jwks_url, "AUTH_ISSUER": local.issuer, "AUTH_AUDIENCE": local.audience}
    )
    _reset_container()
    return local


def _reset_container() -> None:
    """The next container() is built afresh from the environment as it is now."""
    from storywink.wiring import use_container

    use_container(None)


@pytest.fixture(scope="session")
def embedded_postgres():
    from storywink.db.embedded import start_embedded_postgres

    server = start_embedded_postgres(STATE_DIR / "test-pg")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def database_url(embedded_postgres) -> Iterator[str]:
    """A migrated database of this test session's own (TEST_DATABASE_URL selects a real server instead)."""
    from storywink.db import migrate

    name = f"storywink_test_{_worker()}_{os.getpid()}"  # concurrent runs never share a database
    url = os.environ.get("TEST_DATABASE_URL") or embedded_postgres.create_database(name, recreate=True)
    migrate.upgrade(url)
    os.environ["DATABASE_URL"] = url
    # The tests share one process and open several sessions at once: more than a Lambda container's one.
    os.environ.setdefault("DATABASE_POOL_SIZE", "20")
    os.environ.setdefault("DATABASE_MAX_OVERFLOW", "10")
    _reset_container()
    yield url
    _reset_container()
    if not os.environ.get("TEST_DATABASE_URL"):
        embedded_postgres.drop_database(name)


@pytest.fixture
def db(database_url: str, aws_environment: str) -> Iterator[None]:
    """A clean database and bucket for each test."""
    yield
    from sqlalchemy import text

    from storywink.db.tables import Base
    from storywink.wiring import container

    tables = ", ".join(Base.metadata.tables)  # every table of the schema, whatever a test wrote to
    with container().database.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} CASCADE"))
    container().media.delete_prefix("")


@pytest.fixture
def session(db):
    from storywink.wiring import container

    with container().database.sessions() as db_session:
        yield db_session


@pytest.fixture
def media(aws_environment):
    from storywink.wiring import container

    return container().media


@pytest.fixture
def client(db, issuer):
    from fastapi.testclient import TestClient

    from storywink.api.app import create_app
    from storywink.wiring import container

    with TestClient(create_app(container()), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def reconfigure(monkeypatch, client) -> Iterator[Callable[..., None]]:
    """Set environment variables and give the API a container built from them: reconfigure(MAX_PAGES=3)."""
    from storywink.wiring import container, use_container

    def apply(**variables: object) -> None:
        for name, value in variables.items():
            monkeypatch.setenv(name, str(value))
        use_container(None)
        client.app.state.container = container()

    yield apply
    monkeypatch.undo()
    use_container(None)


@pytest.fixture
def auth(issuer) -> Callable[..., dict[str, str]]:
    """Headers with a fresh token for a user: auth("alice"), auth("bob", plan="premium")."""

    def headers(user_id: str = "alice", **claims) -> dict[str, str]:
        return {"Authorization": f"Bearer {issuer.mint(user_id, **claims)}"}

    return headers


@pytest.fixture
def sample_photos() -> list[Path]:
    return sorted(SAMPLE_PHOTOS.glob("*.jpg"))


class _JsonLogLines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def log_lines() -> Iterator[list[dict]]:
    """Every JSON line the shared logger writes while the test runs, as Powertools formats them."""
    from storywink.observability import logger

    collect = _JsonLogLines()
    collect.setFormatter(logger.registered_formatter)
    logging.getLogger(logger.name).addHandler(collect)
    yield collect.lines
    logging.getLogger(logger.name).removeHandler(collect)
