"""DELETE /v1/me: the deletion job leaves no row and no object of the user, resumes after a crash, is
idempotent, stops a running generation, and the account sweep deletes the data of users gone from the
user directory (moto's cognito-idp). Another user's data is never touched."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime, timedelta
from uuid import UUID

import boto3
import pytest
from sqlalchemy import func, select, text

from storywink.db.tables import AccountDeletion, Book, User
from storywink.domain.enums import BookStatus
from storywink.local.lambda_runtime import LocalLambdaContext
from storywink.local.samples import sqs_sample
from storywink.local.sqs_poller import sqs_event
from storywink.pipeline.sqs_batch import EveryRecordFailed
from storywink.storage import keys

# Every table that holds a user's rows, and how a row is tied to the user.
REGION = "us-east-1"
USER_ROWS = {
    "users": "id = :user",
    "books": "owner_id = :user",
    "assets": "owner_id = :user",
    "pages": "book_id IN (SELECT unnest(CAST(:books AS uuid[])))",
    "job_runs": "book_id IN (SELECT unnest(CAST(:books AS uuid[])))",
    "book_events": "book_id IN (SELECT unnest(CAST(:books AS uuid[])))",
    "usage_counters": "user_id = :user",
    "idempotency_records": "user_id = :user",
    "stream_leases": "user_id = :user",
    "exports": "user_id = :user",
}


def depth(queue_url: str) -> int:
    attributes = boto3.client("sqs", region_name=REGION).get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def rows_of(session, user: str, book_ids: list[str]) -> dict[str, int]:
    session.expire_all()
    return {
        table: session.execute(text(f"SELECT count(*) FROM {table} WHERE {where}"), {"user": user, "books": book_ids}).scalar_one()
        for table, where in USER_ROWS.items()
    }


def objects_under(media, *prefixes: str) -> list[str]:
    return sorted(key for prefix in prefixes for key in _keys(media, prefix))


def _keys(media, prefix: str) -> list[str]:
    pages = media.s3.get_paginator("list_objects_v2").paginate(Bucket=media.bucket, Prefix=prefix)
    return [obj["Key"] for page in pages for obj in page.get("Contents", [])]


def full_account(client, auth, session, book_with_photos, media, privacy, user: str) -> list[str]:
    """Two books with photos (one with a generated illustration and PDF, a job run and a status event), an
    idempotency record, usage counters, a stream lease, a built export and a WebSocket connection with a
    subscription."""
    books = [book_with_photos(2, user=user), book_with_photos(1, user=user)]
    first = books[0]
    page = first["pages"][0]
    media.write(keys.illustration_key(first["id"], page["id"]), b"\x89PNG illustration", "image/png")
    media.write(keys.pdf_key(first["id"]), b"%PDF-1.4 the book", "application/pdf")
    session.execute(
        text("UPDATE pages SET illustration_key = :key WHERE id = :id"),
        {"key": keys.illustration_key(first["id"], page["id"]), "id": page["id"]},
    )
    session.execute(text("UPDATE books SET pdf_key = :key WHERE id = :id"), {"key": keys.pdf_key(first["id"]), "id": first["id"]})
    session.execute(
        text("INSERT INTO idempotency_records (user_id, key, route, status_code, body) VALUES (:u, 'k1', 'r', 202, '{}')"),
        {"u": user},
    )
    session.execute(
        text(
            "INSERT INTO job_runs (id, book_id, step, attempt, status, deliveries, prompt_tokens, completion_tokens)"
            " VALUES (gen_random_uuid(), :b, 'STORY', 1, 'SUCCEEDED', 1, 10, 20)"
        ),
        {"b": first["id"]},
    )
    session.execute(
        text("INSERT INTO book_events (book_id, seq, type, payload) VALUES (:b, 1, 'generation.started', '{}')"),
        {"b": first["id"]},
    )
    session.execute(
        text("INSERT INTO stream_leases (id, user_id, book_id, expires_at) VALUES (gen_random_uuid(), :u, :b, now())"),
        {"u": user, "b": first["id"]},
    )
    session.commit()
    assert client.post("/v1/me/exports", headers=auth(user)).status_code == 202
    privacy.run_exports()
    from storywink.wiring import container

    connections = container().require_connections()
    connections.add_connection(f"conn-{user}", user)
    connections.subscribe(f"conn-{user}", user, first["id"], 0)
    return [book["id"] for book in books]


def test_deleting_an_account_leaves_no_row_and_no_object_of_it_and_another_users_untouched(
    client, auth, session, book_with_photos, media, privacy
):
    alice = full_account(client, auth, session, book_with_photos, media, privacy, "alice")
    bob = full_account(client, auth, session, book_with_photos, media, privacy, "bob")
    alice_prefixes = [*(keys.book_prefix(b) for b in alice), keys.export_prefix("alice")]
    bob_prefixes = [*(keys.book_prefix(b) for b in bob), keys.export_prefix("bob")]
    bob_rows, bob_objects = rows_of(session, "bob", bob), objects_under(media, *bob_prefixes)
    assert all(rows_of(session, "alice", alice).values()) and objects_under(media, *alice_prefixes)

    answer = client.delete("/v1/me", headers=auth("alice"))
    assert answer.status_code == 202 and answer.json()["status"] == "DELETING"
    assert privacy.run_deletions() >= 1

    assert rows_of(session, "alice", alice) == dict.fromkeys(USER_ROWS, 0)
    assert objects_under(media, *alice_prefixes) == []
    assert rows_of(session, "bob", bob) == bob_rows
    assert objects_under(media, *bob_prefixes) == bob_objects
    from storywink.wiring import container

    table = container().require_connections().table
    assert [i for i in table.scan()["Items"] if i["userId"] == "alice"] == []
    assert [i for i in table.scan()["Items"] if i["userId"] == "bob"] != []


def test_a_deleted_accounts_token_is_refused_and_brings_nothing_back(client, auth, session, new_book, privacy):
    new_book("alice")
    token = auth("alice")
    assert client.delete("/v1/me", headers=token).status_code == 202
    refused = client.post("/v1/books", json={"title": "Again", "childName": "Milo"}, headers=token)
    assert refused.status_code == 410 and refused.json()["error"]["code"] == "ACCOUNT_DELETED"
    privacy.run_deletions()
    for answer in (client.get("/v1/books", headers=token), client.post("/v1/me/exports", headers=token)):
        assert answer.status_code == 410 and answer.json()["error"]["code"] == "ACCOUNT_DELETED"
    session.expire_all()
    assert session.get(User, "alice") is None


def test_a_second_delete_is_idempotent_202_while_it_runs_then_204(client, auth, session, new_book, privacy):
    new_book("alice")
    first = client.delete("/v1/me", headers=auth("alice"))
    again = client.delete("/v1/me", headers=auth("alice"))
    assert (first.status_code, again.status_code) == (202, 202)
    assert first.json() == again.json()
    assert depth(privacy.deletion) == 1  # the repeat sent no second message
    privacy.run_deletions()
    done = client.delete("/v1/me", headers=auth("alice"))
    assert done.status_code == 204 and done.content == b""


def test_a_deletion_interrupted_mid_way_resumes_where_it_was_and_finishes(
    client, auth, session, book_with_photos, media, privacy, reconfigure, monkeypatch
):
    reconfigure(ACCOUNT_DELETION_BOOKS_PER_MESSAGE=1)
    books = [book_with_photos(1, user="alice")["id"] for _ in range(3)]
    client.delete("/v1/me", headers=auth("alice"))
    from storywink.wiring import container

    deleter = container().account_deleter
    store = deleter.media
    real = store.delete_prefix
    calls = []

    def crash_after_the_second_books_objects(prefix: str) -> int:
        deleted = real(prefix)
        calls.append(prefix)
        if len(calls) == 2:
            raise RuntimeError("the container died here")  # objects gone, the book's rows not yet
        return deleted

    monkeypatch.setattr(store, "delete_prefix", crash_after_the_second_books_objects)
    sqs = boto3.client("sqs", region_name=REGION)
    arn = sqs.get_queue_attributes(QueueUrl=privacy.deletion, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    handler = importlib.import_module("account_deletion_worker").handler
    context = LocalLambdaContext("AccountDeletionWorkerFunction")

    def next_message() -> dict:
        (message,) = sqs.receive_message(QueueUrl=privacy.deletion, AttributeNames=["All"])["Messages"]
        return message

    first = next_message()  # deletes one book and sends the next message
    assert handler(sqs_event([first], arn, REGION), context) == {"batchItemFailures": []}
    sqs.delete_message(QueueUrl=privacy.deletion, ReceiptHandle=first["ReceiptHandle"])
    with pytest.raises(EveryRecordFailed):  # dies mid-way through the next book: the message stays
        handler(sqs_event([next_message()], arn, REGION), context)
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Book).where(Book.owner_id == "alice")) == 2
    monkeypatch.undo()

    privacy.run_deletions()  # the redelivered message resumes
    assert rows_of(session, "alice", books) == dict.fromkeys(USER_ROWS, 0)
    assert objects_under(media, *(keys.book_prefix(b) for b in books)) == []
    assert session.get(AccountDeletion, "alice").finished_at is not None


def test_the_last_pass_waits_for_late_writes_and_then_deletes_them(client, auth, session, book_with_photos, media, privacy, reconfigure):
    reconfigure(ACCOUNT_DELETION_SETTLE_SECONDS=600)
    book = book_with_photos(1, user="alice")["id"]
    client.delete("/v1/me", headers=auth("alice"))
    from storywink.wiring import container

    progress = container().account_deleter.step("alice")
    assert not progress.finished and 590 <= progress.next_in_seconds <= 601
    # A worker that was mid-way when its book went writes its illustration now.
    media.write(keys.illustration_key(book, "late"), b"late", "image/png")
    session.execute(
        text("UPDATE account_deletions SET settle_after = now() - interval '1 second' WHERE user_id = 'alice'")
    )
    session.commit()
    assert container().account_deleter.step("alice").finished
    assert objects_under(media, keys.book_prefix(book)) == []


def test_a_running_generation_is_stopped_and_its_late_task_is_dropped_quietly(
    client, auth, session, book_with_photos, privacy, advance
):
    book = book_with_photos(2, user="alice")
    advance(session, book["id"], BookStatus.GENERATING)
    session.execute(
        text("UPDATE books SET execution_arn = :arn WHERE id = :id"),
        {"arn": f"arn:aws:states:{REGION}:123456789012:execution:nowhere:{book['id']}-1", "id": book["id"]},
    )
    session.commit()
    client.delete("/v1/me", headers=auth("alice"))
    privacy.run_deletions()
    session.expire_all()
    assert session.get(Book, UUID(book["id"])) is None

    # Its story task, still queued, arrives after the book went: dropped, not retried, not dead-lettered.
    story = importlib.import_module("story_worker").handler
    response = story(sqs_sample("story_worker.json", book["id"]), LocalLambdaContext("StoryWorkerFunction"))
    assert response == {"batchItemFailures": []}


# ---------------------------------------------------------------- the user directory (moto's cognito-idp)


@pytest.fixture
def user_pool(aws_environment):
    cognito = boto3.client("cognito-idp", region_name=REGION)
    pool = cognito.create_user_pool(PoolName="storywink-test", UsernameAttributes=["email"])["UserPool"]["Id"]
    yield cognito, pool
    cognito.delete_user_pool(UserPoolId=pool)


def directory_user(cognito, pool: str, email: str) -> str:
    """A user of the pool; returns its sub (the id our tokens carry)."""
    created = cognito.admin_create_user(UserPoolId=pool, Username=email, MessageAction="SUPPRESS")["User"]
    return next(a["Value"] for a in created["Attributes"] if a["Name"] == "sub")


def sweep() -> dict:
    return importlib.import_module("account_sweeper").handler({}, LocalLambdaContext("AccountSweeperFunction"))


def test_deleting_an_account_removes_its_user_from_the_directory(client, auth, user_pool, privacy, reconfigure):
    cognito, pool = user_pool
    carol = directory_user(cognito, pool, "carol@example.test")
    reconfigure(USER_POOL_ID=pool)
    client.delete("/v1/me", headers=auth(carol))
    privacy.run_deletions()
    assert cognito.list_users(UserPoolId=pool, Filter=f'sub = "{carol}"')["Users"] == []


def test_the_sweep_deletes_the_data_of_a_user_gone_from_the_directory_and_no_one_elses(
    client, auth, session, book_with_photos, media, user_pool, privacy, reconfigure
):
    cognito, pool = user_pool
    carol = directory_user(cognito, pool, "carol@example.test")
    dave = directory_user(cognito, pool, "dave@example.test")
    carols = book_with_photos(1, user=carol)["id"]
    daves = book_with_photos(1, user=dave)["id"]
    cognito.admin_delete_user(UserPoolId=pool, Username="carol@example.test")  # an operator, in the console
    reconfigure(USER_POOL_ID=pool)

    result = sweep()
    assert (result["checked"], result["gone"], result["refused"]) == (2, 1, False)
    privacy.run_deletions()

    assert rows_of(session, carol, [carols]) == dict.fromkeys(USER_ROWS, 0)
    assert objects_under(media, keys.book_prefix(carols)) == []
    assert session.get(Book, UUID(daves)) is not None and objects_under(media, keys.book_prefix(daves))
    assert session.get(User, dave).directory_checked_at is not None
    assert sweep()["checked"] == 0  # dave was asked about already today


def test_the_sweep_does_not_believe_a_directory_that_says_nearly_everyone_is_gone(
    client, auth, session, new_book, user_pool, privacy, reconfigure
):
    _, pool = user_pool  # none of these users is in it: USER_POOL_ID names the wrong pool
    for n in range(20):
        new_book(f"user-{n}")
    reconfigure(USER_POOL_ID=pool)
    result = sweep()
    assert result["refused"] and result["gone"] == 0
    assert depth(privacy.deletion) == 0
    assert session.scalar(select(func.count()).select_from(AccountDeletion)) == 0


def test_the_sweep_resends_a_stalled_deletion_and_removes_old_tombstones(client, auth, session, new_book, privacy):
    new_book("alice")
    client.delete("/v1/me", headers=auth("alice"))
    privacy.run_deletions()
    stalled_at = datetime.now(UTC) - timedelta(hours=2)
    session.add(AccountDeletion(user_id="erin", reason="requested", last_enqueued_at=stalled_at))
    session.execute(text("UPDATE account_deletions SET finished_at = now() - interval '2 days' WHERE user_id = 'alice'"))
    session.commit()

    result = sweep()
    assert (result["resent"], result["purged"]) == (1, 1)
    assert depth(privacy.deletion) == 1
    privacy.run_deletions()
    session.expire_all()
    assert session.get(AccountDeletion, "erin").finished_at is not None
    assert session.get(AccountDeletion, "alice") is None
