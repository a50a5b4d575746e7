"""Photos: presigned upload over real HTTP, confirm into pages, and every bad image rejected cleanly."""

from __future__ import annotations

import io
import struct
import zlib

import httpx
import pytest
from PIL import Image
from sqlalchemy import func, select

from storywink.db.tables import Asset, Page
from storywink.storage import keys


def object_keys(media, book_id) -> list[str]:
    listing = media.s3.list_objects_v2(Bucket=media.bucket, Prefix=keys.book_prefix(book_id))
    return sorted(obj["Key"] for obj in listing.get("Contents", []))


def row_counts(session) -> tuple[int, int]:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Page)), session.scalar(select(func.count()).select_from(Asset))


def png_bomb(width: int = 20000, height: int = 20000) -> bytes:
    """A valid-looking 1-bit PNG header of the given size with a tiny compressed body."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" + b"\x00" * ((width + 7) // 8)
    body = zlib.compress(row * 64, 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)) + chunk(
        b"IDAT", body
    ) + chunk(b"IEND", b"")


def test_presigned_upload_then_confirm_creates_pages_in_order(client, auth, new_book, upload, sample_photos, media):
    book = new_book()
    ids = upload(book["id"], sample_photos[:3])
    response = client.post(f"/v1/books/{book['id']}/photos/confirm", json={"uploadIds": ids}, headers=auth())
    assert response.status_code == 201, response.text
    confirmed = response.json()
    assert confirmed["pageLength"] == 3
    assert [p["pageNumber"] for p in confirmed["pages"]] == [1, 2, 3]
    first = confirmed["pages"][0]
    assert first["isTitlePage"] is True and confirmed["coverAssetId"] == first["photo"]["id"]
    assert first["photo"]["width"] > 0 and first["photo"]["contentType"] == "image/jpeg"
    # The image URLs really serve the cleaned photo and its WebP thumbnail, each with its Cache-Control.
    served = httpx.get(first["thumbnailUrl"])
    assert served.headers["content-type"] == "image/webp"
    assert served.headers["cache-control"] == "max-age=31536000, immutable"
    thumb = Image.open(io.BytesIO(served.content))
    assert thumb.format == "WEBP" and thumb.width >= 400 and thumb.height >= 300  # covers the library cover box
    photo = httpx.get(first["photoUrl"])
    assert photo.status_code == 200 and photo.headers["cache-control"] == "max-age=31536000, immutable"
    # Read again in the same window, the book names every picture by the very same URL.
    again = client.get(f"/v1/books/{book['id']}", headers=auth()).json()
    assert [(p["photoUrl"], p["thumbnailUrl"]) for p in again["pages"]] == [
        (p["photoUrl"], p["thumbnailUrl"]) for p in confirmed["pages"]
    ]
    # Staged uploads are gone; photos and thumbnails stay.
    stored = object_keys(media, book["id"])
    assert not [k for k in stored if "/uploads/" in k]
    assert len([k for k in stored if "/photos/" in k]) == 3 and len([k for k in stored if "/thumbnails/" in k]) == 3


def test_confirming_the_same_upload_twice_adds_one_page(client, auth, new_book, upload, sample_photos):
    book = new_book()
    ids = upload(book["id"], sample_photos[:1])
    client.post(f"/v1/books/{book['id']}/photos/confirm", json={"uploadIds": ids}, headers=auth())
    again = client.post(f"/v1/books/{book['id']}/photos/confirm", json={"uploadIds": ids}, headers=auth())
    assert again.status_code == 201
    assert again.json()["pageLength"] == 1


def test_location_metadata_is_stripped_and_orientation_applied(client, auth, new_book, upload, media):
    image = Image.new("RGB", (300, 200), (200, 120, 40))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° on display
    exif[0x8825] = {1: "N", 2: (52.0, 22.0, 0.0)}  # GPS
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    book = new_book()
    ids = upload(book["id"], [buffer.getvalue()])
    page = client.post(f"/v1/books/{book['id']}/photos/confirm", json={"uploadIds": ids}, headers=auth()).json()[
        "pages"
    ][0]
    assert (page["photo"]["width"], page["photo"]["height"]) == (200, 300)
    stored = Image.open(io.BytesIO(httpx.get(page["photoUrl"]).content))
    assert stored.size == (200, 300)
    assert 0x8825 not in stored.getexif()


def truncated_jpeg(sample_photos) -> bytes:
    data = sample_photos[0].read_bytes()
    return data[: len(data) // 2]


@pytest.mark.parametrize(
    "make_bytes, status, code",
    [
        (lambda photos: b"just some text, not a photo\n" * 10, 415, "UNSUPPORTED_IMAGE_TYPE"),
        (truncated_jpeg, 422, "IMAGE_CORRUPT"),
        (lambda photos: png_bomb(), 422, "IMAGE_DIMENSIONS_TOO_LARGE"),
    ],
    ids=["text-named-jpg", "truncated-jpeg", "png-bomb"],
)
def test_bad_image_is_rejected_and_leaves_nothing_behind(
    client, auth, new_book, upload, sample_photos, media, session, make_bytes, status, code
):
    book = new_book()
    good = upload(book["id"], sample_photos[:1])
    bad = upload(book["id"], [make_bytes(sample_photos)])
    response = client.post(f"/v1/books/{book['id']}/photos/confirm", json={"uploadIds": good + bad}, headers=auth())
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert error["details"]["rejected"][0]["uploadId"] == bad[0]
    assert row_counts(session) == (0, 0)
    # Nothing derived was written, and the rejected upload itself is gone.
    assert object_keys(media, book["id"]) == [keys.upload_key(book["id"], good[0])]


def test_oversized_upload_is_refused_before_a_url_is_issued(client, auth, new_book, issuer):
    book = new_book()
    response = client.post(
        f"/v1/books/{book['id']}/photos",
        json={"photos": [{"contentType": "image/jpeg", "size": 15 * 1024 * 1024 + 1}]},
        headers=auth(),
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "PHOTO_TOO_LARGE"


def test_oversized_object_is_rejected_at_confirm(client, auth, new_book, media, session, reconfigure):
    book = new_book()
    big = b"\xff\xd8\xff" + b"\0" * 2048
    ticket = client.post(
        f"/v1/books/{book['id']}/photos", json={"photos": [{"contentType": "image/jpeg", "size": len(big)}]},
        headers=auth(),
    ).json()["uploads"][0]
    httpx.put(ticket["url"], content=big, headers=ticket["headers"])
    reconfigure(MAX_PHOTO_BYTES=1024)
    response = client.post(
        f"/v1/books/{book['id']}/photos/confirm", json={"uploadIds": [ticket["uploadId"]]}, headers=auth()
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "PHOTO_TOO_LARGE"
    assert row_counts(session) == (0, 0) and object_keys(media, book["id"]) == []


def test_unsupported_declared_type_is_refused(client, auth, new_book):
    book = new_book()
    response = client.post(
        f"/v1/books/{book['id']}/photos", json={"photos": [{"contentType": "image/gif", "size": 100}]}, headers=auth()
    )
    assert response.status_code == 415


def test_confirm_of_an_upload_that_never_arrived_is_rejected(client, auth, new_book, session):
    book = new_book()
    ticket = client.post(
        f"/v1/books/{book['id']}/photos", json={"photos": [{"contentType": "image/jpeg", "size": 10}]}, headers=auth()
    ).json()["uploads"][0]
    response = client.post(
        f"/v1/books/{book['id']}/photos/confirm", json={"uploadIds": [ticket["uploadId"]]}, headers=auth()
    )
    assert response.status_code == 422 and response.json()["error"]["code"] == "UPLOAD_NOT_FOUND"
    assert row_counts(session) == (0, 0)


def test_more_photos_than_the_page_limit_is_refused(client, auth, book_with_photos, reconfigure):
    book = book_with_photos(2)
    reconfigure(MAX_PAGES=3)
    response = client.post(
        f"/v1/books/{book['id']}/photos",
        json={"photos": [{"contentType": "image/jpeg", "size": 1000}] * 2},
        headers=auth(),
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "PAGE_LIMIT_EXCEEDED" and error["details"]["maxPages"] == 3


def test_delete_removes_rows_and_every_object(client, auth, book_with_photos, media, session):
    book = book_with_photos(2)
    assert object_keys(media, book["id"])
    assert client.delete(f"/v1/books/{book['id']}", headers=auth()).status_code == 204
    assert object_keys(media, book["id"]) == []
    assert row_counts(session) == (0, 0)
