"""Scale on the cloud's own semantics: N books of P pages on the local stack's faithful mode.

    .venv/bin/python bench/scale.py                      # 200 books x 12 pages, all at once
    .venv/bin/python bench/scale.py --books 20 --pages 4 --time-scale 0.01
    .venv/bin/python bench/scale.py --arrival poisson --rate 30 --crash-rate 0.05 --premium-share 0.2

Faithful mode (storywink.local.faithful) runs each function with the template's concurrency, one
container and connection pool per worker, every timeout of the template times --time-scale, and
latency-only providers (story 10-30 s, illustration 5-25 s, times the scale), so what is measured is
the orchestration. --crash-rate kills that share of illustration workers right after their upload (the
container dies without a word, as after a Lambda timeout). Every time below is simulated seconds (real
seconds / time scale). It ends with these lines, which other tooling parses:

    books: N completed C partial P failed F lost-or-hung L
    timeout retries: T
    duplicate effects: D
    peak db connections: X (bound Y)
    time to final (simulated s): p50 A p95 B ideal I
    cost per book (USD, excl. AI): Z (transitions K, SQS requests M, Lambda GB-s G)

and exits 1 unless L = 0, T = 0, D = 0 and X <= Y.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import random
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import boto3
import httpx
from _common import FINAL, NO_LIMITS, percentile
from _costs import Usage, cost_per_book
from _ideal import IdealBook, ideal_finish_times
from PIL import Image
from sqlalchemy import create_engine, func, select, text

from storywink.config import load_settings
from storywink.db.tables import BookEvent, JobRun
from storywink.domain.enums import JobStatus, JobStep
from storywink.local.connection_bound import connection_bound
from storywink.local.stack import LocalStack, StackOptions
from storywink.local.template import repo_root
from storywink.providers.simulated import illustration_latency, story_latency

SETUP_THREADS = 8
SAMPLE_SECONDS = 0.1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--books", type=int, default=200)
    parser.add_argument("--pages", type=int, default=12)
    parser.add_argument("--arrival", choices=["burst", "poisson"], default="burst")
    parser.add_argument("--rate", type=float, default=60.0, help="poisson: books started per simulated minute")
    parser.add_argument("--crash-rate", type=float, default=0.0, help="share of illustration workers killed mid-task")
    parser.add_argument("--premium-share", type=float, default=0.0, help="share of books whose parent is premium")
    # 0.25: at 200 x 12 this machine's two cores stay below saturation (the figures measure the design, not
    # a starved interpreter); smaller scales run faster and are fine for checks, not for the ratio to ideal.
    parser.add_argument("--time-scale", type=float, default=0.25, help="real seconds per simulated second")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--deadline", type=float, default=None, help="simulated seconds to wait (default: 4 x ideal + 1 h)")
    return parser.parse_args(argv)


@dataclass
class Started:
    book_id: str
    premium: bool
    at: float  # monotonic seconds


class SqsRequestCounter:
    """Counts every SQS call made through boto3 in this process (workers, pollers, the fan-out)."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()
        boto3.setup_default_session()
        boto3.DEFAULT_SESSION.events.register("before-call.sqs", self._count)  # type: ignore[union-attr]

    def _count(self, **_: object) -> None:
        with self._lock:
            self.count += 1


class ConnectionSampler:
    """The most connections the stack's database had open at once (sampled; this sampler's own excluded)."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url, pool_size=1, max_overflow=0)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.engine.dispose()

    def _run(self) -> None:
        with self.engine.connect() as connection:
            while not self._stop.wait(SAMPLE_SECONDS):
                count = connection.execute(
                    text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
                ).scalar_one()
                connection.commit()
                self.peak = max(self.peak, int(count))


def tiny_photo(index: int) -> bytes:
    image = Image.new("RGB", (96, 72), ((index * 37) % 256, (index * 91) % 256, (index * 53) % 256))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def make_book(api_url: str, token: str, pages: int, index: int) -> str:
    """A draft with ``pages`` small photos (the bench measures orchestration, not photo processing)."""
    # No keep-alive: the uploads between two calls can outlast the server's idle timeout, and a request
    # sent on a connection the server is closing at that moment is reset.
    no_keepalive = httpx.Limits(max_keepalive_connections=0)
    with httpx.Client(base_url=api_url, headers={"Authorization": f"Bearer {token}"}, timeout=120, limits=no_keepalive) as http:
        book = http.post("/v1/books", json={"title": f"Scale {index}", "childName": "Mia", "autoIllustrate": True})
        book.raise_for_status()
        book_id = book.json()["id"]
        photos = [tiny_photo(index * 100 + n) for n in range(pages)]
        tickets = http.post(
            f"/v1/books/{book_id}/photos", json={"photos": [{"contentType": "image/jpeg", "size": len(p)} for p in photos]}
        )
        tickets.raise_for_status()
        uploads = tickets.json()["uploads"]
        for ticket, photo in zip(uploads, photos, strict=True):
            httpx.put(ticket["url"], content=photo, headers=ticket["headers"], timeout=60).raise_for_status()
        http.post(f"/v1/books/{book_id}/photos/confirm", json={"uploadIds": [u["uploadId"] for u in uploads]}).raise_for_status()
        return book_id


def start_books(stack: LocalStack, args: argparse.Namespace, owners: list[tuple[str, bool]]) -> tuple[list[Started], Usage]:
    usage = Usage()
    tokens = {user: stack.mint_token(user, plan="premium" if premium else "free") for user, premium in owners}
    with ThreadPoolExecutor(SETUP_THREADS) as pool:
        book_ids = list(pool.map(lambda item: make_book(stack.api_url, tokens[item[1][0]], args.pages, item[0]), enumerate(owners)))
    usage.api_requests += len(book_ids) * 4
    print(f"{len(book_ids)} books of {args.pages} photos ready; starting them ({args.arrival}) ...", flush=True)
    rng = random.Random(args.seed)
    started: list[Started] = []
    lock = threading.Lock()

    def generate(book_id: str, owner: tuple[str, bool]) -> None:
        with httpx.Client(base_url=stack.api_url, headers={"Authorization": f"Bearer {tokens[owner[0]]}"}, timeout=120) as http:
            began = time.monotonic()
            http.post(f"/v1/books/{book_id}/generate").raise_for_status()
            with lock:
                started.append(Started(book_id, owner[1], began))
                usage.api_seconds += time.monotonic() - began

    with ThreadPoolExecutor(SETUP_THREADS) as pool:
        for book_id, owner in zip(book_ids, owners, strict=True):
            pool.submit(generate, book_id, owner)
            if args.arrival == "poisson":
                time.sleep(rng.expovariate(args.rate / 60) * args.time_scale)
    usage.api_requests += len(started)
    return started, usage


def wait_for_books(stack: LocalStack, book_ids: list[str], deadline_real: float) -> dict[str, str]:
    engine = create_engine(stack.database_url, pool_size=1, max_overflow=0)
    try:
        while True:
            statuses = _statuses(engine, book_ids)
            done = sum(1 for s in statuses.values() if s in FINAL)
            if done == len(book_ids) or time.monotonic() > deadline_real:
                return statuses
            print(f"  {done}/{len(book_ids)} books final", flush=True)
            time.sleep(max(1.0, 30 * stack.options.time_scale))
    finally:
        engine.dispose()


def _statuses(engine, book_ids: list[str]) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT id::text, status::text FROM books WHERE id::text = ANY(:ids)"), {"ids": book_ids})
        return dict(rows.all())


def execution_histories(stack: LocalStack, book_ids: list[str]) -> dict[str, tuple[str, list[dict]]]:
    sfn = boto3.client("stepfunctions", endpoint_url=stack.moto_endpoint, region_name="us-east-1")
    arn = stack.resources.state_machines["BookGenerationStateMachine"]  # type: ignore[union-attr]
    wanted = set(book_ids)
    histories = {}
    for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=arn):
        for execution in page["executions"]:
            book_id = json.loads(sfn.describe_execution(executionArn=execution["executionArn"])["input"])["bookId"]
            if book_id not in wanted:
                continue
            events = []
            for history in sfn.get_paginator("get_execution_history").paginate(executionArn=execution["executionArn"]):
                events += history["events"]
            histories[book_id] = (execution["status"], events)
    return histories


def book_timings(stack: LocalStack, book_ids: list[str]) -> dict[str, float]:
    """Real seconds from generation.started to the book's final event."""
    engine = create_engine(stack.database_url, pool_size=1, max_overflow=0)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(BookEvent.book_id, BookEvent.type, func.min(BookEvent.created_at), func.max(BookEvent.created_at))
                .where(BookEvent.type.in_(["generation.started", "book.finished", "book.failed"]))
                .group_by(BookEvent.book_id, BookEvent.type)
            ).all()
    finally:
        engine.dispose()
    began = {str(b): first for b, kind, first, _ in rows if kind == "generation.started"}
    ended = {str(b): last for b, kind, _, last in rows if kind in ("book.finished", "book.failed")}
    return {b: (ended[b] - began[b]).total_seconds() for b in book_ids if b in began and b in ended}


def duplicate_effects(stack: LocalStack) -> int:
    """Effects recorded more than once: a page illustrated twice, a story or a book finished twice."""
    engine = create_engine(stack.database_url, pool_size=1, max_overflow=0)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT book_id, type, payload->>'pageId' AS page, count(*) FROM book_events"
                    " WHERE type IN ('page.illustrated', 'story.completed', 'book.finished')"
                    " GROUP BY book_id, type, payload->>'pageId' HAVING count(*) > 1"
                )
            ).all()
    finally:
        engine.dispose()
    return sum(count - 1 for *_, count in rows)


def lost_worker_retries(stack: LocalStack) -> int:
    engine = create_engine(stack.database_url, pool_size=1, max_overflow=0)
    try:
        with engine.connect() as connection:
            return int(
                connection.execute(select(func.count()).select_from(JobRun).where(JobRun.error_code == "Worker.Lost")).scalar_one()
            )
    finally:
        engine.dispose()


def finish_work_seconds(stack: LocalStack) -> dict[str, float]:
    """Measured finalize + PDF durations per book (real seconds)."""
    engine = create_engine(stack.database_url, pool_size=1, max_overflow=0)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(JobRun.book_id, func.sum(JobRun.duration_ms))
                .where(JobRun.step.in_([JobStep.FINALIZE, JobStep.PDF]), JobRun.status == JobStatus.SUCCEEDED)
                .group_by(JobRun.book_id)
            ).all()
    finally:
        engine.dispose()
    return {str(book_id): (ms or 0) / 1000 for book_id, ms in rows}


def page_ids(stack: LocalStack, book_ids: list[str]) -> dict[str, list[str]]:
    engine = create_engine(stack.database_url, pool_size=1, max_overflow=0)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT book_id::text, id::text FROM pages ORDER BY page_number")).all()
    finally:
        engine.dispose()
    pages: dict[str, list[str]] = {b: [] for b in book_ids}
    for book_id, page_id in rows:
        if book_id in pages:
            pages[book_id].append(page_id)
    return pages


def capacity(stack: LocalStack) -> dict[str, int]:
    by_queue = {m.queue_logical_id: m.maximum_concurrency for m in stack.resources.mappings}  # type: ignore[union-attr]
    return {
        "story": by_queue["StoryQueue"],
        "illustration": by_queue["IllustrationQueue"],
        "priority-story": by_queue["PriorityStoryQueue"],
        "priority-illustration": by_queue["PriorityIllustrationQueue"],
    }


def ideal_p95(stack: LocalStack, started: list[Started], pages: dict[str, list[str]], measured: dict[str, float]) -> float:
    settings = load_settings()
    scale = stack.options.time_scale
    origin = min(s.at for s in started)
    books = [
        IdealBook(
            book_id=s.book_id,
            arrival=(s.at - origin) / scale,
            premium=s.premium,
            story=story_latency(settings, s.book_id),
            pages=[illustration_latency(settings, s.book_id, page) for page in pages[s.book_id]],
            finish_work=measured.get(s.book_id, 0.0) / scale,
        )
        for s in started
    ]
    finishes = ideal_finish_times(books, capacity(stack), _map_concurrency(stack))
    return percentile(list(finishes.values()), 95)


def _map_concurrency(stack: LocalStack) -> int:
    definition = json.loads(stack.resources.definitions["BookGenerationStateMachine"])  # type: ignore[union-attr]
    found = [state.get("MaxConcurrency") for state in _states(definition) if state.get("Type") == "Map"]
    return int(next(value for value in found if value))


def _states(definition: dict) -> list[dict]:
    states = []
    for state in definition.get("States", {}).values():
        states.append(state)
        for inner in ("Iterator", "ItemProcessor"):
            if inner in state:
                states += _states(state[inner])
        for branch in state.get("Branches", []):
            states += _states(branch)
    return states


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from tempfile import TemporaryDirectory

    from storywink.observability import logger

    logger.setLevel("ERROR")
    counter = SqsRequestCounter()
    rng = random.Random(args.seed)
    owners = [(f"parent-{i}", rng.random() < args.premium_share) for i in range(args.books)]
    environment = {"POWERTOOLS_METRICS_DISABLED": "true", "SIMULATED_SEED": str(args.seed), **NO_LIMITS}
    environment |= {"RATE_LIMIT_PREMIUM_PER_MINUTE": "1000000", "READ_LIMIT_PREMIUM_PER_MINUTE": "1000000", "GENERATION_QUOTA_PREMIUM_PER_DAY": "1000000", "PHOTO_QUOTA_PREMIUM_PER_DAY": "1000000"}
    if args.crash_rate:
        environment |= {"CRASH_AT": "illustration.after_upload", "CRASH_KIND": "kill", "CRASH_RATE": str(args.crash_rate)}
    bound = connection_bound(repo_root() / "template.yaml")
    with TemporaryDirectory(prefix="storywink-scale-") as state_dir:
        options = StackOptions(state_dir=Path(state_dir), faithful=True, time_scale=args.time_scale, extra_environment=environment)
        print(f"starting the local stack (faithful, time scale {args.time_scale}) ...", flush=True)
        with LocalStack(options) as stack, ConnectionSampler(stack.database_url) as sampler:
            started, usage = start_books(stack, args, owners)
            book_ids = [s.book_id for s in started]
            pages = page_ids(stack, book_ids)
            rough_ideal = (args.books * args.pages * 25 / max(1, capacity(stack)["illustration"])) + 3600
            deadline = args.deadline if args.deadline is not None else 4 * rough_ideal
            statuses = wait_for_books(stack, book_ids, time.monotonic() + deadline * args.time_scale)
            time.sleep(max(2.0, 60 * args.time_scale))  # executions report their last task after the book turns final
            histories = execution_histories(stack, book_ids)
            timings = book_timings(stack, book_ids)
            duplicates = duplicate_effects(stack)
            lost = lost_worker_retries(stack)
            measured = finish_work_seconds(stack)
            ideal = ideal_p95(stack, started, pages, measured)
            runtime_usage = stack.runtime.usage
            peak = sampler.peak

    # The summary must be the last thing printed: a worker thread still winding down (an abandoned
    # invocation) may log its lost database after the stack has stopped.
    logger.setLevel("CRITICAL")
    logging.disable(logging.CRITICAL)
    counts = Counter(statuses.get(b, "?") for b in book_ids)
    hung = sum(1 for b in book_ids if statuses.get(b) not in FINAL or histories.get(b, ("RUNNING", []))[0] == "RUNNING")
    timed_out = sum(1 for _, events in histories.values() for e in events if e["type"] in ("TaskTimedOut", "ActivityTimedOut"))
    # A worker killed on purpose or over its Lambda timeout died: its task's retry is the point, not a fault.
    died = sum(u.killed + u.timeouts for name, u in runtime_usage.items() if name.endswith("WorkerFunction"))
    timeout_retries = timed_out + max(0, lost - died)
    transitions = sum(1 for _, events in histories.values() for e in events if e["type"].endswith("StateEntered"))
    sent_by_state_machine = sum(1 for _, events in histories.values() for e in events if e["type"] == "TaskScheduled")
    usage.transitions = transitions
    usage.sqs_requests = counter.count + sent_by_state_machine
    usage.lambda_requests = sum(u.invocations for u in runtime_usage.values()) + usage.api_requests
    usage.lambda_gb_seconds = sum(u.billed_gb_seconds for u in runtime_usage.values()) + usage.api_seconds / args.time_scale
    simulated = [seconds / args.time_scale for seconds in timings.values()]

    n = len(book_ids)
    print("\nfunction                      invocations  timeouts  killed  longest (real s)  GB-s (simulated)")
    for name, used in sorted(runtime_usage.items()):
        print(
            f"{name:<30}{used.invocations:>11}{used.timeouts:>10}{used.killed:>8}"
            f"{used.longest_seconds:>18.2f}{used.billed_gb_seconds:>18.1f}"
        )
    print()
    print(f"books: {n} completed {counts['COMPLETED']} partial {counts['PARTIAL']} failed {counts['FAILED']} lost-or-hung {hung}")
    print(f"timeout retries: {timeout_retries}")
    print(f"duplicate effects: {duplicates}")
    print(f"peak db connections: {peak} (bound {bound:g})")
    print(f"time to final (simulated s): p50 {percentile(simulated, 50):.0f} p95 {percentile(simulated, 95):.0f} ideal {ideal:.0f}")
    print(
        f"cost per book (USD, excl. AI): {cost_per_book(usage, n):.5f} (transitions {usage.transitions / n:.1f}, "
        f"SQS requests {usage.sqs_requests / n:.1f}, Lambda GB-s {usage.lambda_gb_seconds / n:.1f})"
    )
    ok = hung == 0 and timeout_retries == 0 and duplicates == 0 and peak <= bound
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
