"""A WebSocket client that follows one book's live progress for as long as it takes.

It subscribes, pings every `ping_seconds` (API Gateway closes a connection idle for 10 minutes, and
every connection after 2 hours), and when the connection drops it reconnects with exponential backoff
and full jitter and resubscribes with the last `seq` it has, so the server sends exactly what it
missed. Frames whose `seq` it has already seen are dropped (the protocol allows repeats).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Generator, Iterator
from typing import Any

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.sync.client import ClientConnection, connect

PING_SECONDS = 300.0
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_MAX_SECONDS = 30.0


class LiveProgressRefused(Exception):
    """The server answered the subscription with an error frame (the book is not the caller's)."""


def backoff_delay(attempt: int, base: float = BACKOFF_BASE_SECONDS, cap: float = BACKOFF_MAX_SECONDS) -> float:
    """Full jitter: a random wait up to base * 2^(attempt - 1), capped."""
    return random.uniform(0, min(cap, base * 2 ** (attempt - 1)))


class LiveFollower:
    def __init__(
        self,
        websocket_url: str,
        token: str,
        book_id: str,
        *,
        ping_seconds: float = PING_SECONDS,
        backoff: Callable[[int], float] = backoff_delay,
    ) -> None:
        self.url = f"{websocket_url}/?token={token}"
        self.book_id = book_id
        self.ping_seconds = ping_seconds
        self.backoff = backoff
        self.last_seq: int | None = None  # None until a snapshot or an event says where the book is
        self.connections = 0  # how many times it connected (1 + reconnects)
        self._quiet_until = 0.0

    def frames(self, timeout: float) -> Generator[dict[str, Any], None, None]:
        """The snapshot (first time only), then each event once, in order; reconnects as needed.
        Raises TimeoutError when nothing new arrives for ``timeout`` seconds, connected or not."""
        self._quiet_until = time.monotonic() + timeout
        failures = 0
        while True:
            try:
                with connect(self.url, open_timeout=10) as socket:
                    self.connections += 1
                    socket.send(json.dumps(self._subscription()))
                    for frame in self._receive(socket):
                        failures = 0
                        self._quiet_until = time.monotonic() + timeout
                        yield frame
            except InvalidStatus:
                raise  # the token was refused: reconnecting will not help
            except _Quiet:
                break
            except (ConnectionClosed, InvalidHandshake, OSError):
                failures += 1
                delay = self.backoff(failures)
                if time.monotonic() + delay >= self._quiet_until:
                    break
                time.sleep(delay)
        raise TimeoutError(f"no progress for book {self.book_id} in {timeout:g} s")

    def _subscription(self) -> dict[str, Any]:
        message: dict[str, Any] = {"action": "subscribe", "bookId": self.book_id}
        if self.last_seq is not None:
            message["lastSeq"] = self.last_seq
        return message

    def _receive(self, socket: ClientConnection) -> Iterator[dict[str, Any]]:
        next_ping = time.monotonic() + self.ping_seconds
        while True:
            now = time.monotonic()
            if now >= self._quiet_until:
                raise _Quiet
            if now >= next_ping:
                socket.send(json.dumps({"action": "ping"}))
                next_ping = now + self.ping_seconds
            try:
                frame = json.loads(socket.recv(timeout=max(0.01, min(next_ping, self._quiet_until) - now)))
            except TimeoutError:
                continue
            kind = frame.get("type")
            if kind == "error":
                raise LiveProgressRefused(f"{frame.get('code')}: {frame.get('message')}")
            if kind not in {"snapshot", "event"}:
                continue  # a pong
            if self.last_seq is not None and frame["seq"] <= self.last_seq:
                continue  # a repeat, or a snapshot older than what this client has
            self.last_seq = frame["seq"]
            yield frame


class _Quiet(Exception):
    """Nothing new for the follower's whole timeout."""
