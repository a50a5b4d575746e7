"""Push latency: from a status change being committed to its frame arriving at a WebSocket client.

    .venv/bin/python bench/push_latency.py --books 3 --pages 3

Each book gets a subscribed WebSocket client before generation starts; every event frame's receive
time is compared with two "committed" times for the same (book_id, seq):

- created_at of the book_events row, as the brief defines it. It is now() of the committing
  transaction, i.e. the transaction's START: for worker events that transaction also did the step's
  work (illustrating, rendering the PDF), so this overstates push latency by up to that work.
- a status publisher registered in this process (the workers run here), called right after COMMIT
  beside the hand-off to the push fan-out queue: the push path alone (enqueue, fan-out function, post).

The database, the workers and the client share this machine's clock.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from _common import FINAL, Parent, local_stack, print_table, query, spread
from sqlalchemy import select
from websockets.sync.client import ClientConnection, connect

from storywink.db.tables import BookEvent
from storywink.local.stack import LocalStack
from storywink.wiring import container

USER = "bench-parent"
POINTS = (50, 95, 99)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--books", type=int, default=3, help="books generated concurrently, a client each (default 3)")
    parser.add_argument("--pages", type=int, default=3, help="photos, so pages, per book (default 3)")
    parser.add_argument("--timeout", type=float, default=300, help="seconds to wait for the books (default 300)")
    return parser.parse_args()


@contextmanager
def subscribed(stack: LocalStack, book_id: str) -> Iterator[ClientConnection]:
    """A WebSocket client subscribed to one book, past its snapshot frame."""
    with connect(f"{stack.websocket_url}/?token={stack.mint_token(USER)}", open_timeout=10) as socket:
        socket.send(json.dumps({"action": "subscribe", "bookId": book_id}))
        first = json.loads(socket.recv(timeout=10))
        if first["type"] != "snapshot":
            raise SystemExit(f"subscribing to {book_id} answered {first}")
        yield socket


def listen(socket: ClientConnection, received: list[tuple[float, dict]], deadline: float) -> None:
    """Record (receive time, frame) until the book's final status arrives or the deadline passes."""
    while (left := deadline - time.monotonic()) > 0:
        try:
            frame = json.loads(socket.recv(timeout=left))
        except TimeoutError:
            return
        received.append((time.time(), frame))
        if frame.get("status") in FINAL:
            return


def row(label: str, pairs: list[tuple[float, float]]) -> list:
    """Count, then percentiles of (receive - created_at), then of (receive - commit hook)."""
    return [label, len(pairs), *spread([a for a, _ in pairs], 1, POINTS), *spread([c for _, c in pairs], 1, POINTS)]


def main() -> int:
    args = parse_args()
    committed: dict[tuple[str, int], float] = {}

    def on_commit(book_event: BookEvent, _progress: object) -> None:
        committed[(str(book_event.book_id), book_event.seq)] = time.time()

    with local_stack() as stack:
        parent = Parent(stack, USER)
        books = [parent.make_book(args.pages)["id"] for _ in range(args.books)]
        received: dict[str, list[tuple[float, dict]]] = {book_id: [] for book_id in books}
        with ExitStack() as opened:
            sockets = [opened.enter_context(subscribed(stack, book_id)) for book_id in books]
            publishers = container().publishers  # every function of the local stack shares this container
            publishers.insert(0, on_commit)  # before the hand-off to the fan-out queue
            opened.callback(publishers.remove, on_commit)
            deadline = time.monotonic() + args.timeout
            readers = [threading.Thread(target=listen, args=(s, received[b], deadline)) for s, b in zip(sockets, books)]
            for reader in readers:
                reader.start()
            print(f"generating {args.books} book(s) of {args.pages} page(s), a subscribed client each ...", flush=True)
            for book_id in books:
                parent.generate(book_id)
            for reader in readers:
                reader.join()
        events = query(
            stack, select(BookEvent.book_id, BookEvent.seq, BookEvent.created_at).where(BookEvent.book_id.in_(books))
        )

    created = {(str(book_id), seq): at.timestamp() for book_id, seq, at in events}
    by_type: dict[str, list[tuple[float, float]]] = defaultdict(list)
    unmatched = 0
    for book_id, frames in received.items():
        for at, frame in frames:
            key = (book_id, frame["seq"])
            if frame["type"] != "event" or key not in created or key not in committed:
                unmatched += 1
                continue
            by_type[frame["event"]].append(((at - created[key]) * 1000, (at - committed[key]) * 1000))
    everything = [pair for pairs in by_type.values() for pair in pairs]
    rows = [row("all events", everything)] + [row(kind, pairs) for kind, pairs in sorted(by_type.items())]
    print_table(
        "Push latency (ms): receive - created_at (transaction start)  |  receive - after-commit hook",
        ["frames", "count", "p50", "p95", "p99", "max", "| p50", "p95", "p99", "max"],
        rows,
    )
    print(
        "\ncreated_at is now() of the transaction that committed the event, i.e. when it STARTED, so the left\n"
        "half overestimates push latency (by the step's work for worker events: story, illustration, PDF).\n"
        "The right half starts right after COMMIT (an in-process status publisher), so it is the push path alone.\n"
        "Database, workers and client share this machine's clock."
        + (f"\n{unmatched} frame(s) had no matching event row or commit time." if unmatched else "")
    )
    finished = sum(1 for frames in received.values() if frames and frames[-1][1].get("status") in FINAL)
    print(f"books that reached a final status over the socket: {finished} of {args.books}")
    return 0 if finished == args.books else 1


if __name__ == "__main__":
    sys.exit(main())
