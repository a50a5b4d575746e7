"""Read-your-writes with a reader: a token on every write's response, sent back on the next reads.

Reads that may lag a moment (the library, a book, its status) go to the database's reader. A parent
who has just changed something must not read the old state back, so every successful write
(POST, PUT, PATCH, DELETE) answers `Storywink-Consistency: <milliseconds since the epoch>`, the
server's time when it committed, and a read that sends a token younger than READ_YOUR_WRITES_SECONDS
goes to the primary. The window is far above a reader's usual lag (Aurora's replicas trail by tens of
milliseconds; the ReplicaLag alarm watches it), so after a change the client's next read is never
stale. A token that is not a number reads the primary too: the cautious side.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header
from sqlalchemy.orm import Session

from storywink.api.deps import DatabaseDep, SessionDep, SettingsDep

HEADER = "Storywink-Consistency"
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def token_now() -> str:
    return str(int(time.time() * 1000))


def reads_primary(token: str | None, window_seconds: float, now: float | None = None) -> bool:
    if token is None:
        return False
    try:
        written_ms = int(token)
    except ValueError:
        return True
    now_ms = (time.time() if now is None else now) * 1000
    return now_ms - written_ms < window_seconds * 1000


ConsistencyToken = Annotated[
    str | None,
    Header(
        alias=HEADER,
        max_length=20,
        description="The Storywink-Consistency token of the caller's latest write: a read within "
        "READ_YOUR_WRITES_SECONDS of it goes to the primary database, so it sees that write",
    ),
]


def get_read_session(
    database: DatabaseDep, settings: SettingsDep, session: SessionDep, token: ConsistencyToken = None
) -> Iterator[Session]:
    """The reader's session; the request's own unit of work (``session``, which has already read the
    caller and charged the read) when there is no reader or the caller has just written, rather than a
    second session of the same engine."""
    if not database.has_reader or reads_primary(token, settings.read_your_writes_seconds):
        yield session
    else:
        with database.read_only() as read:
            yield read


ReadSessionDep = Annotated[Session, Depends(get_read_session, scope="function")]
