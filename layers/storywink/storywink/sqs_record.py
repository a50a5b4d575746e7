"""An SQS record as Lambda delivers it, typed: the base of every worker's and the fan-out's records.

Only the fields the batch loop reads (Powertools' parser models describe every event source, and
importing them costs each function a tenth of a second at cold start). A subclass types ``body``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class SqsRecord(BaseModel):
    messageId: str
    receiptHandle: str
    body: Any
    attributes: dict[str, Any] = {}
    messageAttributes: dict[str, Any] = {}
    eventSourceARN: str
    awsRegion: str
