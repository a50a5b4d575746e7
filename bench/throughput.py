"""Books per minute through the local stack, and where the time goes (per-step latency from job_runs).

    .venv/bin/python bench/throughput.py --books 4 --pages 3 --style watercolor
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from _common import FINAL, STYLES, Parent, fmt, local_stack, print_table, query, spread
from sqlalchemy import select

from storywink.db.tables import JobRun
from storywink.domain.enums import JobStep
from storywink.local.stack import LocalStack


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--books", type=int, default=4, help="books generated concurrently (default 4)")
    parser.add_argument("--pages", type=int, default=3, help="photos, so pages, per book (default 3)")
    parser.add_argument("--style", choices=STYLES, default="watercolor", help="art style (default watercolor)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for the books (default 600)")
    return parser.parse_args()


def make_and_generate(stack: LocalStack, pages: int, style: str) -> tuple[str, float, float]:
    """One client's whole request path: create, upload and confirm photos, generate. Returns (id, t0, t_generate)."""
    created = time.monotonic()
    parent = Parent(stack)
    book = parent.make_book(pages, style)
    generated = time.monotonic()
    parent.generate(book["id"])
    return book["id"], created, generated


def main() -> int:
    args = parse_args()
    with local_stack() as stack:
        print(f"generating {args.books} book(s) of {args.pages} page(s), {args.style}, concurrently ...", flush=True)
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=args.books) as pool:
            books = list(pool.map(lambda _: make_and_generate(stack, args.pages, args.style), range(args.books)))
        finals = Parent(stack).wait_final([book_id for book_id, _, _ in books], args.timeout)
        runs = query(
            stack,
            select(JobRun.step, JobRun.duration_ms).where(
                JobRun.book_id.in_([book_id for book_id, _, _ in books]), JobRun.duration_ms.is_not(None)
            ),
        )

    done = [(finals[book_id][1], created, generated) for book_id, created, generated in books if finals[book_id][1]]
    wall = (max(end for end, _, _ in done) if done else time.monotonic()) - started
    statuses = [status for status, _ in finals.values()]
    print_table(
        "Throughput",
        ["metric", "value"],
        [
            ["books finished", f"{len(done)} of {args.books}"],
            ["statuses", ", ".join(f"{s}={statuses.count(s)}" for s in sorted(set(statuses)))],
            ["wall time (s)", fmt(wall, 1)],
            ["books / minute", fmt(len(done) / wall * 60, 2)],
            ["pages / minute", fmt(len(done) * args.pages / wall * 60, 1)],
        ],
    )
    print_table(
        "Per-step latency from job_runs.duration_ms (ms; every finished attempt)",
        ["step", "runs", "p50", "p95", "max"],
        [
            [step.value, len(durations), *spread(durations)]
            for step in JobStep
            if (durations := [ms for s, ms in runs if s == step])
        ],
    )
    to_final = [end - created for end, created, _ in done]
    from_generate = [end - generated for end, _, generated in done]
    print_table(
        "End to end per book (s; final status seen by 0.25 s status polling)",
        ["span", "p50", "p95", "max"],
        [
            ["create -> final", *spread(to_final, 1)],
            ["generate -> final", *spread(from_generate, 1)],
        ],
    )
    return 0 if all(status in FINAL for status in statuses) else 1


if __name__ == "__main__":
    sys.exit(main())
