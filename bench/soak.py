"""Soak under injected faults: books still end, nothing is lost or hung, and nothing is done twice.

    .venv/bin/python bench/soak.py --books 10 --pages 3 --failure-rate 0.3 --kind transient \\
        --crash-at illustration.after_upload --crash-times 1 --timeout 600

Provider faults (CHAOS_*) and worker crashes (CRASH_*) are set in this process's environment before
the stack starts; the wiring wraps the providers with them. A crashed worker brings its message back
after one second (CRASH_REDELIVERY_SECONDS=1). Exits 1 when a book is lost or hung or an effect happened twice:
that is a correctness failure, not a timing one.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from pathlib import PurePosixPath
from statistics import mean

import boto3
from _common import FINAL, Parent, fmt, local_stack, print_table, query, spread
from sqlalchemy import select

from storywink.db.tables import BookEvent, JobRun
from storywink.domain.enums import JobStatus, JobStep
from storywink.faults.chaos import ERRORS
from storywink.faults.crash import CRASH_POINTS
from storywink.local.stack import LocalStack
from storywink.storage import keys

SETTLE_SECONDS = 30  # an execution may still be reporting its last task when the book turns final


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--books", type=int, default=10, help="books generated concurrently (default 10)")
    parser.add_argument("--pages", type=int, default=3, help="photos, so pages, per book (default 3)")
    parser.add_argument("--failure-rate", type=float, default=0.3, help="CHAOS_FAILURE_RATE, 0..1 (default 0.3)")
    parser.add_argument("--kind", choices=sorted(ERRORS), default="transient", help="CHAOS_ERROR_KIND")
    parser.add_argument("--seed", type=int, default=7, help="CHAOS_SEED (default 7)")
    parser.add_argument(
        "--crash-at", choices=[*sorted(CRASH_POINTS), "none"], default="illustration.after_upload",
        help="CRASH_AT, where workers crash after a side effect (default illustration.after_upload)",
    )
    parser.add_argument("--crash-times", type=int, default=1, help="CRASH_TIMES per page or book (default 1)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for final statuses (default 600)")
    parser.add_argument("--verbose", action="store_true", help="show the workers' warnings about each injected fault")
    return parser.parse_args()


def fault_environment(args: argparse.Namespace) -> dict[str, str]:
    faults = {
        "CHAOS_FAILURE_RATE": str(args.failure_rate),
        "CHAOS_ERROR_KIND": args.kind,
        "CHAOS_SEED": str(args.seed),
        "CRASH_REDELIVERY_SECONDS": "1",
    }
    if args.crash_at != "none":
        faults |= {"CRASH_AT": args.crash_at, "CRASH_TIMES": str(args.crash_times)}
    return faults


def running_executions(stack: LocalStack, book_ids: list[str]) -> set[str]:
    """Books with an execution still RUNNING, after giving them SETTLE_SECONDS to finish."""
    sfn = boto3.client("stepfunctions", endpoint_url=stack.moto_endpoint, region_name="us-east-1")
    machine = stack.resources.state_machines["BookGenerationStateMachine"]
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        pages = sfn.get_paginator("list_executions").paginate(stateMachineArn=machine, statusFilter="RUNNING")
        running = {b for page in pages for e in page["executions"] for b in book_ids if e["name"].startswith(b)}
        if not running or time.monotonic() > deadline:
            return running
        time.sleep(1)


def illustrations_per_page(stack: LocalStack, book_ids: list[str]) -> Counter[str]:
    """S3 objects under each book's illustrations/ prefix, counted by page (the file name's stem)."""
    s3 = boto3.client("s3", endpoint_url=stack.moto_endpoint, region_name="us-east-1")
    paginator = s3.get_paginator("list_objects_v2")
    found: Counter[str] = Counter()
    for book_id in book_ids:
        prefix = keys.book_prefix(book_id) + "illustrations/"
        for page in paginator.paginate(Bucket=stack.resources.buckets["MediaBucket"], Prefix=prefix):
            found.update(PurePosixPath(obj["Key"]).stem for obj in page.get("Contents", []))
    return found


def main() -> int:
    args = parse_args()
    os.environ.update(fault_environment(args))
    # Every injected fault logs a warning or a crash traceback; the tables below count them instead.
    with local_stack(log_level="WARNING" if args.verbose else "CRITICAL") as stack:
        parent = Parent(stack)
        book_ids = [parent.make_book(args.pages)["id"] for _ in range(args.books)]
        faults = " ".join(f"{k}={v}" for k, v in fault_environment(args).items())
        print(f"generating {args.books} book(s) of {args.pages} page(s) with {faults} ...", flush=True)
        generated = {}
        for book_id in book_ids:
            generated[book_id] = time.monotonic()
            parent.generate(book_id)
        finals = parent.wait_final(book_ids, args.timeout)
        still_running = running_executions(stack, book_ids)
        objects = illustrations_per_page(stack, book_ids)
        illustration_runs = query(
            stack,
            select(JobRun.page_id, JobRun.status, JobRun.deliveries, JobRun.error_code).where(
                JobRun.book_id.in_(book_ids), JobRun.step == JobStep.ILLUSTRATION
            ),
        )
        page_ok_events = query(
            stack,
            select(BookEvent.book_id, BookEvent.payload["pageId"].astext).where(
                BookEvent.book_id.in_(book_ids), BookEvent.payload["pageStatus"].astext == "OK"
            ),
        )

    statuses = Counter(status for status, _ in finals.values())
    not_final = {book_id for book_id, (status, _) in finals.items() if status not in FINAL}
    lost_or_hung = len(not_final | still_running)
    runs_per_page = Counter(str(page_id) for page_id, *_ in illustration_runs)
    # Each book is generated once here, so all of a page's job runs belong to one generation attempt.
    succeeded = Counter(str(page_id) for page_id, status, *_ in illustration_runs if status == JobStatus.SUCCEEDED)
    duplicates = {
        "pages with > 1 illustration object in S3": more_than_once(objects),
        "pages with > 1 SUCCEEDED illustration job_run": more_than_once(succeeded),
        "pages whose events show -> OK more than once": more_than_once(Counter(page_ok_events)),
    }
    to_final = [done - generated[book_id] for book_id, (_, done) in finals.items() if done is not None]

    outcome = [[status, statuses[status]] for status in ("COMPLETED", "PARTIAL", "FAILED")]
    outcome += [["not final at the timeout", len(not_final)], ["execution still RUNNING", len(still_running)],
                ["lost or hung (must be 0)", lost_or_hung]]
    print_table("Outcome", ["books", "count"], outcome)
    print_table("Duplicate effects (each must be 0)", ["check", "count"], list(map(list, duplicates.items())))
    print_table(
        "Retries (ILLUSTRATION job_runs)",
        ["measure", "mean", "max"],
        [["job_runs per page", *mean_max(list(runs_per_page.values()))],
         ["deliveries per job_run", *mean_max([run.deliveries for run in illustration_runs])]],
    )
    endings = Counter(f"{run.status.value} {run.error_code or ''}".strip() for run in illustration_runs)
    print_table("ILLUSTRATION job_runs by outcome", ["status and error", "runs"], sorted(map(list, endings.items())))
    print_table("Time to a final status (s, from generate)", ["books", "p50", "p95", "max"],
                [[len(to_final), *spread(to_final, 1)]])
    duplicated = sum(duplicates.values())
    verdict = "FAIL" if lost_or_hung or duplicated else "OK"
    print(f"\n{verdict}: {lost_or_hung} lost or hung, {duplicated} duplicate effect(s)")
    return 1 if lost_or_hung or duplicated else 0


def more_than_once(counts: Counter) -> int:
    return sum(1 for n in counts.values() if n > 1)


def mean_max(values: list[int]) -> list[str]:
    return [fmt(mean(values), 2), str(max(values))] if values else ["-", "-"]


if __name__ == "__main__":
    sys.exit(main())
