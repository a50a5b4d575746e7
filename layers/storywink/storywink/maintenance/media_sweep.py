"""The media sweep: objects under books/ that nothing will ever read, deleted once they are older than a grace
period — everything of a book that no longer exists (a worker's late write after its book went), a photo or
thumbnail whose asset was never recorded (a confirm whose commit never came), and an upload never confirmed
(the bucket's lifecycle rule expires those a day later too; the sweep also clears them where no rule runs).

Each run lists a bounded number of objects, a page at a time, and resumes after the last key the previous run
listed (kept with its lease); at the end of the bucket it starts again from the top. The grace period keeps
it away from anything still being written or confirmed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import select

from storywink.db.engine import Database
from storywink.db.tables import Asset, Book
from storywink.maintenance import leases
from storywink.maintenance.leases import Lease
from storywink.storage.media import MediaStore, StoredObject

PREFIX = "books/"
PAGE = 1000  # the most one ListObjectsV2 returns


@dataclass(frozen=True)
class Placed:
    """Where an object under books/ belongs: its book, what it is (photos, uploads, ...) and its asset, if any."""

    obj: StoredObject
    book_id: UUID
    kind: str
    asset_id: UUID | None


def placed(obj: StoredObject) -> Placed | None:
    parts = obj.key.split("/")
    if len(parts) < 3 or parts[0] != "books":
        return None
    book_id = _uuid(parts[1])
    if book_id is None:
        return None  # not a key this service writes: left alone
    asset_id = _uuid(parts[3].split(".")[0]) if len(parts) == 4 and parts[2] in ("photos", "thumbnails") else None
    return Placed(obj, book_id, parts[2], asset_id)


def _uuid(value: str) -> UUID | None:
    try:
        return UUID(value)
    except ValueError:
        return None


class MediaSweep:
    def __init__(self, database: Database, media: MediaStore, *, grace: timedelta, objects_per_run: int) -> None:
        self.database = database
        self.media = media
        self.grace = grace
        self.objects_per_run = objects_per_run

    def run(self, lease: Lease, now: datetime, in_time: Callable[[], bool]) -> dict[str, int]:
        position, listed, deleted = lease.position, 0, 0
        while listed < self.objects_per_run and in_time():
            page, more = self.media.list_page(PREFIX, position, min(PAGE, self.objects_per_run - listed))
            listed += len(page)
            doomed = self._unneeded(page, now - self.grace)
            self.media.delete(doomed)
            deleted += len(doomed)
            position = page[-1].key if more and page else ""
            with self.database.unit_of_work() as session:
                if not leases.advance(session, lease, position):
                    break  # the lease ran out and another run took over
            if not more:
                break
        return {"listed": listed, "deleted": deleted}

    def _unneeded(self, page: list[StoredObject], older_than: datetime) -> list[str]:
        old = [p for p in map(placed, page) if p is not None and p.obj.last_modified < older_than]
        if not old:
            return []
        with self.database.unit_of_work() as session:
            books = set(session.execute(select(Book.id).where(Book.id.in_({p.book_id for p in old}))).scalars())
            asset_ids = {p.asset_id for p in old if p.asset_id is not None and p.book_id in books}
            assets = set(session.execute(select(Asset.id).where(Asset.id.in_(asset_ids))).scalars()) if asset_ids else set()
        return [
            p.obj.key
            for p in old
            if p.book_id not in books
            or p.kind == "uploads"
            or (p.asset_id is not None and p.asset_id not in assets)
        ]
