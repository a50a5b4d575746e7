"""Admission rules: a waiting book's place in its line, its estimated start, and how BookProgress shows it."""

from __future__ import annotations

import pytest

from storywink.domain.admission import (
    WAITING_STEP,
    StepCapacity,
    estimated_start_seconds,
    pages_queued,
    queue_progress,
)
from storywink.domain.enums import BookStatus, JobStep
from storywink.domain.progress import BookProgress, QueueProgress

SEED_FIELDS = {"status", "storyGeneration", "illustrations"}


def progress(queue: QueueProgress | None) -> dict:
    return BookProgress(
        status=BookStatus.GENERATING,
        story_generation={"started": False, "completed": False},
        illustrations={"total": 3, "completed": 0, "failed": 0, "in_progress": 0},
        queue=queue,
    ).model_dump(by_alias=True, mode="json")


def test_a_book_waits_for_the_step_its_running_status_needs():
    assert WAITING_STEP == {BookStatus.GENERATING: JobStep.STORY, BookStatus.ILLUSTRATING: JobStep.ILLUSTRATION}


def test_the_first_book_in_line_is_position_one():
    assert queue_progress(books_ahead=0, tasks_ahead=0, slots=5, task_seconds=30).position == 1


def test_position_counts_the_waiting_books_ahead_in_the_same_line():
    assert queue_progress(books_ahead=3, tasks_ahead=3, slots=5, task_seconds=30).position == 4


def test_premium_books_are_served_by_their_own_lines_slots():
    story = StepCapacity(standard=7, premium=3, default_task_seconds=30)

    assert (story.slots("standard"), story.slots("premium")) == (7, 3)


@pytest.mark.parametrize(
    ("tasks_ahead", "slots", "expected"),
    [(0, 5, 30), (4, 5, 30), (5, 5, 60), (9, 5, 60), (10, 5, 90), (0, 1, 30), (2, 1, 90)],
)
def test_the_estimate_is_one_task_duration_per_full_round_of_the_lines_slots(tasks_ahead, slots, expected):
    assert estimated_start_seconds(tasks_ahead, slots, task_seconds=30) == expected


def test_the_estimate_rounds_up_to_whole_seconds():
    assert estimated_start_seconds(0, 4, task_seconds=0.4) == 1


def test_an_illustrating_book_is_behind_the_pages_each_book_ahead_has_queued():
    # The Map sends up to 4 pages of a book at once: two 6-page books queue 4 each, a 2-page book 2.
    assert pages_queued({6: 2, 2: 1}, pages_in_parallel=4) == 10


def test_an_illustrating_books_estimate_counts_pages_but_its_position_counts_books():
    queue = queue_progress(books_ahead=3, tasks_ahead=pages_queued({6: 2, 2: 1}, 4), slots=4, task_seconds=40)

    assert queue == QueueProgress(position=4, estimated_start_seconds=3 * 40)  # page 11 starts in round 3


def test_a_book_that_is_not_waiting_has_exactly_the_seeds_progress_fields():
    assert set(progress(None)) == SEED_FIELDS


def test_a_waiting_book_adds_its_place_in_line():
    shown = progress(QueueProgress(position=2, estimated_start_seconds=60))

    assert set(shown) == SEED_FIELDS | {"queue"}
    assert shown["queue"] == {"position": 2, "estimatedStartSeconds": 60}
