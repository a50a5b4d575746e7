"""What the bench scripts share: a throwaway local stack, a parent making books through the API, and numbers."""

from __future__ import annotations

import math
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.engine import Row
from sqlalchemy.sql import Executable

from storywink.local.demo import ApiClient, upload_photos
from storywink.local.stack import LocalStack, StackOptions

PHOTOS = sorted((Path(__file__).resolve().parents[1] / "samples" / "photos").glob("*.jpg"))
FINAL = {"COMPLETED", "PARTIAL", "FAILED"}
STYLES = ("watercolor", "cartoon", "pencil-sketch")
POLL_SECONDS = 0.25
# The bench measures the pipeline, not the quotas: its one parent makes more books than a free plan allows.
NO_LIMITS = {
    name: "1000000"
    for name in (
        "RATE_LIMIT_FREE_PER_MINUTE", "READ_LIMIT_FREE_PER_MINUTE", "GENERATION_QUOTA_FREE_PER_DAY", "PHOTO_QUOTA_FREE_PER_DAY",
        "PROVIDER_CALL_CEILING_PER_DAY",
    )
}


@contextmanager
def local_stack(
    extra_environment: dict[str, str] | None = None, log_level: str = "WARNING", **options: Any
) -> Iterator[LocalStack]:
    """A fresh stack (own PostgreSQL, moto, workers, API) in a temporary state dir; stopped and deleted on exit."""
    from storywink.observability import logger

    logger.setLevel(log_level)  # the in-process workers log every step at INFO
    environment = {"POWERTOOLS_METRICS_DISABLED": "true", **NO_LIMITS, **(extra_environment or {})}
    with tempfile.TemporaryDirectory(prefix="storywink-bench-") as state_dir:
        print("starting the local stack ...", flush=True)
        with LocalStack(StackOptions(state_dir=Path(state_dir), extra_environment=environment, **options)) as stack:
            yield stack


class Parent:
    """One user driving the REST API as the frontend does. httpx clients are not shared: one Parent per thread."""

    def __init__(self, stack: LocalStack, user: str = "bench-parent") -> None:
        self.api = ApiClient(stack.api_url, stack.mint_token(user))

    def make_book(self, pages: int, style: str = "watercolor") -> dict[str, Any]:
        """A draft with ``pages`` confirmed photos (the samples, reused when more are asked for)."""
        details = {"title": "Bench Book", "childName": "Zoë", "artStyle": style, "autoIllustrate": True}
        book = self.api.call("POST", "/v1/books", json=details)
        upload_photos(self.api, book["id"], [PHOTOS[i % len(PHOTOS)] for i in range(pages)])
        return self.api.call("GET", f"/v1/books/{book['id']}")

    def generate(self, book_id: str) -> None:
        self.api.call("POST", f"/v1/books/{book_id}/generate")

    def status(self, book_id: str) -> str:
        return self.api.call("GET", f"/v1/books/{book_id}/status")["status"]

    def wait_final(self, book_ids: Sequence[str], timeout: float) -> dict[str, tuple[str, float | None]]:
        """Poll each book's status until all are final or ``timeout`` passes: {id: (status, monotonic time
        it was first seen final, or None)}."""
        seen: dict[str, tuple[str, float | None]] = {book_id: ("?", None) for book_id in book_ids}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pending = [b for b, (_, done) in seen.items() if done is None]
            if not pending:
                break
            for book_id in pending:
                status = self.status(book_id)
                seen[book_id] = (status, time.monotonic() if status in FINAL else None)
            time.sleep(POLL_SECONDS)
        return seen


def query(stack: LocalStack, statement: Executable) -> list[Row]:
    """Run one read against the stack's database on a short-lived engine of our own."""
    engine = create_engine(stack.database_url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(statement))
    finally:
        engine.dispose()


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def fmt(value: float, digits: int = 0) -> str:
    return "-" if isinstance(value, float) and math.isnan(value) else f"{value:,.{digits}f}"


def spread(values: Sequence[float], digits: int = 0, points: Sequence[float] = (50, 95)) -> list[str]:
    """The given percentiles, then the max, formatted for a table row."""
    return [fmt(percentile(values, p), digits) for p in points] + [fmt(max(values, default=math.nan), digits)]


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    cells = [list(map(str, headers))] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: list[str]) -> str:  # the first column reads as a label, the others as numbers
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))

    print(f"\n{title}")
    print(line(cells[0]))
    print("  ".join("-" * w for w in widths))
    for row in cells[1:]:
        print(line(row))
