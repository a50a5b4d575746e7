"""Lag-tolerant reads go to the reader; a read right after the caller's own write goes to the primary.

The reader here is a real second engine: the same server reached as a role that may only SELECT and
whose transactions are read-only, as a replica's are, so a write through it would fail.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, event, make_url

from storywink.api.consistency import HEADER, reads_primary

READER_ROLE = "storywink_reader"


@pytest.fixture
def reader_url(database_url) -> str:
    engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        exists = connection.exec_driver_sql(f"SELECT 1 FROM pg_roles WHERE rolname = '{READER_ROLE}'").first()
        if not exists:
            connection.exec_driver_sql(f"CREATE ROLE {READER_ROLE} LOGIN")
        connection.exec_driver_sql(f"ALTER ROLE {READER_ROLE} SET default_transaction_read_only = on")
        connection.exec_driver_sql(f"GRANT USAGE ON SCHEMA public TO {READER_ROLE}")
        connection.exec_driver_sql(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {READER_ROLE}")
    engine.dispose()
    return make_url(database_url).set(username=READER_ROLE).render_as_string(hide_password=False)


@pytest.fixture
def statements(client, reconfigure, reader_url) -> Iterator[dict[str, list[str]]]:
    """The SQL each engine ran, by engine: "primary" and "reader"."""
    reconfigure(DATABASE_READ_URL=reader_url)
    database = client.app.state.container.database
    assert database.has_reader and database.read_engine is not database.engine
    seen: dict[str, list[str]] = {"primary": [], "reader": []}
    listeners = []
    for name, engine in (("primary", database.engine), ("reader", database.read_engine)):

        def record(conn, cursor, statement, parameters, context, executemany, name=name):
            seen[name].append(statement)

        event.listen(engine, "before_cursor_execute", record)
        listeners.append((engine, record))
    yield seen
    for engine, record in listeners:
        event.remove(engine, "before_cursor_execute", record)
    database.dispose()


def _reads_books(statements: list[str]) -> bool:
    return any("FROM books" in statement for statement in statements)


def test_the_library_a_book_and_its_status_are_read_from_the_reader(client, auth, book_with_photos, statements):
    book_id = book_with_photos(2)["id"]
    for name in statements:
        statements[name].clear()
    for path in ("/v1/books", f"/v1/books/{book_id}", f"/v1/books/{book_id}/status"):
        response = client.get(path, headers=auth())
        assert response.status_code == 200, response.text
    assert _reads_books(statements["reader"])
    assert not _reads_books(statements["primary"])  # the primary only sees the caller's user row


def test_the_read_after_the_caller_s_own_write_goes_to_the_primary(client, auth, book_with_photos, statements):
    book_id = book_with_photos(1)["id"]
    changed = client.patch(f"/v1/books/{book_id}", json={"title": "Read Your Writes"}, headers=auth())
    token = changed.headers[HEADER]
    for name in statements:
        statements[name].clear()

    fresh = client.get(f"/v1/books/{book_id}", headers={**auth(), HEADER: token})

    assert fresh.json()["title"] == "Read Your Writes"
    assert _reads_books(statements["primary"]) and not _reads_books(statements["reader"])


def test_an_old_token_reads_the_reader_again(client, auth, book_with_photos, statements):
    book_id = book_with_photos(1)["id"]
    for name in statements:
        statements[name].clear()
    client.get(f"/v1/books/{book_id}", headers={**auth(), HEADER: "1000"})  # 1970: long past the window
    assert _reads_books(statements["reader"]) and not _reads_books(statements["primary"])


def test_reads_never_carry_a_token_and_failed_writes_neither(client, auth, book_with_photos):
    book_id = book_with_photos(1)["id"]
    assert HEADER not in client.get(f"/v1/books/{book_id}", headers=auth()).headers
    assert HEADER not in client.patch(f"/v1/books/{book_id}", json={}, headers=auth()).headers  # 400
    assert HEADER in client.patch(f"/v1/books/{book_id}", json={"title": "T"}, headers=auth()).headers


def test_the_reader_refuses_writes(client, statements):
    """What makes the role above a faithful stand-in for a replica: its transactions are read-only."""
    from sqlalchemy.exc import DBAPIError

    reader = client.app.state.container.database.read_engine
    with pytest.raises(DBAPIError, match="read-only transaction"), reader.begin() as connection:
        connection.exec_driver_sql("UPDATE books SET title = title")


def test_which_tokens_read_the_primary():
    assert reads_primary("1000", 10, now=5.0) is True  # written 1 s after the epoch, read at 5 s
    assert reads_primary("1000", 10, now=20.0) is False
    assert reads_primary("not-a-number", 10) is True
    assert reads_primary(None, 10) is False


def test_without_a_reader_a_read_uses_the_request_s_one_connection(client, auth, book_with_photos, reconfigure):
    """A Lambda container holds one connection (DATABASE_POOL_SIZE=1, no overflow): the lag-tolerant reads
    share the request's unit of work rather than wait for a second connection the pool never has."""
    book_id = book_with_photos(1)["id"]
    reconfigure(DATABASE_POOL_SIZE=1, DATABASE_MAX_OVERFLOW=0)
    for path in ("/v1/books", f"/v1/books/{book_id}", f"/v1/books/{book_id}/status"):
        response = client.get(path, headers=auth())
        assert response.status_code == 200, (path, response.text)
