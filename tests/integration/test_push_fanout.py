"""The push fan-out on the embedded database, with an in-memory subscription store and a scripted API
Gateway: parallel posts, a stuck client holding nobody up, stalls, 410s, and never a gap or a held connection."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import replace

import pytest

from storywink.domain.enums import BookStatus as S
from storywink.flags import FlagStore
from storywink.realtime.connections import Subscription
from storywink.realtime.gateway import ConnectionGone, PostTimedOut
from storywink.realtime.live import LiveProgress
from storywink.wiring import container

NEWEST_SEQ = 3  # the book_id fixture: GENERATING, ILLUSTRATING, COMPLETED


class MemoryStore:
    """ConnectionStore's fan-out side, in memory, with the same conditional writes."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], Subscription] = {}
        self.removed: list[str] = []
        self._lock = threading.Lock()

    def subscribe(self, connection_id: str, book_id: str, last_seq: int) -> None:
        self.rows[(connection_id, book_id)] = Subscription(connection_id, book_id, "alice", last_seq)

    def subscribers(self, book_id: str) -> list[Subscription]:
        return [s for (_, book), s in sorted(self.rows.items()) if book == book_id]

    def subscription(self, connection_id: str, book_id: str) -> Subscription | None:
        return self.rows.get((connection_id, book_id))

    def advance(self, connection_id: str, book_id: str, seq: int) -> bool:
        with self._lock:
            row = self.rows.get((connection_id, book_id))
            if row is None or row.last_seq >= seq:
                return False
            self.rows[(connection_id, book_id)] = replace(row, last_seq=seq, stalled_until=0)
            return True

    def stall(self, connection_id: str, book_id: str, until: int) -> bool:
        with self._lock:
            row = self.rows.get((connection_id, book_id))
            if row is not None:
                self.rows[(connection_id, book_id)] = replace(row, stalled_until=until)
            return row is not None

    def remove_connection(self, connection_id: str) -> None:
        self.removed.append(connection_id)
        self.rows = {key: row for key, row in self.rows.items() if key[0] != connection_id}


class ScriptedGateway:
    """Records each connection's frames; a connection may be stuck (until released), slow (times out) or gone."""

    def __init__(self) -> None:
        self.frames: dict[str, list[int]] = {}
        self.attempts: dict[str, int] = {}
        self.stuck: dict[str, threading.Event] = {}
        self.timing_out: set[str] = set()
        self.gone: set[str] = set()
        self.connections_checked_out: list[int] = []

    def post(self, connection_id: str, frame: dict) -> None:
        self.attempts[connection_id] = self.attempts.get(connection_id, 0) + 1
        self.connections_checked_out.append(container().database.checked_out())
        if connection_id in self.stuck:
            self.stuck[connection_id].wait(timeout=30)
        if connection_id in self.timing_out:
            raise PostTimedOut(connection_id)
        if connection_id in self.gone:
            raise ConnectionGone(connection_id)
        self.frames.setdefault(connection_id, []).append(frame["seq"])


@pytest.fixture
def book_id(session, book_with_photos, advance) -> str:
    book = book_with_photos(1)
    advance(session, book["id"], S.GENERATING, S.ILLUSTRATING, S.COMPLETED)
    return book["id"]


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def gateway() -> ScriptedGateway:
    return ScriptedGateway()


@pytest.fixture
def live(store, gateway) -> LiveProgress:
    return LiveProgress(store, gateway, container().database, FlagStore(None), None, stall_seconds=60, max_subscriptions=20)  # type: ignore[arg-type]


def test_every_subscriber_gets_the_events_after_its_last_seq_in_order(live, store, gateway, book_id):
    store.subscribe("new", book_id, 0)
    store.subscribe("halfway", book_id, 2)
    store.subscribe("current", book_id, NEWEST_SEQ)

    assert live.fan_out(uuid.UUID(book_id), NEWEST_SEQ) == NEWEST_SEQ + 1
    assert gateway.frames == {"new": [1, 2, 3], "halfway": [3]}
    assert {s.connection_id: s.last_seq for s in store.subscribers(book_id)} == dict.fromkeys(
        ["current", "halfway", "new"], NEWEST_SEQ
    )


def test_a_stuck_subscriber_holds_up_no_other_subscriber(live, store, gateway, book_id):
    store.subscribe("stuck", book_id, 0)
    store.subscribe("healthy", book_id, 0)
    gateway.stuck["stuck"] = threading.Event()
    fan_out = threading.Thread(target=live.fan_out, args=(uuid.UUID(book_id), NEWEST_SEQ))
    fan_out.start()
    deadline = time.monotonic() + 10
    while gateway.frames.get("healthy") != [1, 2, 3] and time.monotonic() < deadline:
        time.sleep(0.01)
    healthy_done = gateway.frames.get("healthy")
    still_stuck = fan_out.is_alive()
    gateway.stuck["stuck"].set()
    fan_out.join(timeout=10)

    assert healthy_done == [1, 2, 3] and still_stuck  # everything went out while the other post hung
    assert gateway.frames["stuck"] == [1, 2, 3]  # and the stuck one, in order, once it moved again


def test_a_timed_out_post_stalls_the_subscriber_and_keeps_its_place(live, store, gateway, book_id):
    store.subscribe("slow", book_id, 1)
    gateway.timing_out.add("slow")

    live.fan_out(uuid.UUID(book_id), NEWEST_SEQ)
    live.fan_out(uuid.UUID(book_id), NEWEST_SEQ)  # the book's next event: the stalled subscriber is skipped

    slow = store.subscription("slow", book_id)
    assert gateway.attempts == {"slow": 1}
    assert slow.last_seq == 1 and slow.stalled(time.time())
    gateway.timing_out.clear()
    store.rows[("slow", book_id)] = replace(slow, stalled_until=int(time.time()) - 1)  # the stall is over
    live.fan_out(uuid.UUID(book_id), NEWEST_SEQ)
    assert gateway.frames == {"slow": [2, 3]}


def test_a_gone_connection_is_removed_and_the_others_carry_on(live, store, gateway, book_id):
    store.subscribe("gone", book_id, 0)
    store.subscribe("here", book_id, 0)
    gateway.gone.add("gone")

    live.fan_out(uuid.UUID(book_id), NEWEST_SEQ)

    assert store.removed == ["gone"] and gateway.frames == {"here": [1, 2, 3]}


def test_events_that_would_leave_a_gap_are_not_sent(live, store, gateway, book_id):
    # The index said 2 when the fan-out read the events; the subscriber resubscribed from 0 meanwhile.
    store.subscribe("resubscribed", book_id, 2)
    listed = store.subscribers(book_id)
    store.subscribe("resubscribed", book_id, 0)
    store.subscribers = lambda _book_id: listed  # type: ignore[method-assign]

    live.fan_out(uuid.UUID(book_id), NEWEST_SEQ)

    assert gateway.frames == {}  # its own catch-up sends 1, 2, 3
    assert live.catch_up(uuid.UUID(book_id), "resubscribed") == NEWEST_SEQ
    assert gateway.frames == {"resubscribed": [1, 2, 3]}


def test_no_database_connection_is_held_while_posting(live, store, gateway, book_id):
    store.subscribe("a", book_id, 0)
    store.subscribe("b", book_id, 0)

    live.fan_out(uuid.UUID(book_id), NEWEST_SEQ)

    assert gateway.connections_checked_out and set(gateway.connections_checked_out) == {0}
