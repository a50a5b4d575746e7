"""Stuck books: a book marked running (GENERATING, ILLUSTRATING) whose execution has ended — stopped by an
operator, an error the state machine's catch-all cannot catch, a start whose launch never happened — is
recorded FAILED, as a start would find and repair it (Generation.ended_execution, repair_ended), but within
minutes rather than when its owner next presses generate.

Each run checks a bounded number of running books, in id order, resuming after the last one the previous
run checked. DescribeExecution is asked with no transaction open; the repair then locks the book (skipping
it if another transaction holds it) and goes ahead only if nothing has happened to it since it was read.
"""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from sqlalchemy import select

from storywink.db.engine import Database
from storywink.db.tables import Book
from storywink.domain import rules
from storywink.maintenance import leases
from storywink.maintenance.leases import Lease
from storywink.observability import metrics
from storywink.services.generation import Generation, repair_ended


class StuckBooks:
    def __init__(self, database: Database, generation: Generation, *, books_per_run: int) -> None:
        self.database = database
        self.generation = generation
        self.books_per_run = books_per_run

    def run(self, lease: Lease, in_time: Callable[[], bool]) -> dict[str, int]:
        with self.database.unit_of_work() as session:
            query = select(Book.id, Book.execution_arn, Book.updated_at, Book.last_event_seq).where(
                Book.status.in_(rules.RUNNING_STATUSES), Book.execution_arn.is_not(None)
            )
            if lease.position:
                query = query.where(Book.id > UUID(lease.position))
            running = session.execute(query.order_by(Book.id).limit(self.books_per_run)).all()
        checked = repaired = 0
        for book_id, arn, updated_at, seq in running:
            if not in_time():
                break
            checked += 1
            ended = self.generation.ended_execution(arn, updated_at)
            if ended is not None and self._repair(book_id, arn, seq, ended):
                repaired += 1
        finished_list = checked == len(running) and len(running) < self.books_per_run
        position = "" if finished_list or not checked else str(running[checked - 1][0])
        with self.database.unit_of_work() as session:
            leases.advance(session, lease, position)
        metrics.add_metric(name="StuckBooksRepaired", unit="Count", value=repaired)
        return {"checked": checked, "repaired": repaired}

    def _repair(self, book_id: UUID, arn: str, seq: int, ended: str) -> bool:
        with self.database.unit_of_work() as session:
            book = session.execute(
                select(Book)
                .where(
                    Book.id == book_id,
                    Book.execution_arn == arn,
                    Book.last_event_seq == seq,  # nothing has happened to it since it was read
                    Book.status.in_(rules.RUNNING_STATUSES),
                )
                .with_for_update(skip_locked=True)
            ).scalar_one_or_none()
            if book is None:
                return False
            repair_ended(session, book, ended)
        return True
