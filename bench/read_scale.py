"""Reads on a large database: the library, a deep library page, a book, its status and a revalidation.

    .venv/bin/python bench/read_scale.py                   # 100,000 books across 10,000 users
    .venv/bin/python bench/read_scale.py --books 2000 --requests 100

Seeds the local stack's embedded PostgreSQL with COPY (bench/_read_seed.py: 12 pages a book with their
photo assets, the events and job runs each book's status implies, timestamps over six months, a few
heavy users of 1,050 books), then sends each read through the local stack's API over HTTP, one at a
time, as seeded users (tokens of the stack's issuer), and prints p50/p95/p99 per read:

    library        GET /v1/books, the first page (default size 20) of a heavy user
    deep           GET /v1/books?cursor=..., page 50 of a heavy user (books 981-1000, newest first): the
                   cursor is found by walking pages 1-49 once, then page 50 is asked for again and again
    book           GET /v1/books/{id}, a random book of the other users
    status         GET /v1/books/{id}/status, likewise
    notmodified    GET /v1/books/{id} again with If-None-Match: the ETag the first answer carried, so a
                   304 unless the body changed meanwhile (a media URL signed anew is a change); an answer
                   without an ETag is sent a value that matches nothing, and its 200 is what is measured
    library-other  the first page of one of the other users (a few books): shown, not in the last line

Then it captures the SQL each read runs (on the API's own engine), prints EXPLAIN (ANALYZE, BUFFERS) of
each with its parameters, and ends with the line

    read p95 ms: library A deep B book C status D notmodified E

It exits 1 when a plan scans books, pages, book_events or job_runs sequentially, or a read answers
anything but 200 (or 304 to an If-None-Match). The targets (every p95 <= 20 ms, B <= 1.5 x A)
are printed as met or not; they do not decide the exit code.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import random
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx
from _common import fmt, local_stack, percentile, print_table
from _plans import StatementRecorder, explain_all, print_plans
from _read_seed import seed
from sqlalchemy import create_engine, text

from storywink.local.stack import LocalStack

DEEP_PAGE = 50
TARGET_P95_MS = 20.0
TARGET_DEEP_RATIO = 1.5
ROUTES = ("library", "deep", "book", "status", "notmodified")


class _WithoutMetricLines(io.TextIOBase):
    """stdout without the API's metric lines: Powertools prints its metric set on every 100th metric even
    when metrics are disabled (there is no Lambda invocation here to flush it)."""

    def __init__(self, out) -> None:
        self.out = out
        self._dropped = False  # print() writes the line, then its newline

    def write(self, text: str) -> int:
        dropped, self._dropped = self._dropped, text.startswith('{"_aws"')
        if not self._dropped and not (dropped and text == "\n"):
            self.out.write(text)
        return len(text)

    def flush(self) -> None:
        self.out.flush()


@contextmanager
def without_metric_lines() -> Iterator[None]:
    out = sys.stdout
    sys.stdout = _WithoutMetricLines(out)
    try:
        yield
    finally:
        sys.stdout = out


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--books", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=None, help="default: books / 10")
    parser.add_argument("--requests", type=int, default=500, help="measured requests per read")
    parser.add_argument("--warmup", type=int, default=20, help="requests per read sent first and not counted")
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args(argv)


@dataclass
class Request:
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    expect: tuple[int, ...] = (200,)


class Reader:
    """Sends reads as seeded users and keeps each one's time (ms) by read."""

    def __init__(self, stack: LocalStack, http: httpx.Client, plans: dict[str, str]) -> None:
        self.stack, self.http, self.plans = stack, http, plans
        self.tokens: dict[str, str] = {}
        self.times: dict[str, list[float]] = {}
        self.unexpected: list[str] = []

    def auth(self, user: str) -> dict[str, str]:
        if user not in self.tokens:  # the same plan and email as the seeded row: the user upsert writes nothing
            self.tokens[user] = self.stack.mint_token(user, plan=self.plans[user], email=f"{user}@example.test")
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    def get(self, user: str, request: Request, read: str | None = None) -> httpx.Response:
        headers = {**self.auth(user), **request.headers}
        start = time.perf_counter()
        response = self.http.get(request.path, headers=headers)
        elapsed = (time.perf_counter() - start) * 1000
        if response.status_code not in request.expect:
            self.unexpected.append(f"{read or '-'} {request.path}: {response.status_code} {response.text[:200]}")
        elif read is not None:
            self.times.setdefault(read, []).append(elapsed)
        return response


def page_cursor(reader: Reader, user: str, page: int) -> str:
    """The cursor that asks for ``page`` of the user's library, found by walking the pages before it."""
    cursor = None
    for _ in range(page - 1):
        body = reader.get(user, Request("/v1/books" + (f"?cursor={cursor}" if cursor else ""))).json()
        cursor = body["nextCursor"]
        if cursor is None:
            raise SystemExit(f"{user}'s library has fewer than {page} pages")
    return cursor


def status_of(pair: tuple[str, str]) -> tuple[str, Request]:
    user, book_id = pair
    return user, Request(f"/v1/books/{book_id}/status")


def if_none_match(response: httpx.Response) -> tuple[dict[str, str], tuple[int, ...]]:
    etag = response.headers.get("ETag")
    if etag:  # 304 while the body is unchanged; a 200 once its media URLs were signed anew
        return {"If-None-Match": etag}, (304, 200)
    # No ETag yet: a value that matches nothing, so what is measured is the full answer.
    return {"If-None-Match": f'"{hashlib.sha256(response.content).hexdigest()}"'}, (200,)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    users = args.users or max(1, args.books // 10)
    rng = random.Random(args.seed)
    with without_metric_lines(), local_stack(event_sources=False) as stack:
        engine = create_engine(stack.database_url)
        print(f"seeding {args.books:,} books across {users:,} users with COPY ...", flush=True)
        started = time.monotonic()
        seeded = seed(engine, args.books, users, args.seed, progress=lambda message: print(message, flush=True))
        print(f"seeded in {time.monotonic() - started:.0f} s: " + ", ".join(f"{t} {n:,}" for t, n in seeded.counts.items()))
        others = [(user, book) for user, books in seeded.books_of.items() if user not in seeded.heavy_users for book in books]
        other_users = [user for user in seeded.books_of if user not in seeded.heavy_users]
        from storywink.wiring import container

        with httpx.Client(base_url=stack.api_url, timeout=30) as http:
            reader = Reader(stack, http, seeded.users)
            walk_started = time.perf_counter()
            deep = {user: page_cursor(reader, user, DEEP_PAGE) for user in seeded.heavy_users}
            walk_ms = (time.perf_counter() - walk_started) * 1000 / (len(deep) * (DEEP_PAGE - 1))
            print(f"walked to page {DEEP_PAGE} of {len(deep)} heavy user(s): {walk_ms:.1f} ms a page on the way")

            def heavy() -> str:
                return rng.choice(seeded.heavy_users)

            reads: dict[str, Callable[[], tuple[str, Request]]] = {
                "library": lambda: (heavy(), Request("/v1/books")),
                "deep": lambda: (user := heavy(), Request(f"/v1/books?cursor={deep[user]}")),
                "library-other": lambda: (rng.choice(other_users), Request("/v1/books")),
                "status": lambda: status_of(rng.choice(others)),
            }
            print(f"measuring {args.requests} requests per read (after {args.warmup} not counted) ...", flush=True)
            for read, make in reads.items():
                for index in range(args.warmup + args.requests):
                    user, request = make()
                    reader.get(user, request, read if index >= args.warmup else None)
            # A book, then the same books again with the validator their first answer gave.
            revisits: list[tuple[str, Request]] = []
            for index in range(args.warmup + args.requests):
                user, book_id = rng.choice(others)
                response = reader.get(user, Request(f"/v1/books/{book_id}"), "book" if index >= args.warmup else None)
                headers, expect = if_none_match(response)
                revisits.append((user, Request(f"/v1/books/{book_id}", headers, expect)))
            rng.shuffle(revisits)
            not_modified = 0
            for index, (user, request) in enumerate(revisits):
                response = reader.get(user, request, "notmodified" if index >= args.warmup else None)
                not_modified += index >= args.warmup and response.status_code == 304
            answered = f"304 to {not_modified} of {args.requests}"

            # The SQL behind each read, and for a book waiting in each line (its status adds the queue's).
            database = container().database
            recorder = StatementRecorder([database.engine, database.read_engine])
            samples: dict[str, tuple[str, Request]] = {
                "library": (seeded.heavy_users[0], Request("/v1/books")),
                "deep": (seeded.heavy_users[0], Request(f"/v1/books?cursor={deep[seeded.heavy_users[0]]}")),
                "book": (others[0][0], Request(f"/v1/books/{others[0][1]}")),
                "status": (others[0][0], Request(f"/v1/books/{others[0][1]}/status")),
            }
            with engine.connect() as connection:
                waiting = connection.execute(
                    text(
                        "SELECT DISTINCT ON (status) status, owner_id, id FROM books"
                        " WHERE queued_at IS NOT NULL AND owner_id NOT LIKE 'heavy-%' ORDER BY status, queued_at DESC"
                    )
                ).all()
            for status, owner, book_id in waiting:
                samples[f"status/waiting {status}"] = (owner, Request(f"/v1/books/{book_id}/status"))
            for name, (user, request) in samples.items():
                reader.auth(user)
                with recorder.recording(name):
                    reader.get(user, request)
        explained = explain_all(engine, list(recorder.statements.values()))
        engine.dispose()

    print_plans(explained)
    scans = [(item, relation) for item in explained for relation in item.sequential_scans()]
    for item, relation in scans:
        print(f"SEQUENTIAL SCAN of {relation} in [{', '.join(item.captured.routes)}]")
    for line in reader.unexpected[:20]:
        print(f"UNEXPECTED ANSWER {line}")

    times = reader.times
    rows = [
        [read, len(times.get(read, [])), *(fmt(percentile(times.get(read, []), p), 1) for p in (50, 95, 99)), fmt(max(times.get(read, [0.0])), 1)]
        for read in (*ROUTES, "library-other")
    ]
    print_table(f"Reads (ms, one at a time over HTTP; notmodified answered {answered})", ["read", "n", "p50", "p95", "p99", "max"], rows)
    p95 = {read: percentile(times.get(read, []), 95) for read in ROUTES}
    print()
    for read in ROUTES:
        print(f"target p95 <= {TARGET_P95_MS:.0f} ms for {read}: {'met' if p95[read] <= TARGET_P95_MS else 'NOT met'} ({p95[read]:.1f})")
    ratio = p95["deep"] / p95["library"]
    print(f"target deep <= {TARGET_DEEP_RATIO} x library: {'met' if ratio <= TARGET_DEEP_RATIO else 'NOT met'} ({ratio:.2f} x)")
    print(
        f"read p95 ms: library {p95['library']:.1f} deep {p95['deep']:.1f} book {p95['book']:.1f} "
        f"status {p95['status']:.1f} notmodified {p95['notmodified']:.1f}"
    )
    return 1 if scans or reader.unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
