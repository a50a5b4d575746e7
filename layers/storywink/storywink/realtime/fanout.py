"""Handing pushes to the fan-out, off the critical path.

A function that changes a status does one quick `SendMessage` to the FIFO fan-out queue after its
transaction commits, grouped by book: SQS hands one book's messages to the fan-out function one at a
time, in order, while different books fan out in parallel. The message only names the book and the
newest sequence number; the fan-out sends every subscriber everything after its own `lastSeq`, so a
message that could not be sent (logged and counted, never raised) is made up for by the book's next one.

A new subscription's catch-up goes the same way (a message naming the connection), so everything sent
to a book's subscribers is sent one push at a time, in order.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, ConfigDict, Field, Json

from storywink.db.tables import BookEvent
from storywink.domain.progress import BookProgress
from storywink.observability import logger, metrics
from storywink.sqs_record import SqsRecord

# On a worker's path between its commit and SendTaskSuccess: give up quickly.
ENQUEUE_CLIENT_CONFIG = Config(connect_timeout=1, read_timeout=2, retries={"mode": "standard", "max_attempts": 2})


class FanoutRequest(BaseModel):
    """The body of a fan-out message: this book has events up to ``seq``; with ``connection_id``, that new
    subscription (from ``seq``) is to be caught up."""

    model_config = ConfigDict(populate_by_name=True)

    book_id: UUID = Field(alias="bookId")
    seq: int = Field(ge=0)
    connection_id: str | None = Field(None, alias="connectionId")


class FanoutRecord(SqsRecord):
    body: Json[FanoutRequest]


class FanoutEnqueuer:
    """A status publisher (see storywink.services.events): one fan-out message per book and transaction."""

    def __init__(self, sqs: Any, queue_url: str) -> None:
        self.sqs = sqs
        self.queue_url = queue_url

    def __call__(self, book_event: BookEvent, progress: BookProgress) -> None:
        self._send(FanoutRequest(book_id=book_event.book_id, seq=book_event.seq))

    def catch_up(self, book_id: UUID, connection_id: str, last_seq: int) -> bool:
        """Ask for a new subscription's catch-up in its book's turn; False if that could not be asked."""
        return self._send(FanoutRequest(book_id=book_id, seq=last_seq, connection_id=connection_id))

    def _send(self, request: FanoutRequest) -> bool:
        book_id = str(request.book_id)
        # A retried send within SQS's five-minute window is kept once.
        deduplication = f"{book_id}-{request.seq}" + (f"-{request.connection_id}" if request.connection_id else "")
        try:
            self.sqs.send_message(
                QueueUrl=self.queue_url,
                MessageBody=request.model_dump_json(by_alias=True, exclude_none=True),
                MessageGroupId=book_id,
                MessageDeduplicationId=deduplication,
            )
            return True
        except (BotoCoreError, ClientError):
            logger.exception("could not hand a push to the fan-out queue", extra={"bookId": book_id})
            metrics.add_metric(name="PushFanoutEnqueueFailed", unit="Count", value=1)
            return False
