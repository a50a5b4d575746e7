"""The p95 time to a finished book that a perfect scheduler would reach with the same capacity and the
same drawn latencies: no queue or poll delay, no state transitions, no cold starts; work-conserving (a
slot never idles while a task it could run is ready) and first come, first served (the task that became
ready first starts first), with premium books on their own capacity, as the queues are split.

Each book: its story (one story slot, from its arrival), then its pages (at most `map_concurrency` of them
at once, each on one illustration slot; as one finishes the book's next page becomes ready), then
finalize and PDF (taken as measured). The pages are simulated event by event.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from dataclasses import dataclass


@dataclass
class IdealBook:
    book_id: str
    arrival: float  # simulated seconds since the burst began
    premium: bool
    story: float
    pages: list[float]
    finish_work: float  # finalize + PDF, as measured


def ideal_finish_times(
    books: list[IdealBook], capacity: dict[str, int], map_concurrency: int
) -> dict[str, float]:
    """Seconds from each book's arrival to its final status; capacity keys: story, illustration,
    priority-story, priority-illustration."""
    finishes: dict[str, float] = {}
    for premium in (True, False):
        tier = sorted((b for b in books if b.premium == premium), key=lambda b: b.arrival)
        prefix = "priority-" if premium else ""
        story_done = _first_come_first_served([(b.arrival, b.story) for b in tier], capacity[f"{prefix}story"])
        pages_done = _pages(tier, story_done, capacity[f"{prefix}illustration"], max(1, map_concurrency))
        for book, done in zip(tier, pages_done, strict=True):
            finishes[book.book_id] = done + book.finish_work - book.arrival
    return finishes


def _first_come_first_served(tasks: list[tuple[float, float]], slots: int) -> list[float]:
    """Finish times of (ready, duration) tasks, given in the order they become ready."""
    free_at = [0.0] * max(1, slots)
    finished = []
    for ready, duration in tasks:
        start = max(ready, heapq.heappop(free_at))
        heapq.heappush(free_at, start + duration)
        finished.append(start + duration)
    return finished


def _pages(books: list[IdealBook], ready_at: list[float], slots: int, lanes: int) -> list[float]:
    """When each book's last page is done (its story's end if it has none)."""
    latencies = [deque(book.pages) for book in books]  # in page order, taken as pages start
    unreleased = [len(book.pages) for book in books]
    done = list(ready_at)
    waiting: list[tuple[float, int, int]] = []  # pages ready to start: (since, tiebreak, book)
    running: list[tuple[float, int]] = []  # (finishes, book)
    order = 0

    def release(book: int, at: float) -> None:
        nonlocal order
        unreleased[book] -= 1
        heapq.heappush(waiting, (at, order, book))
        order += 1

    arrivals = deque(sorted(range(len(books)), key=lambda b: ready_at[b]))
    free = max(1, slots)
    while arrivals or running:
        now = min([ready_at[arrivals[0]]] if arrivals else [], default=math.inf)
        now = min(now, running[0][0]) if running else now
        while arrivals and ready_at[arrivals[0]] <= now:
            book = arrivals.popleft()
            for _ in range(min(lanes, unreleased[book])):
                release(book, now)
        while running and running[0][0] <= now:
            _, book = heapq.heappop(running)
            free += 1
            done[book] = now
            if unreleased[book]:  # the lane it held goes to the book's next page
                release(book, now)
        while free and waiting:
            _, _, book = heapq.heappop(waiting)
            heapq.heappush(running, (now + latencies[book].popleft(), book))
            free -= 1
    return done
