"""Cold starts next to the runtime's floor: every function of template.yaml imported and invoked once, each
in a fresh process, against moto and the embedded PostgreSQL.

    .venv/bin/python bench/cold_start.py [--runs 5] [--providers simulated|offline]

For each function a run starts one Python process (the function's CodeUri on the import path, the
environment the local stack gives every function) that imports the handler module (import_ms) and calls
the handler once with the function's sample from events/ (first_invoke_ms). The sample names things made
for that run: a fresh book in the status its step expects, a task token of its own, a connected user, so
the call does its step's real work. Two floors are measured the same way: a bare Powertools SQS handler
(BatchProcessor, Logger) that imports boto3 and makes one Step Functions call, fed the story queue's
sample, and a bare FastAPI app behind Mangum answering the HTTP API's health check sample. Interpreter
start-up (the same for every process) is in neither number. Two more rows measure the libraries the functions
need and nothing of ours (bench/floors/worker_libraries_floor.py, api_libraries_floor.py): their ratios
are the least any function built on them can show.

    ratio_to_floor = (import_ms + first_invoke_ms) / (import_ms + first_invoke_ms of the matching floor)

the FastAPI floor for the API function, the SQS floor for every other function. Every number is the median
over --runs processes (the ratio: of the per-process sums). The last line is

    worst worker ratio: R; api ratio: A

where R is the largest ratio of the four step workers (story, illustration, finalize, pdf). By default the
AI providers are the latency-only ones at zero latency and the PDF layout is its stand-in, so
first_invoke_ms is what a cold container adds to a step, not how long drawing a page takes; with
--providers offline they are the offline providers and the fpdf layout. A function without a sample the
bench knows how to fill is imported only. Exits 1 when an invocation fails, never on the numbers.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _common import Parent, fmt, local_stack, print_table

from storywink.db.tables import Book
from storywink.local.resources import TemplateProvisioner
from storywink.local.samples import (
    advance,
    fifo_sample,
    generating,
    http_sample,
    illustrating,
    load_sample,
    page_ok,
    sqs_sample,
    with_task_token,
)
from storywink.local.stack import LocalStack
from storywink.local.template import repo_root
from storywink.services.status import StatusUpdate
from storywink.wiring import container

BENCH = Path(__file__).resolve().parent
INVOKE_ONCE = BENCH / "_invoke_once.py"
FLOORS = BENCH / "floors"
STEP_WORKERS = ("story_worker", "illustration_worker", "finalize_worker", "pdf_worker")
API = "api"
USER = "bench-parent"
PAGES = 3  # the finalize sample reports on three pages
INVOKE_TIMEOUT_SECONDS = 120
# What every function gets besides the stack's environment: the log level and metrics of staging and prod.
FUNCTION_ENVIRONMENT = {"LOG_LEVEL": "INFO", "POWERTOOLS_METRICS_DISABLED": "false"}
PROVIDERS = {
    "simulated": {
        "STORY_PROVIDER": "simulated",
        "ILLUSTRATION_PROVIDER": "simulated",
        "SIMULATED_STORY_LATENCY_SECONDS": "0,0",
        "SIMULATED_ILLUSTRATION_LATENCY_SECONDS": "0,0",
        "PDF_RENDERER": "simulated",
        "SIMULATED_PDF_SECONDS_PER_PAGE": "0",
    },
    "offline": {"STORY_PROVIDER": "offline", "ILLUSTRATION_PROVIDER": "offline", "PDF_RENDERER": "fpdf"},
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="fresh processes per function (default 5)")
    parser.add_argument(
        "--providers", choices=sorted(PROVIDERS), default="simulated", help="AI providers and PDF layout (default simulated)"
    )
    return parser.parse_args(argv)


class Samples:
    """Each function's sample filled in for one invocation, with what the bench made for it."""

    def __init__(self, stack: LocalStack) -> None:
        self.parent = Parent(stack, USER)
        self.token = stack.mint_token(USER)
        self.deps = container()  # the stack's own: its database and connections table

    def book(self, *updates: StatusUpdate) -> tuple[str, list[str]]:
        """A fresh book of PAGES photos moved through ``updates``: its id and its page ids, in order."""
        book = self.parent.make_book(PAGES)
        self.advance(book["id"], *updates)
        return book["id"], [page["id"] for page in sorted(book["pages"], key=lambda page: page["pageNumber"])]

    def advance(self, book_id: str, *updates: StatusUpdate) -> None:
        with self.deps.database.sessions() as session:
            advance(session, book_id, *updates)

    def step(self, name: str, book_id: str, pages: Sequence[str] = ()) -> dict[str, Any]:
        return with_task_token(sqs_sample(name, book_id, pages), uuid.uuid4().hex)

    def connected(self, name: str) -> dict[str, Any]:
        """A WebSocket sample whose connection is the bench user's."""
        event = load_sample(name)
        self.deps.require_connections().add_connection(event["requestContext"]["connectionId"], USER)
        return event

    # ---------------------------------------------------------------- one per function, by handler module
    def api(self) -> dict[str, Any]:
        return http_sample("api_create_book.json", self.token)

    def story_worker(self) -> dict[str, Any]:
        book_id, _ = self.book(generating())
        return self.step("story_worker.json", book_id)

    def illustration_worker(self) -> dict[str, Any]:
        book_id, pages = self.book(generating(), illustrating())
        return self.step("illustration_worker.json", book_id, pages[:1])

    def finalize_worker(self) -> dict[str, Any]:
        """Two pages illustrated, the third failed (as the sample's results say)."""
        book_id, pages = self.book(generating(), illustrating())
        self.advance(book_id, *[page_ok(page) for page in pages[:2]])
        return self.step("finalize_worker.json", book_id, pages)

    def pdf_worker(self) -> dict[str, Any]:
        book_id, pages = self.book(generating(), illustrating())
        self.advance(book_id, *[page_ok(page) for page in pages])
        return self.step("pdf_worker.json", book_id)

    def dlq_handler(self) -> dict[str, Any]:
        book_id, _ = self.book(generating())
        return self.step("dlq_handler.json", book_id)

    def lease_sweeper(self) -> dict[str, Any]:
        return load_sample("lease_sweeper.json")

    def maintenance(self) -> dict[str, Any]:
        return load_sample("maintenance.json")

    def push_fanout(self) -> dict[str, Any]:
        """A subscriber who has seen nothing of a book with events: the fan-out reads them and pushes."""
        book_id, _ = self.book(generating())
        connection = f"bench-{uuid.uuid4().hex[:12]}"
        store = self.deps.require_connections()
        store.add_connection(connection, USER)
        store.subscribe(connection, USER, book_id, 0)
        with self.deps.database.sessions() as session:
            seq = session.get(Book, uuid.UUID(book_id)).last_event_seq
        return fifo_sample("push_fanout.json", book_id, seq)

    def ws_connect(self) -> dict[str, Any]:
        event = load_sample("ws_connect.json")
        event["queryStringParameters"]["token"] = self.token
        return event

    def ws_disconnect(self) -> dict[str, Any]:
        return self.connected("ws_disconnect.json")

    def ws_subscribe(self) -> dict[str, Any]:
        book_id, _ = self.book()
        event = self.connected("ws_subscribe.json")
        event["body"] = json.dumps({"action": "subscribe", "bookId": book_id})
        return event


@dataclass
class Measured:
    """A function (or a floor) and what its fresh processes measured."""

    name: str
    code_uri: Path
    handler: str
    sample: Callable[[Samples], dict[str, Any]] | None  # None: imported only
    floor: str = "sqs"
    import_ms: list[float] = field(default_factory=list)
    invoke_ms: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def module(self) -> str:
        return self.handler.rpartition(".")[0]

    def total_ms(self) -> float:
        """The median of import + first invocation; NaN when it was imported only (or never ran)."""
        if self.sample is None:
            return math.nan
        return median([i + f for i, f in zip(self.import_ms, self.invoke_ms, strict=True)])


def median(values: list[float]) -> float:
    return statistics.median(values) if values else math.nan


FLOOR_SQS = Measured("floor: SQS + boto3", FLOORS, "sqs_floor.handler", lambda s: s.step("story_worker.json", str(uuid.uuid4())))
FLOOR_API = Measured("floor: FastAPI + Mangum", FLOORS, "fastapi_floor.handler", lambda _: load_sample("api_healthz.json"), "api")
# What the functions need from outside this project, measured the same way: their ratios to the floors above
# are the least any worker (any API) built on these libraries can show.
FLOOR_WORKER_LIBRARIES = Measured(
    "floor: worker libraries", FLOORS, "worker_libraries_floor.handler", lambda s: s.step("story_worker.json", str(uuid.uuid4()))
)
FLOOR_API_LIBRARIES = Measured(
    "floor: API libraries", FLOORS, "api_libraries_floor.handler", lambda s: s.api(), "api"
)


def template_functions() -> list[Measured]:
    """Every function of template.yaml, in the template's order."""
    template = TemplateProvisioner(repo_root() / "template.yaml", clients=None, stack_name="bench", region="us-east-1", parameters={})
    functions = []
    for logical_id, _ in template.resources("AWS::Serverless::Function"):
        handler = template.handler_of(logical_id)
        module = handler.rpartition(".")[0]
        sample = getattr(Samples, module, None)
        functions.append(Measured(logical_id, template.code_uri(logical_id), handler, sample, "api" if module == API else "sqs"))
    return functions


def invoke_once(measured: Measured, event: dict[str, Any] | None) -> None:
    """One fresh process: import the handler, then call it once with ``event`` (None: import only)."""
    with tempfile.TemporaryDirectory(prefix="storywink-cold-") as folder:
        event_file, result_file = Path(folder, "event.json"), Path(folder, "result.json")
        if event is not None:
            event_file.write_text(json.dumps(event))
        completed = subprocess.run(
            [
                sys.executable, str(INVOKE_ONCE), str(measured.code_uri), measured.handler, measured.name,
                str(event_file) if event is not None else "-", str(result_file),
            ],
            env={**os.environ, **FUNCTION_ENVIRONMENT},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            timeout=INVOKE_TIMEOUT_SECONDS,
            check=False,
        )
        if completed.returncode != 0 or not result_file.exists():
            measured.failures.append(f"exit {completed.returncode}: {completed.stderr[-2000:]}")
            return
        result = json.loads(result_file.read_text())
    problem = result["error"] or failed(result["response"])
    if problem:
        measured.failures.append(problem)
        return
    measured.import_ms.append(result["import_ms"])
    if event is not None:
        measured.invoke_ms.append(result["first_invoke_ms"])


def failed(response: Any) -> str | None:
    """Why a handler's response is a failure (records reported for redelivery, an error status), if it is."""
    if isinstance(response, dict) and response.get("batchItemFailures"):
        return f"records failed: {response['batchItemFailures']}"
    if isinstance(response, dict) and int(response.get("statusCode", 200)) >= 400:
        return f"status {response['statusCode']}: {str(response.get('body'))[:500]}"
    return None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    functions = template_functions()
    measured = [FLOOR_SQS, FLOOR_API, FLOOR_WORKER_LIBRARIES, FLOOR_API_LIBRARIES, *functions]
    environment = PROVIDERS[args.providers]  # the functions' own (FUNCTION_ENVIRONMENT) only in their processes
    with local_stack(environment, event_sources=False) as stack:
        samples = Samples(stack)
        print(f"{len(functions)} functions, {args.runs} fresh process(es) each, {args.providers} providers ...", flush=True)
        for _ in range(args.runs):
            # Every sample of the run is made first, so nothing else runs while a process is measured.
            events = [(m, m.sample(samples) if m.sample else None) for m in measured]
            for each, event in events:
                invoke_once(each, event)

    floors = {"sqs": FLOOR_SQS.total_ms(), "api": FLOOR_API.total_ms()}
    ratios = {each.module: each.total_ms() / floors[each.floor] for each in measured}
    rows = [
        [
            each.name,
            fmt(median(each.import_ms)),
            fmt(median(each.invoke_ms)),
            fmt(ratios[each.module], 2),
        ]
        for each in measured
    ]
    print_table(
        f"Cold start (ms, median of {args.runs} fresh processes; ratio to the SQS floor, the API's to the FastAPI floor)",
        ["function", "import_ms", "first_invoke_ms", "ratio_to_floor"],
        rows,
    )
    failures = [(each.name, problem) for each in measured for problem in each.failures]
    for name, problem in failures:
        print(f"\n{name} failed: {problem}", file=sys.stderr)
    workers = [ratios.get(worker, math.nan) for worker in STEP_WORKERS]
    worst = math.nan if any(map(math.isnan, workers)) else max(workers)
    print(f"\nworst worker ratio: {worst:.2f}; api ratio: {ratios.get(API, math.nan):.2f}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
