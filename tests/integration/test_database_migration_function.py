"""The migration custom resource invoked with events/migrate_database.json, as CloudFormation would,
against a database of its own in the embedded PostgreSQL; CloudFormation's pre-signed response URL is
a local HTTP server that records the PUT."""

from __future__ import annotations

import importlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from storywink.db.migrate import alembic_config
from storywink.local.lambda_runtime import LocalLambdaContext
from storywink.wiring import use_container

EVENT = Path(__file__).resolve().parents[2] / "events" / "migrate_database.json"
HEAD = ScriptDirectory.from_config(alembic_config("postgresql://unused")).get_current_head()


class Answers(BaseHTTPRequestHandler):
    received: ClassVar[list[dict]] = []

    def do_PUT(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Answers.received.append({"path": self.path, "content_type": self.headers.get("Content-Type"), "answer": json.loads(body)})
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def response_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Answers)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/stack/DatabaseMigration?X-Amz-Signature=abc"
    server.shutdown()
    thread.join()


@pytest.fixture
def empty_database(embedded_postgres, monkeypatch) -> Iterator[str]:
    url = embedded_postgres.create_database("storywink_migration_function", recreate=True)
    monkeypatch.setenv("DATABASE_URL", url)
    use_container(None)
    yield url
    use_container(None)
    embedded_postgres.drop_database("storywink_migration_function")


def invoke(response_url: str, request_type: str) -> dict:
    Answers.received.clear()
    event = {**json.loads(EVENT.read_text()), "RequestType": request_type, "ResponseURL": response_url}
    if request_type == "Create":
        event.pop("PhysicalResourceId")
    handler = importlib.import_module("migrate_database").handler
    returned = handler(event, LocalLambdaContext("DatabaseMigrationFunction", timeout_seconds=600))
    assert len(Answers.received) == 1, "CloudFormation gets exactly one answer"
    put = Answers.received[0]
    assert put["answer"] == returned
    assert put["content_type"] == "", "the pre-signed URL is signed without a content type"
    assert put["answer"]["RequestId"] == event["RequestId"]
    assert put["answer"]["LogicalResourceId"] == "DatabaseMigration"
    assert put["answer"]["PhysicalResourceId"] == "storywink-database-schema"
    return put["answer"]


def schema_state(url: str) -> tuple[str, int, list[str]]:
    """The revision, the alembic_version row's transaction id (changes only if the row is written) and the tables."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            revision, xmin = connection.execute(text("SELECT version_num, xmin::text::bigint FROM alembic_version")).one()
            return revision, xmin, sorted(inspect(connection).get_table_names())
    finally:
        engine.dispose()


def test_create_upgrades_an_empty_database_to_head(response_url, empty_database):
    answer = invoke(response_url, "Create")
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert answer["Data"] == {"Revision": HEAD}
    revision, _, tables = schema_state(empty_database)
    assert revision == HEAD
    assert {"books", "pages", "job_runs", "book_events"} <= set(tables)


def test_running_again_changes_nothing(response_url, empty_database):
    assert invoke(response_url, "Create")["Status"] == "SUCCESS"
    before = schema_state(empty_database)
    answer = invoke(response_url, "Update")
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert answer["Data"] == {"Revision": HEAD}
    assert schema_state(empty_database) == before


def test_a_failing_migration_fails_the_deploy_with_its_error_and_leaves_nothing_half_done(response_url, empty_database):
    engine = create_engine(empty_database)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE books (id integer PRIMARY KEY)"))  # in the way of the first revision
    answer = invoke(response_url, "Update")
    assert answer["Status"] == "FAILED"
    assert "books" in answer["Reason"] and "already exists" in answer["Reason"]
    assert answer["Data"] == {}
    with engine.connect() as connection:
        assert inspect(connection).get_table_names() == ["books"], "the failed run rolled back whole"
    engine.dispose()


def test_delete_answers_success_and_keeps_the_schema(response_url, empty_database):
    assert invoke(response_url, "Create")["Status"] == "SUCCESS"
    before = schema_state(empty_database)
    answer = invoke(response_url, "Delete")
    assert answer["Status"] == "SUCCESS"
    assert schema_state(empty_database) == before


def test_an_unreachable_database_is_a_failed_answer_not_a_silent_wait(response_url, empty_database, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql+pg8000://storywink@127.0.0.1:9/storywink")
    use_container(None)
    answer = invoke(response_url, "Create")
    assert answer["Status"] == "FAILED"
    assert answer["Reason"]
