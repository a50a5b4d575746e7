"""Through the whole local stack over real HTTP: a parent exports everything of a finished book, then
deletes the account; the stack's own export and deletion workers (fed by the template's queues) do the
work, and another parent's book is untouched."""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Callable
from typing import Any

import httpx

from storywink.storage import keys
from storywink.wiring import container


def wait(check: Callable[[], Any], timeout: float = 90) -> Any:
    """Poll until ``check`` returns something other than None."""
    deadline = time.monotonic() + timeout
    while (value := check()) is None:
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.25)
    return value


def objects(prefix: str) -> list[str]:
    media = container().media
    listed = media.s3.list_objects_v2(Bucket=media.bucket, Prefix=prefix)
    return [obj["Key"] for obj in listed.get("Contents", [])]


def test_a_parent_exports_everything_then_deletes_the_account_and_nothing_of_it_is_left(api, sample_photos):
    parent, other = api("privacy-parent"), api("privacy-other")
    book = parent.make_finished_book(sample_photos[:2], title="Our Day Out")
    others = other.make_book(sample_photos[:1], title="Not Yours")

    export = parent("POST", "/v1/me/exports", 202)
    ready = wait(lambda: (e := parent("GET", f"/v1/me/exports/{export['id']}"))["status"] == "READY" and e or None)
    archive = zipfile.ZipFile(io.BytesIO(httpx.get(ready["downloadUrl"]).raise_for_status().content))
    details = json.loads(archive.read(f"books/{book['id']}/book.json"))
    assert details["title"] == "Our Day Out" and all(page["text"] for page in details["pages"])
    assert archive.read(f"books/{book['id']}/book.pdf").startswith(b"%PDF")
    assert all(page["illustration"] in archive.namelist() and page["photo"] in archive.namelist() for page in details["pages"])
    assert not any(others["id"] in name for name in archive.namelist())
    assert objects(keys.book_prefix(book["id"])) and objects(keys.export_prefix("privacy-parent"))

    assert parent("DELETE", "/v1/me", 202)["status"] == "DELETING"
    assert parent.http.get("/v1/books").json()["error"]["code"] == "ACCOUNT_DELETED"
    wait(lambda: parent.http.delete("/v1/me").status_code == 204 or None)

    assert objects(keys.book_prefix(book["id"])) == [] and objects(keys.export_prefix("privacy-parent")) == []
    assert other("GET", f"/v1/books/{others['id']}")["title"] == "Not Yours"
    assert objects(keys.book_prefix(others["id"]))
