"""The sample events in events/ (one for every function; also `sam local invoke --event` input), made to
name real things: a book's ids, a task token of one's own, a user's bearer token; and the statuses a
step's sample expects its book in. The tests and the cold-start bench invoke the functions with these.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy.orm import Session

from storywink.domain.enums import BookStatus, ModerationStatus
from storywink.local.template import repo_root
from storywink.services.status import BookStatusService, StatusUpdate

EVENTS = repo_root() / "events"


def load_sample(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


def http_sample(name: str, token: str | None = None) -> dict[str, Any]:
    """An API Gateway sample, with ``token`` as its bearer token."""
    event = load_sample(name)
    if token:
        event["headers"]["authorization"] = f"Bearer {token}"
    return event


def set_body(record: dict[str, Any], body: str) -> None:
    record["body"] = body
    record["md5OfBody"] = hashlib.md5(body.encode()).hexdigest()


def sqs_sample(name: str, book_id: str, page_ids: Sequence[str] = ()) -> dict[str, Any]:
    """A step queue's sample with the real book's ids in place of the example ones (pages matched in order)."""
    event = load_sample(name)
    record = event["Records"][0]
    body = json.loads(record["body"])
    examples = [body["pageId"]] if "pageId" in body else [result["pageId"] for result in body.get("results", [])]
    ids = {body["bookId"]: book_id, **dict(zip(examples, page_ids, strict=False))}
    text = record["body"]
    for example, real in ids.items():
        text = text.replace(example, real)
    set_body(record, text)
    return event


def with_task_token(event: dict[str, Any], token: str) -> dict[str, Any]:
    """The message as another attempt's (or another execution's) would be: the same task, its own token."""
    record = event["Records"][0]
    body = json.loads(record["body"])
    body["taskToken"] = token
    set_body(record, json.dumps(body))
    return event


def fifo_sample(name: str, book_id: str, seq: int) -> dict[str, Any]:
    """The push fan-out's sample for the book's events up to ``seq``."""
    event = load_sample(name)
    record = event["Records"][0]
    set_body(record, json.dumps({"bookId": book_id, "seq": seq}))
    record["attributes"]["MessageGroupId"] = book_id
    return event


def advance(session: Session, book_id: str, *updates: StatusUpdate) -> None:
    """Move the book through legal statuses, as the steps before the sample's would have, and commit."""
    service = BookStatusService(session)
    for update in updates:
        service.update_status(UUID(book_id), update)
    session.commit()


def generating() -> StatusUpdate:
    return StatusUpdate("generation.started", book_status=BookStatus.GENERATING)


def illustrating() -> StatusUpdate:
    return StatusUpdate("story.completed", book_status=BookStatus.ILLUSTRATING)


def page_ok(page_id: str) -> StatusUpdate:
    return StatusUpdate("page.illustrated", page_id=UUID(page_id), page_status=ModerationStatus.OK)
