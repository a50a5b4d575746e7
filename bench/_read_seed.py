"""A large, lived-in database for bench/read_scale.py, written with COPY (no ORM, no INSERT per row).

Every user's books are spread over the last six months; each book has 12 pages (a photo asset each) and
the events and job runs its status implies: a finished book has its story run, one illustration run per
page (a few retried), its finalize and PDF runs, and an event per step; a draft has neither; a book in
progress is recent and may be waiting in line. A few "heavy" users hold well over 50 library pages of
books. The rows keep every constraint of the schema: foreign keys are checked as they are copied.
"""

from __future__ import annotations

import json
import multiprocessing
import random
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, text

from storywink.storage import keys

PAGES = 12
HEAVY_BOOKS = 1_050  # 52.5 library pages of the default 20
DAYS = 180
BOOKS_PER_COPY = 5_000
LINES_PER_MESSAGE = 2_000
# Status mix of a library (the books in progress are recent and few).
STATUSES = {
    "COMPLETED": 0.72,
    "DRAFT": 0.11,
    "PARTIAL": 0.05,
    "STORY_READY": 0.05,
    "FAILED": 0.04,
    "GENERATING": 0.015,
    "ILLUSTRATING": 0.015,
}
STYLES = ("watercolor", "cartoon", "pencil-sketch")
NAMES = ("Mia", "Leo", "Zoë", "Noah", "Ava", "Omar", "Ines", "Kai", "Lena", "Theo", "Priya", "Sam")
THEMES = ("space", "the seaside", "a birthday", "the zoo", "a rainy day", "grandma's garden", None)
PLACES = ("the garden", "the beach", "the kitchen", "the park", "grandpa's boat", "the forest path", "the big bed")
THINGS = ("a red kite", "a sleepy cat", "a stack of pancakes", "a muddy puddle", "a paper crown", "a tiny snail")
FEELINGS = ("giggled", "gasped", "whispered a secret", "danced in circles", "held on tight", "smiled from ear to ear")
SIZES = ((1600, 1200), (1200, 1600), (2048, 1536))
PROVIDER = "openai"
ARN = "arn:aws:states:us-east-1:000000000000:execution:storywink-local-BookGeneration"
NULL = "\\N"
# A random UUID with the version 4 and variant bits in place.
UUID_CLEAR = ~((0xF << 76) | (0x3 << 62)) & (2**128 - 1)
UUID_SET = (0x4 << 76) | (0x2 << 62)

COLUMNS = {
    "users": ("id", "email", "plan", "created_at", "updated_at"),
    "books": (
        "id", "owner_id", "title", "child_name", "art_style", "tone", "theme", "excitement_element", "auto_illustrate",
        "status", "status_reason", "prompt_tokens", "completion_tokens", "pdf_key", "generation_attempt", "execution_arn",
        "last_event_seq", "queue_priority", "queued_at", "created_at", "updated_at",
    ),
    "assets": (
        "id", "owner_id", "book_id", "s3_key", "thumbnail_key", "content_type", "size_bytes", "width", "height",
        "created_at", "updated_at",
    ),
    "pages": (
        "id", "book_id", "asset_id", "page_number", "is_title_page", "text", "text_confirmed", "illustration_notes",
        "illustration_key", "moderation_status", "moderation_reason", "created_at", "updated_at",
    ),
    "job_runs": (
        "id", "book_id", "page_id", "step", "attempt", "status", "task_token_hash", "message_id", "deliveries", "error_code",
        "error_message", "output", "provider", "prompt_tokens", "completion_tokens", "started_at", "finished_at",
        "duration_ms", "lease_owner", "lease_expires_at",
    ),
    "book_events": ("book_id", "seq", "type", "payload", "created_at"),
    "seed_covers": ("book_id", "asset_id"),
}


def line(*values: object) -> str:
    """One row of COPY's text format (the values hold no tab, newline or backslash)."""
    return "\t".join(NULL if v is None else "t" if v is True else "f" if v is False else str(v) for v in values) + "\n"


@dataclass
class Seeded:
    """What the bench needs to know of the seeded data."""

    users: dict[str, str] = field(default_factory=dict)  # user id -> plan
    heavy_users: list[str] = field(default_factory=list)
    books_of: dict[str, list[str]] = field(default_factory=dict)  # user id -> book ids
    counts: dict[str, int] = field(default_factory=dict)  # table -> rows


class Chunk:
    """The COPY lines of a run of books, by table."""

    def __init__(self) -> None:
        self.lines: dict[str, list[str]] = {table: [] for table in COLUMNS if table != "users"}


class BookMaker:
    def __init__(self, rng: random.Random, now: datetime) -> None:
        self.rng = rng
        self.now = now
        self.statuses, self.weights = list(STATUSES), list(STATUSES.values())
        self.texts = {name: [self._text(name) for _ in range(40)] for name in NAMES}

    def uid(self) -> str:
        h = f"{self.rng.getrandbits(128) & UUID_CLEAR | UUID_SET:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def _text(self, child: str) -> str:
        r = self.rng
        return (
            f"{child} went to {r.choice(PLACES)} and found {r.choice(THINGS)}. "
            f"{child} {r.choice(FEELINGS)}, because nobody had ever seen {r.choice(THINGS)} "
            f"sitting right next to {r.choice(THINGS)} before. "
            f"Then it was time to go home, past {r.choice(PLACES)}, humming all the way."
        )

    def book(self, owner: str, chunk: Chunk) -> str:
        r = self.rng
        status = r.choices(self.statuses, self.weights)[0]
        in_progress = status in ("GENERATING", "ILLUSTRATING")
        age = timedelta(minutes=r.uniform(1, 90)) if in_progress else timedelta(days=r.uniform(0, DAYS))
        created = self.now - age
        book_id, child = self.uid(), r.choice(NAMES)
        started = created + min(age / 2, timedelta(minutes=r.uniform(3, 240)))
        pages = self._pages(book_id, owner, child, status, created, started, chunk)
        history = _History(self, book_id, status, started, pages, chunk)
        history.build()
        generated = status != "DRAFT"
        queued = history.clock if in_progress and not history.running else None
        tokens = (r.randint(900, 1600), r.randint(600, 1200)) if generated and status != "FAILED" else (0, 0)
        reason = {"PARTIAL": "Illustration failed on some pages", "FAILED": "Story generation failed"}.get(status)
        chunk.lines["books"].append(line(
            book_id, owner, f"{child} and {r.choice(THINGS)}", child, r.choice(STYLES), r.choice(("gentle", "silly", None)),
            r.choice(THEMES), r.choice((None, r.choice(THINGS))), status != "STORY_READY", status, reason, *tokens,
            keys.pdf_key(book_id) if status in ("COMPLETED", "PARTIAL") else None, int(generated),
            f"{ARN}:{book_id}-1" if generated else None, history.seq, "premium" if r.random() < 0.1 else "standard",
            queued.isoformat() if queued else None, created.isoformat(), max(created, history.clock).isoformat(),
        ))
        chunk.lines["seed_covers"].append(line(book_id, pages[0][2]))
        return book_id

    def _pages(
        self, book_id: str, owner: str, child: str, status: str, created: datetime, started: datetime, chunk: Chunk
    ) -> list[tuple[str, str, str]]:
        """The book's pages as (page id, moderation status, asset id), in order."""
        r = self.rng
        has_text = status not in ("DRAFT", "GENERATING", "FAILED")
        illustrated = {"COMPLETED": PAGES, "PARTIAL": PAGES, "ILLUSTRATING": r.randint(0, PAGES - 1)}.get(status, 0)
        failed = set(r.sample(range(PAGES), r.randint(1, 3))) if status == "PARTIAL" else set()
        texts = self.texts[child]
        edited = started.isoformat()
        pages = []
        for index in range(PAGES):
            asset_id, page_id = self.uid(), self.uid()
            uploaded = (created + timedelta(seconds=(index + 1) * r.uniform(2, 20))).isoformat()
            width, height = r.choice(SIZES)
            chunk.lines["assets"].append(line(
                asset_id, owner, book_id, keys.photo_key(book_id, asset_id, "jpg"), keys.thumbnail_key(book_id, asset_id),
                "image/jpeg", r.randint(250_000, 4_500_000), width, height, uploaded, uploaded,
            ))
            moderation = "PENDING"
            if index < illustrated:
                moderation = r.choice(("FAILED", "FLAGGED")) if index in failed else "OK"
            chunk.lines["pages"].append(line(
                page_id, book_id, asset_id, index + 1, index == 0, r.choice(texts) if has_text else None,
                has_text and r.random() < 0.3, f"{child} in {r.choice(PLACES)}" if has_text else None,
                keys.illustration_key(book_id, page_id) if moderation == "OK" else None, moderation,
                "The illustration did not pass review" if moderation == "FLAGGED" else None,
                uploaded, edited if has_text else uploaded,
            ))
            pages.append((page_id, moderation, asset_id))
        return pages


class _History:
    """The events and job runs behind one book's status, in order; ``clock`` ends at its last change."""

    def __init__(self, maker: BookMaker, book_id: str, status: str, started: datetime, pages: list, chunk: Chunk) -> None:
        self.maker, self.rng, self.chunk = maker, maker.rng, chunk
        self.book_id, self.status, self.clock, self.pages = book_id, status, started, pages
        self.seq = 0
        self.running = False

    def event(self, kind: str, payload: dict) -> None:
        self.seq += 1
        self.chunk.lines["book_events"].append(line(self.book_id, self.seq, kind, json.dumps(payload), self.clock.isoformat()))

    def job(self, step: str, status: str, *, page_id: str | None = None, attempt: int = 1, seconds: float = 0) -> None:
        r, started = self.rng, self.clock
        running = status == "RUNNING"
        self.running = self.running or running
        finished = None if running else started + timedelta(seconds=seconds)
        failed = status in ("FAILED", "DEAD_LETTERED")
        tokens = (r.randint(900, 1600), r.randint(600, 1200)) if step == "STORY" and status == "SUCCEEDED" else (0, 0)
        self.chunk.lines["job_runs"].append(line(
            self.maker.uid(), self.book_id, page_id, step, attempt, status, f"{r.getrandbits(256):064x}", self.maker.uid(), 1,
            "PROVIDER_TIMEOUT" if failed else None, "The provider did not answer in time" if failed else None,
            '{"ok": true}' if status == "SUCCEEDED" else None, PROVIDER, *tokens, started.isoformat(),
            finished.isoformat() if finished else None, None if running else int(seconds * 1000),
            self.maker.uid() if running else None, (started + timedelta(minutes=5)).isoformat() if running else None,
        ))
        if finished:
            self.clock = finished

    def build(self) -> None:
        r, status = self.rng, self.status
        if status == "DRAFT":
            return
        self.event("generation.started", {"status": "GENERATING"})
        if status == "GENERATING":
            if r.random() < 0.5:
                self.job("STORY", "RUNNING")
            return
        if status == "FAILED":
            for attempt in (1, 2, 3):
                self.job("STORY", "FAILED", attempt=attempt, seconds=r.uniform(5, 30))
            self.event("book.failed", {"status": "FAILED", "reason": "Story generation failed"})
            return
        self.job("STORY", "SUCCEEDED", seconds=r.uniform(10, 30))
        self.event("story.completed", {"status": "STORY_READY"})
        if status == "STORY_READY":
            return
        self.clock += timedelta(seconds=r.uniform(1, 600))
        self.event("illustration.started", {"status": "ILLUSTRATING"})
        for page_id, moderation, _ in self.pages:
            if moderation == "PENDING":
                if r.random() < 0.2:
                    self.job("ILLUSTRATION", "RUNNING", page_id=page_id)
                continue
            attempt = 1
            if moderation == "FAILED" or r.random() < 0.05:
                self.job("ILLUSTRATION", "FAILED", page_id=page_id, seconds=r.uniform(5, 25))
                attempt = 2
            final = "DEAD_LETTERED" if moderation == "FAILED" else "SUCCEEDED"
            self.job("ILLUSTRATION", final, page_id=page_id, attempt=attempt, seconds=r.uniform(5, 25))
            kind = {"OK": "page.illustrated", "FLAGGED": "page.flagged", "FAILED": "page.failed"}[moderation]
            self.event(kind, {"pageId": page_id, "pageStatus": moderation})
        if status == "ILLUSTRATING":
            return
        self.job("FINALIZE", "SUCCEEDED", seconds=r.uniform(0.2, 2))
        self.job("PDF", "SUCCEEDED", seconds=r.uniform(2, 8))
        self.event("book.finished", {"status": status})


def _messages(lines: list[str]) -> Iterator[str]:
    for start in range(0, len(lines), LINES_PER_MESSAGE):
        yield "".join(lines[start : start + LINES_PER_MESSAGE])


def _copy(cursor, table: str, lines: list[str]) -> None:
    if lines:
        cursor.execute(f"COPY {table} ({', '.join(COLUMNS[table])}) FROM STDIN", stream=_messages(lines))


def make_chunk(seed_value: int, index: int, now: datetime, owners: list[str]) -> tuple[list[str], dict[str, list[str]]]:
    """The books of ``owners`` (one each, in order) with their rows: (book ids, COPY lines by table)."""
    maker = BookMaker(random.Random(f"{seed_value}/{index}"), now)
    chunk = Chunk()
    return [maker.book(owner, chunk) for owner in owners], chunk.lines


def seed(engine: Engine, books: int, users: int, seed_value: int = 1, progress: Callable[[str], None] = print) -> Seeded:
    """Write ``books`` books across ``users`` users (a few of them heavy), then VACUUM ANALYZE. The rows of
    the next run of books are made in a second process while the server copies the current one."""
    rng = random.Random(seed_value)
    now = datetime.now(UTC)
    heavy = max(1, min(5, books // 20_000))
    if books < heavy * HEAVY_BOOKS + (users - heavy):
        raise ValueError(f"{books} books are too few for {heavy} heavy user(s) of {HEAVY_BOOKS} and {users - heavy} others")
    seeded = Seeded(heavy_users=[f"heavy-{i}" for i in range(1, heavy + 1)])
    others = [f"user-{i:06d}" for i in range(1, users - heavy + 1)]
    for user in seeded.heavy_users + others:
        seeded.users[user] = "premium" if rng.random() < 0.1 else "free"
        seeded.books_of[user] = []
    # Every other user has a book at least; the rest fall where they may (a few books each, some many).
    owners = seeded.heavy_users * HEAVY_BOOKS + others
    owners += [rng.choice(others) for _ in range(books - len(owners))]
    rng.shuffle(owners)
    runs = [owners[start : start + BOOKS_PER_COPY] for start in range(0, books, BOOKS_PER_COPY)]
    joined = (now - timedelta(days=DAYS + 1)).isoformat()
    counts = dict.fromkeys(("users", "books", "assets", "pages", "job_runs", "book_events"), 0)
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("SET synchronous_commit = off")
        cursor.execute("CREATE TEMPORARY TABLE seed_covers (book_id uuid, asset_id uuid) ON COMMIT DELETE ROWS")
        _copy(cursor, "users", [line(user, f"{user}@example.test", plan, joined, joined) for user, plan in seeded.users.items()])
        counts["users"] = len(seeded.users)
        # spawn, not fork: this process runs the local stack's threads.
        with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as maker:
            upcoming = maker.submit(make_chunk, seed_value, 0, now, runs[0])
            for index, run in enumerate(runs):
                book_ids, lines_by_table = upcoming.result()
                if index + 1 < len(runs):
                    upcoming = maker.submit(make_chunk, seed_value, index + 1, now, runs[index + 1])
                for owner, book_id in zip(run, book_ids, strict=True):
                    seeded.books_of[owner].append(book_id)
                # books <-> assets point at each other: the books first, their covers once the assets exist.
                for table, lines in lines_by_table.items():
                    _copy(cursor, table, lines)
                    counts[table] = counts.get(table, 0) + len(lines)
                cursor.execute("UPDATE books SET cover_asset_id = c.asset_id FROM seed_covers c WHERE books.id = c.book_id")
                raw.commit()
                progress(f"  {counts['books']:,} of {books:,} books")
    finally:
        raw.close()
    # As autovacuum would have by now: statistics for the planner, a visibility map for index-only scans.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
    counts.pop("seed_covers")
    seeded.counts = counts
    return seeded
