"""POST /v1/me/exports and GET /v1/me/exports/{id}: the zip holds every book's photos, illustrations,
PDF and texts and nothing of another user; its status is readable; its link and the zip itself expire;
another user cannot read it."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import text

from storywink.storage import keys


def add_generated_files(session, media, book: dict, texts: list[str]) -> None:
    """What the pipeline would have written: a text and an illustration per page, and the book's PDF."""
    for page, page_text in zip(sorted(book["pages"], key=lambda p: p["pageNumber"]), texts, strict=True):
        key = keys.illustration_key(book["id"], page["id"])
        media.write(key, f"PNG of {page['id']}".encode(), "image/png")
        session.execute(
            text("UPDATE pages SET illustration_key = :key, text = :text WHERE id = :id"),
            {"key": key, "text": page_text, "id": page["id"]},
        )
    media.write(keys.pdf_key(book["id"]), f"%PDF of {book['id']}".encode(), "application/pdf")
    session.execute(text("UPDATE books SET pdf_key = :key WHERE id = :id"), {"key": keys.pdf_key(book["id"]), "id": book["id"]})
    session.commit()


def test_the_export_holds_every_books_photos_illustrations_pdf_and_texts_and_nothing_of_another_user(
    client, auth, session, media, book_with_photos, privacy
):
    first, second = book_with_photos(2, user="alice", title="Milo in Space"), book_with_photos(1, user="alice")
    add_generated_files(session, media, first, ["Milo looked up at the stars.", "And off he flew."])
    bobs = book_with_photos(1, user="bob", title="Bob's Secret Book")
    add_generated_files(session, media, bobs, ["Bob's own words."])

    started = client.post("/v1/me/exports", headers=auth("alice"))
    assert started.status_code == 202 and started.json()["status"] == "PENDING"
    assert started.headers["Location"] == f"/v1/me/exports/{started.json()['id']}"
    assert privacy.run_exports() == 1
    ready = client.get(started.headers["Location"], headers=auth("alice")).json()
    assert ready["status"] == "READY" and ready["sizeBytes"] > 0

    archive = zipfile.ZipFile(io.BytesIO(httpx.get(ready["downloadUrl"]).raise_for_status().content))
    names = set(archive.namelist())
    account = json.loads(archive.read("account.json"))
    assert account["id"] == "alice" and account["email"] == "alice@example.test"
    for book in (first, second):
        details = json.loads(archive.read(f"books/{book['id']}/book.json"))
        assert details["title"] == book["title"] and len(details["pages"]) == len(book["pages"])
        for page, shown in zip(sorted(book["pages"], key=lambda p: p["pageNumber"]), details["pages"], strict=True):
            assert shown["id"] == page["id"]
            photo_key = session.execute(
                text("SELECT a.s3_key FROM pages p JOIN assets a ON a.id = p.asset_id WHERE p.id = :id"), {"id": page["id"]}
            ).scalar_one()
            assert archive.read(shown["photo"]) == media.read(photo_key)
    first_book = json.loads(archive.read(f"books/{first['id']}/book.json"))
    assert [page["text"] for page in first_book["pages"]] == ["Milo looked up at the stars.", "And off he flew."]
    assert archive.read(first_book["pages"][0]["illustration"]).startswith(b"PNG of ")
    assert archive.read(f"books/{first['id']}/book.pdf") == f"%PDF of {first['id']}".encode()
    photos = [name for name in names if "/photos/" in name]
    assert len(photos) == 3
    whole = b"".join(archive.read(name) for name in names)
    assert bobs["id"].encode() not in whole and b"Bob's" not in whole
    assert not any(bobs["id"] in name for name in names)


def test_the_download_link_lives_minutes_and_the_export_expires_after_its_days(
    client, auth, session, new_book, privacy, reconfigure
):
    new_book("alice")
    export = client.post("/v1/me/exports", headers=auth("alice")).json()
    assert client.get(f"/v1/me/exports/{export['id']}", headers=auth("alice")).json()["status"] == "PENDING"
    privacy.run_exports()
    ready = client.get(f"/v1/me/exports/{export['id']}", headers=auth("alice")).json()
    query = parse_qs(urlsplit(ready["downloadUrl"]).query)
    assert int(query["X-Amz-Expires"][0]) == 300  # DOWNLOAD_URL_TTL_SECONDS
    assert datetime.fromisoformat(ready["expiresAt"]) - datetime.fromisoformat(ready["readyAt"]) == timedelta(days=7)

    session.execute(text("UPDATE exports SET ready_at = now() - interval '7 days 1 minute'"))
    session.commit()
    expired = client.get(f"/v1/me/exports/{export['id']}", headers=auth("alice")).json()
    assert expired["status"] == "EXPIRED" and expired["downloadUrl"] is None


def test_asking_again_while_one_is_made_answers_that_one(client, auth, new_book, privacy):
    new_book("alice")
    first = client.post("/v1/me/exports", headers=auth("alice")).json()
    again = client.post("/v1/me/exports", headers=auth("alice")).json()
    assert again["id"] == first["id"]
    assert privacy.run_exports() == 1
    assert client.post("/v1/me/exports", headers=auth("alice")).json()["id"] != first["id"]  # a new one once ready


def test_an_export_never_built_within_its_deadline_reads_failed(client, auth, session, new_book, privacy):
    new_book("alice")
    export = client.post("/v1/me/exports", headers=auth("alice")).json()
    session.execute(text("UPDATE exports SET requested_at = now() - interval '2 hours'"))
    session.commit()
    assert client.get(f"/v1/me/exports/{export['id']}", headers=auth("alice")).json()["status"] == "FAILED"


def test_another_user_cannot_read_someones_export(client, auth, new_book, privacy):
    new_book("alice")
    export = client.post("/v1/me/exports", headers=auth("alice")).json()
    privacy.run_exports()
    other = client.get(f"/v1/me/exports/{export['id']}", headers=auth("mallory"))
    assert other.status_code == 404 and other.json()["error"]["code"] == "EXPORT_NOT_FOUND"
    assert "downloadUrl" not in other.text


def test_the_zip_goes_up_in_parts_and_the_worker_holds_one_part_at_a_time(session, media, book_with_photos, privacy, reconfigure, client, auth):
    reconfigure(EXPORT_PART_BYTES=5 * 1024 * 1024)
    book = book_with_photos(1, user="alice")
    big = bytes(range(256)) * (12 * 1024 * 1024 // 256)  # a 12 MB PDF: three parts
    media.write(keys.pdf_key(book["id"]), big, "application/pdf")
    session.execute(text("UPDATE books SET pdf_key = :key WHERE id = :id"), {"key": keys.pdf_key(book["id"]), "id": book["id"]})
    session.commit()
    export = client.post("/v1/me/exports", headers=auth("alice")).json()
    privacy.run_exports()
    ready = client.get(f"/v1/me/exports/{export['id']}", headers=auth("alice")).json()
    head = media.s3.head_object(Bucket=media.bucket, Key=keys.export_key("alice", export["id"]), PartNumber=1)
    assert head["PartsCount"] == 3
    archive = zipfile.ZipFile(io.BytesIO(httpx.get(ready["downloadUrl"]).content))
    assert archive.read(f"books/{book['id']}/book.pdf") == big
    assert datetime.fromisoformat(ready["downloadUrlExpiresAt"]) > datetime.now(UTC)
