"""The export job: a zip of everything the service holds about one user, streamed into S3.

The zip (`exports/{userId}/{exportId}.zip`, expired by the bucket's lifecycle rule) holds:

- `account.json`: the user's id, email, plan and when the account began;
- `books/{bookId}/book.json` for every book: its details, status, tokens, timestamps, each page (number,
  title-page flag, text, confirmed, illustration notes, moderation) with the names of its files in the
  zip, the book's status events and what each pipeline step did;
- `books/{bookId}/photos/…`, `books/{bookId}/illustrations/…` and `books/{bookId}/book.pdf`: the files.

What the zip needs from the database is read in one short transaction; then each object is copied from
S3 into the zip chunk by chunk, and the zip goes up as a multipart upload a part at a time, so memory
holds one part and one chunk however large the photos are, and no connection is held meanwhile. The
export is marked READY afterwards, in a transaction of its own. A redelivered message builds the same
key again; a READY export is left alone; an export whose account went meanwhile (its row with it) has
its object deleted.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from storywink.db.engine import Database
from storywink.db.tables import AccountDeletion, Book, BookEvent, Export, JobRun, Page, User
from storywink.domain.enums import ExportStatus
from storywink.observability import logger, metrics
from storywink.storage.media import MediaStore

ZIP_CONTENT_TYPE = "application/zip"


@dataclass(frozen=True)
class _File:
    name: str  # in the zip
    key: str  # in S3


@dataclass
class _Contents:
    documents: dict[str, Any] = field(default_factory=dict)  # zip name -> JSON document
    files: list[_File] = field(default_factory=list)


class ExportBuilder:
    def __init__(self, database: Database, media: MediaStore, *, part_bytes: int) -> None:
        self.database = database
        self.media = media
        self.part_bytes = part_bytes

    def build(self, export_id: UUID) -> bool:
        """Build the export; False when there is nothing to build (gone, already READY or FAILED)."""
        with self.database.unit_of_work() as session:
            export = session.get(Export, export_id, with_for_update=True)
            if export is None or export.status in (ExportStatus.READY, ExportStatus.FAILED):
                return False
            if session.get(AccountDeletion, export.user_id) is not None:
                export.status, export.error_code = ExportStatus.FAILED, "ACCOUNT_DELETED"
                return False
            export.status = ExportStatus.BUILDING
            export.attempts += 1
            export.started_at = datetime.now(UTC)
            key, user_id = export.s3_key, export.user_id
            contents = _read(session, user_id)
        size = self._write_zip(key, contents)
        with self.database.unit_of_work() as session:
            export = session.get(Export, export_id, with_for_update=True)
            if export is None:
                self.media.delete([key])  # the account was deleted while the zip was made
                return False
            export.status, export.size_bytes, export.ready_at = ExportStatus.READY, size, datetime.now(UTC)
        metrics.add_metric(name="ExportsReady", unit="Count", value=1)
        logger.info("export ready", extra={"action": "export.ready", "exportId": str(export_id), "bytes": size})
        return True

    def _write_zip(self, key: str, contents: _Contents) -> int:
        upload = self.media.upload_stream(key, ZIP_CONTENT_TYPE, self.part_bytes)
        with upload, zipfile.ZipFile(upload, "w") as archive:  # type: ignore[arg-type]
            for name, document in contents.documents.items():
                archive.writestr(name, json.dumps(document, indent=2, ensure_ascii=False, default=str), zipfile.ZIP_DEFLATED)
            for item in contents.files:
                chunks = self.media.chunks(item.key)
                if chunks is None:
                    continue  # recorded but not there (a page whose illustration was never stored)
                # Photos, illustrations and PDFs are compressed already: stored as they are.
                with archive.open(zipfile.ZipInfo(item.name, date_time=_now()), "w", force_zip64=True) as entry:
                    for chunk in chunks:
                        entry.write(chunk)
        return upload.size


def _now() -> tuple[int, int, int, int, int, int]:
    return datetime.now(UTC).timetuple()[:6]


def _extension(key: str) -> str:
    return key.rsplit(".", 1)[-1] if "." in key.rsplit("/", 1)[-1] else "bin"


def _read(session: Session, user_id: str) -> _Contents:
    contents = _Contents()
    user = session.get(User, user_id)
    contents.documents["account.json"] = {
        "id": user_id,
        "email": user.email if user else None,
        "plan": user.plan.value if user else None,
        "createdAt": user.created_at if user else None,
    }
    books = session.execute(
        select(Book).where(Book.owner_id == user_id).order_by(Book.created_at, Book.id).options(
            selectinload(Book.pages).selectinload(Page.asset)
        )
    ).scalars()
    for book in books:
        folder = f"books/{book.id}"
        pages = []
        for page in sorted(book.pages, key=lambda p: p.page_number):
            photo = f"{folder}/photos/{page.page_number:02d}-{page.asset_id}.{_extension(page.asset.s3_key)}"
            contents.files.append(_File(photo, page.asset.s3_key))
            illustration = None
            if page.illustration_key:
                illustration = f"{folder}/illustrations/{page.page_number:02d}-{page.id}.{_extension(page.illustration_key)}"
                contents.files.append(_File(illustration, page.illustration_key))
            pages.append({
                "id": str(page.id),
                "pageNumber": page.page_number,
                "isTitlePage": page.is_title_page,
                "text": page.text,
                "textConfirmed": page.text_confirmed,
                "illustrationNotes": page.illustration_notes,
                "moderationStatus": page.moderation_status.value,
                "moderationReason": page.moderation_reason,
                "photo": photo,
                "photoSize": {"width": page.asset.width, "height": page.asset.height, "bytes": page.asset.size_bytes},
                "illustration": illustration,
            })
        pdf = None
        if book.pdf_key:
            pdf = f"{folder}/book.pdf"
            contents.files.append(_File(pdf, book.pdf_key))
        events = session.execute(select(BookEvent).where(BookEvent.book_id == book.id).order_by(BookEvent.seq)).scalars()
        jobs = session.execute(select(JobRun).where(JobRun.book_id == book.id).order_by(JobRun.started_at)).scalars()
        contents.documents[f"{folder}/book.json"] = {
            "id": str(book.id),
            **book.details.model_dump(mode="json", by_alias=True),
            "autoIllustrate": book.auto_illustrate,
            "status": book.status.value,
            "statusReason": book.status_reason,
            "promptTokens": book.prompt_tokens,
            "completionTokens": book.completion_tokens,
            "createdAt": book.created_at,
            "updatedAt": book.updated_at,
            "pdf": pdf,
            "pages": pages,
            "events": [{"seq": e.seq, "type": e.type, "payload": e.payload, "createdAt": e.created_at} for e in events],
            "jobs": [
                {
                    "step": j.step.value,
                    "attempt": j.attempt,
                    "status": j.status.value,
                    "errorCode": j.error_code,
                    "startedAt": j.started_at,
                    "finishedAt": j.finished_at,
                    "durationMs": j.duration_ms,
                    "provider": j.provider,
                }
                for j in jobs
            ],
        }
    return contents
