"""Admission: how a book waiting for capacity is placed in its line and when it should start.

A book waits from the moment it enters GENERATING (story) or ILLUSTRATING (illustrations) until the
first task of that step is claimed by a worker. Standard and premium books wait in separate lines, each
served by its own queue and worker capacity (template.yaml splits each AI provider's limit between the
two), so a premium book never waits behind a free one and a free book's wait depends only on the free
books ahead of it. Within a line books start in the order their wait began.

The estimate is deliberately simple and rather pessimistic: it assumes every slot of the line is busy
and that each round of `slots` tasks takes one mean task duration, so the k-th task in line starts after
ceil(k / slots) rounds. An illustrating book's first page is behind the pages already queued by the books
ahead of it: each has sent up to `pages_in_parallel` (the Map's MaxConcurrency) of its pending pages.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from storywink.domain.enums import BookStatus, JobStep
from storywink.domain.execution import Priority
from storywink.domain.progress import QueueProgress

# The step a book in a running status waits for.
WAITING_STEP = {BookStatus.GENERATING: JobStep.STORY, BookStatus.ILLUSTRATING: JobStep.ILLUSTRATION}


@dataclass(frozen=True)
class StepCapacity:
    """One step's workers: concurrent tasks per line, and how long a task takes before there is history."""

    standard: int
    premium: int
    default_task_seconds: float

    def slots(self, priority: Priority) -> int:
        return self.premium if priority == "premium" else self.standard


@dataclass(frozen=True)
class Capacity:
    story: StepCapacity
    illustration: StepCapacity
    pages_in_parallel: int  # pages of one book the state machine sends at once

    def of(self, step: JobStep) -> StepCapacity:
        return self.story if step == JobStep.STORY else self.illustration


def pages_queued(books_ahead_by_pending: Mapping[int, int], pages_in_parallel: int) -> int:
    """Page tasks the illustrating books ahead have queued: each has sent up to ``pages_in_parallel`` of its
    pending pages. ``books_ahead_by_pending`` maps a count of pending pages to how many books have that many."""
    return sum(min(pending, pages_in_parallel) * books for pending, books in books_ahead_by_pending.items())


def estimated_start_seconds(tasks_ahead: int, slots: int, task_seconds: float) -> int:
    """ceil((tasks_ahead + 1) / slots) rounds of one task's duration, in whole seconds."""
    rounds = math.ceil((tasks_ahead + 1) / max(slots, 1))
    return math.ceil(rounds * task_seconds)


def queue_progress(books_ahead: int, tasks_ahead: int, slots: int, task_seconds: float) -> QueueProgress:
    """A waiting book behind ``books_ahead`` books of its line, whose first task is behind ``tasks_ahead``
    tasks (a story is one task; see pages_queued for illustrations)."""
    return QueueProgress(
        position=books_ahead + 1, estimated_start_seconds=estimated_start_seconds(tasks_ahead, slots, task_seconds)
    )
