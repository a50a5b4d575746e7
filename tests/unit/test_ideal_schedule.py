"""The bench's ideal: a work-conserving, first-come-first-served schedule with no overhead (bench/_ideal.py)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from _ideal import IdealBook, ideal_finish_times

CAPACITY = {"story": 1, "illustration": 2, "priority-story": 1, "priority-illustration": 1}


def book(book_id, pages, arrival=0.0, story=10.0, premium=False, finish_work=0.0):
    return IdealBook(book_id, arrival, premium, story, pages, finish_work)


def test_a_lone_book_runs_its_pages_on_every_free_slot_up_to_its_lanes():
    finishes = ideal_finish_times([book("a", [5, 5, 5, 5], finish_work=3)], CAPACITY, map_concurrency=4)

    assert finishes == {"a": 10 + 5 + 5 + 3}  # two slots: two rounds of two pages


def test_a_book_never_runs_more_pages_at_once_than_its_lanes():
    finishes = ideal_finish_times([book("a", [5, 5, 5, 5])], {**CAPACITY, "illustration": 4}, map_concurrency=1)

    assert finishes == {"a": 10 + 20}


def test_a_slot_freed_by_one_book_goes_to_another_books_waiting_page():
    # "a" holds its one lane; the second slot serves "b" as soon as b's story is done, never idling for a.
    books = [book("a", [30, 30], story=10), book("b", [5, 5], story=10)]

    finishes = ideal_finish_times(books, CAPACITY, map_concurrency=1)

    assert finishes == {"a": 10 + 60, "b": 20 + 10}


def test_pages_start_in_the_order_they_became_ready():
    books = [book("a", [10, 10, 10], story=1), book("b", [10], story=1)]

    finishes = ideal_finish_times(books, {**CAPACITY, "illustration": 1}, map_concurrency=3)

    # a's three pages were ready at 1, b's at 2 (the one story slot): b waits behind all three of a's.
    assert finishes == {"a": 1 + 30, "b": 1 + 30 + 10}


def test_premium_books_use_their_own_capacity_and_times_count_from_arrival():
    books = [book("a", [10], story=5), book("p", [10], story=5, premium=True, arrival=3.0)]

    finishes = ideal_finish_times(books, CAPACITY, map_concurrency=4)

    assert finishes == {"a": 15, "p": pytest.approx(15)}
