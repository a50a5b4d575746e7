"""The p95 time to a finished book that a perfect scheduler would reach with the same capacity and the
same drawn latencies: no queue or poll delay, no state transitions, work-conserving, books served in the
order they arrived (premium ahead of standard on their own capacity, as the queues are split).

Each book: its story (one story slot), then its pages (at most `map_concurrency` at once, each on one
illustration slot), then finalize and PDF (taken as measured). A slot never idles while work waits.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field


@dataclass
class IdealBook:
    book_id: str
    arrival: float  # simulated seconds since the burst began
    premium: bool
    story: float
    pages: list[float]
    finish_work: float  # finalize + PDF, as measured


@dataclass(order=True)
class _Slot:
    free_at: float
    index: int = field(compare=False)


class _Pool:
    def __init__(self, size: int) -> None:
        self._slots = [_Slot(0.0, i) for i in range(max(1, size))]
        heapq.heapify(self._slots)

    def run(self, ready: float, duration: float) -> float:
        """Start as soon as both the work and a slot are ready; returns the finish time."""
        slot = heapq.heappop(self._slots)
        finish = max(ready, slot.free_at) + duration
        heapq.heappush(self._slots, _Slot(finish, slot.index))
        return finish


def ideal_finish_times(
    books: list[IdealBook], capacity: dict[str, int], map_concurrency: int
) -> dict[str, float]:
    """Seconds from each book's arrival to its final status; capacity keys: story, illustration,
    priority-story, priority-illustration."""
    finishes: dict[str, float] = {}
    for premium in (True, False):
        tier = [b for b in books if b.premium == premium]
        prefix = "priority-" if premium else ""
        stories, illustrations = _Pool(capacity[f"{prefix}story"]), _Pool(capacity[f"{prefix}illustration"])
        # Story slots first, in arrival order; then pages in the order their books became ready.
        story_done = {b.book_id: stories.run(b.arrival, b.story) for b in sorted(tier, key=lambda b: b.arrival)}
        for book in sorted(tier, key=lambda b: story_done[b.book_id]):
            lanes = [story_done[book.book_id]] * max(1, map_concurrency)
            for latency in book.pages:
                lane = min(range(len(lanes)), key=lanes.__getitem__)
                lanes[lane] = illustrations.run(lanes[lane], latency)
            finishes[book.book_id] = max(lanes) + book.finish_work - book.arrival
    return finishes
