"""The account deletion job: everything of one user goes, in bounded steps that each survive a crash.

One message (`{"userId"}`) does at most `books_per_message` books and then hands the rest to a fresh
message, so no invocation grows with the account. Each step is idempotent and recorded before the next,
so a crash (or a Lambda timeout) anywhere is resumed by the record's redelivery from where it was:

1. the user in the directory (AdminDeleteUser), when the user asked (the sweep's users are gone already);
2. book by book: a running generation's execution is stopped, every object under `books/{id}/` is
   deleted (a listed page of at most 1000 keys at a time), then the book's rows (pages, assets, job
   runs, events, stream leases go with it); its id is kept for the last pass;
3. the user's exports under `exports/{userId}/`;
4. the last pass, once `settle_seconds` have passed since the last of those (a step worker, an export
   builder or a presigned upload that was under way may still have written an object meanwhile): the
   kept prefixes once more, the WebSocket connections and subscriptions (closed through the management
   API), then the users row (usage counters, idempotency records, stream leases and exports with it),
   under its lock and only when no book is left; the deletion record becomes the tombstone.

A book whose pipeline is still running when it goes is found gone by the workers, which then drop their
task quietly (storywink.pipeline.runner).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError
from sqlalchemy import delete, exists, func, select
from sqlalchemy.orm import Session

from storywink.db.engine import Database
from storywink.db.tables import AccountDeletion, Book, Export, User
from storywink.domain.enums import DeletionReason
from storywink.domain.rules import RUNNING_STATUSES
from storywink.observability import logger, metrics
from storywink.privacy.directory import UserDirectory
from storywink.privacy.jobs import DeletionMessage, JobQueue
from storywink.realtime.connections import ConnectionStore
from storywink.realtime.gateway import ConnectionGateway
from storywink.services import accounts
from storywink.storage import keys
from storywink.storage.media import MediaStore

# An execution that has ended (or never started) cannot be stopped, which is what was wanted.
EXECUTION_ALREADY_OVER = {"ExecutionDoesNotExist", "ExecutionNotRunning", "ValidationException"}


@dataclass(frozen=True)
class Progress:
    finished: bool
    books_deleted: int = 0
    # Unfinished: the next message is sent with this delay (the settling time left, else 0).
    next_in_seconds: int = 0


class AccountDeleter:
    def __init__(
        self,
        database: Database,
        media: MediaStore,
        stepfunctions: Any,
        queue: JobQueue,
        *,
        directory: UserDirectory | None,
        connections: ConnectionStore | None,
        gateway: ConnectionGateway | None,
        books_per_message: int,
        settle_seconds: int,
    ) -> None:
        self.database = database
        self.media = media
        self.stepfunctions = stepfunctions
        self.queue = queue
        self.directory = directory
        self.connections = connections
        self.gateway = gateway
        self.books_per_message = books_per_message
        self.settle_seconds = settle_seconds

    def run(self, user_id: str) -> Progress:
        """One message's worth of the job; when it is not done, the next message is sent before returning."""
        progress = self.step(user_id)
        if not progress.finished:
            self.queue.send(DeletionMessage(user_id=user_id), delay_seconds=progress.next_in_seconds)
            with self.database.unit_of_work() as session:
                accounts.mark_enqueued(session, user_id)
        return progress

    def step(self, user_id: str) -> Progress:
        with self.database.unit_of_work() as session:
            deletion = session.get(AccountDeletion, user_id)
            if deletion is None or deletion.finished_at is not None:
                return Progress(finished=True)
            directory_due = not deletion.directory_deleted
            ask_directory = deletion.reason == DeletionReason.REQUESTED
        if directory_due:
            self._delete_from_directory(user_id, ask_directory)

        deleted = 0
        while deleted < self.books_per_message:
            if not self._delete_next_book(user_id):
                break
            deleted += 1
        if deleted == self.books_per_message:
            return Progress(finished=False, books_deleted=deleted)

        self._delete_exports(user_id)
        with self.database.unit_of_work() as session:
            deletion = session.get(AccountDeletion, user_id)
            if deletion is None or deletion.finished_at is not None:
                return Progress(finished=True, books_deleted=deleted)
            settle_after, book_ids = deletion.settle_after, list(deletion.book_ids)
            waiting = (settle_after - session.execute(select(func.now())).scalar_one()).total_seconds() if settle_after else 0
        if waiting > 0:
            return Progress(finished=False, books_deleted=deleted, next_in_seconds=int(waiting) + 1)
        finished = self._last_pass(user_id, book_ids)
        return Progress(finished=finished, books_deleted=deleted)

    # ------------------------------------------------------------------ the steps
    def _delete_from_directory(self, user_id: str, ask_directory: bool) -> None:
        if ask_directory and self.directory is not None:
            removed = self.directory.delete(user_id)
            logger.info("account removed from the user directory", extra={"action": "account.directory", "removed": removed})
        with self.database.unit_of_work() as session:
            deletion = session.get(AccountDeletion, user_id)
            if deletion is not None:
                deletion.directory_deleted = True

    def _delete_next_book(self, user_id: str) -> bool:
        with self.database.unit_of_work() as session:
            found = session.execute(
                select(Book.id, Book.status, Book.execution_arn).where(Book.owner_id == user_id).order_by(Book.id).limit(1)
            ).one_or_none()
        if found is None:
            return False
        book_id, status, execution_arn = found
        if status in RUNNING_STATUSES and execution_arn:
            self._stop(execution_arn)
        # Its id is kept before anything goes, so the last pass covers this book even after a crash below.
        with self.database.unit_of_work() as session:
            self._keep_book_id(session, user_id, str(book_id))
        objects = self.media.delete_prefix(keys.book_prefix(book_id))
        with self.database.unit_of_work() as session:
            session.execute(delete(Book).where(Book.id == book_id, Book.owner_id == user_id))
            self._settle_from_now(session, user_id)
        metrics.add_metric(name="AccountBooksDeleted", unit="Count", value=1)
        logger.info("book deleted with its account", extra={"action": "account.book", "bookId": str(book_id), "objects": objects})
        return True

    def _delete_exports(self, user_id: str) -> None:
        with self.database.unit_of_work() as session:
            any_export = session.execute(select(exists().where(Export.user_id == user_id))).scalar_one()
        objects = self.media.delete_prefix(keys.export_prefix(user_id))
        if objects or any_export:
            with self.database.unit_of_work() as session:
                session.execute(delete(Export).where(Export.user_id == user_id))
                self._settle_from_now(session, user_id)

    def _last_pass(self, user_id: str, book_ids: list[str]) -> bool:
        for book_id in book_ids:
            self.media.delete_prefix(keys.book_prefix(book_id))
        self.media.delete_prefix(keys.export_prefix(user_id))
        if self.connections is not None:
            for connection_id in self.connections.forget_user(user_id):
                if self.gateway is not None:
                    self.gateway.close(connection_id)
        with self.database.unit_of_work() as session:
            # The row's lock keeps a book from being added meanwhile (its foreign key needs the row).
            session.execute(select(User.id).where(User.id == user_id).with_for_update())
            if session.execute(select(exists().where(Book.owner_id == user_id))).scalar_one():
                return False  # a request under way when the deletion began made one: the next message takes it
            session.execute(delete(User).where(User.id == user_id))
            deletion = session.get(AccountDeletion, user_id)
            if deletion is not None:
                deletion.finished_at = datetime.now(UTC)
                deletion.book_ids = []
        metrics.add_metric(name="AccountsDeleted", unit="Count", value=1)
        logger.info("account deleted", extra={"action": "account.deleted", "books": len(book_ids)})
        return True

    # ------------------------------------------------------------------ helpers
    def _stop(self, execution_arn: str) -> None:
        try:
            self.stepfunctions.stop_execution(
                executionArn=execution_arn, error="Account.Deleted", cause="The account was deleted."
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in EXECUTION_ALREADY_OVER:
                raise

    def _keep_book_id(self, session: Session, user_id: str, book_id: str) -> None:
        deletion = session.get(AccountDeletion, user_id, with_for_update=True)
        if deletion is not None and book_id not in deletion.book_ids:
            deletion.book_ids = [*deletion.book_ids, book_id]

    def _settle_from_now(self, session: Session, user_id: str) -> None:
        deletion = session.get(AccountDeletion, user_id, with_for_update=True)
        if deletion is not None:
            deletion.settle_after = func.now() + timedelta(seconds=self.settle_seconds)
