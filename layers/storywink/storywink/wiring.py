"""Builds what the functions depend on, once per container (a Lambda execution environment).

`container()` validates the settings on first use — a handler module calls it at import, so a bad
value fails the cold start — and every dependency below is built on first use and kept for the
container's life: the database (one small pool), the AWS clients, the media store, the AI providers
(behind fault injection when the settings ask for it), the step runner, the feature flags, the
publishers that hear about committed status events, and the capacity a waiting book's start is
estimated from. Handlers read what they need from here and pass it on; nothing below them looks
anything up by itself.

The local stack and the tests replace the container with `use_container(...)`; the local stack's faithful
mode gives each simulated Lambda container (a worker thread) its own with `container_for_thread(...)`.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from storywink.aws import AwsClients
from storywink.config import Settings, load_settings
from storywink.observability import trace_database

# Each dependency imports what it is built from where it is built: a function pays at its cold start
# only for what it uses (no SQLAlchemy without a database, no Pillow or fpdf without a step that draws
# or prints, no AI SDK but the configured provider's).
if TYPE_CHECKING:
    from storywink.auth.verifier import TokenVerifier
    from storywink.db.engine import Database
    from storywink.db.readiness import DatabaseReadiness
    from storywink.domain.admission import Capacity
    from storywink.flags import FlagStore
    from storywink.maintenance.job import Maintenance
    from storywink.pipeline.callbacks import TaskCallbacks
    from storywink.pipeline.runner import StepRunner
    from storywink.pipeline.sqs_batch import Redelivery
    from storywink.printing.book import PrintBook
    from storywink.privacy.deletion import AccountDeleter
    from storywink.privacy.directory import UserDirectory
    from storywink.privacy.export import ExportBuilder
    from storywink.privacy.jobs import JobQueue
    from storywink.privacy.sweep import AccountSweep
    from storywink.providers.base import IllustrationProvider, StoryProvider
    from storywink.realtime.connections import ConnectionStore
    from storywink.realtime.fanout import FanoutEnqueuer
    from storywink.realtime.live import LiveProgress
    from storywink.realtime.sse import BookEventWaiter
    from storywink.services.events import Publisher
    from storywink.services.generation import Generation
    from storywink.services.scheduled_starts import GenerationScheduler
    from storywink.storage.media import MediaStore


class Container:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.aws = AwsClients(settings)

    # ---------------------------------------------------------------- database
    @cached_property
    def database(self) -> Database:
        from storywink.db.engine import Database
        from storywink.services.admission import CAPACITY
        from storywink.services.events import PUBLISHERS

        trace_database()
        # Every session it makes shares the publishers (committed status events go to them) and the
        # capacity a waiting book's estimate is computed from.
        return Database(self.settings, session_info={PUBLISHERS: self.publishers, CAPACITY: capacity(self.settings)})

    @cached_property
    def readiness(self) -> DatabaseReadiness:
        from storywink.db.readiness import DatabaseReadiness

        return DatabaseReadiness(self.database, self.settings.readiness_cache_seconds)

    @cached_property
    def publishers(self) -> list[Publisher]:
        """What hears about each committed status event: this container's SSE streams, the push fan-out,
        then the book outcome metrics."""
        from storywink.services.book_metrics import BookOutcomeMetrics

        publishers: list[Publisher] = [self.book_event_waiter]
        if self.fanout_enqueuer is not None:
            publishers.append(self.fanout_enqueuer)
        publishers.append(BookOutcomeMetrics(lambda: self.database))
        return publishers

    # ---------------------------------------------------------------- storage and providers
    @cached_property
    def media(self) -> MediaStore:
        from storywink.faults import media_with_faults
        from storywink.storage.cdn import media_urls
        from storywink.storage.media import MediaStore

        s3 = self.aws.on_first_use("s3")
        store = MediaStore(
            self.settings.bucket_name,
            s3,
            urls=media_urls(self.settings, s3),
            window_seconds=self.settings.media_url_window_seconds,
        )
        return media_with_faults(store, self._crashes)

    @cached_property
    def story_provider(self) -> StoryProvider:
        from storywink.faults import story_provider_with_faults
        from storywink.providers.registry import build_story_provider

        return story_provider_with_faults(build_story_provider(self.settings), self.settings, self._crashes)

    @cached_property
    def illustration_provider(self) -> IllustrationProvider:
        from storywink.faults import illustration_provider_with_faults
        from storywink.providers.registry import build_illustration_provider

        return illustration_provider_with_faults(build_illustration_provider(self.settings), self.settings)

    @cached_property
    def pdf_renderer(self) -> Callable[[PrintBook], bytes]:
        if self.settings.pdf_renderer == "simulated":
            from storywink.providers.simulated import SimulatedPdfRenderer

            return SimulatedPdfRenderer(self.settings)
        from storywink.printing.book_pdf import render_book_pdf  # fpdf only where PDFs are made

        return render_book_pdf

    @cached_property
    def _crashes(self) -> Any:
        from storywink.faults import crash_injector

        return crash_injector(self.settings)

    # ---------------------------------------------------------------- pipeline
    @cached_property
    def callbacks(self) -> TaskCallbacks:
        from storywink.pipeline.callbacks import TaskCallbacks

        return TaskCallbacks(self.aws.on_first_use("stepfunctions"))

    @cached_property
    def step_runner(self) -> StepRunner:
        from storywink.pipeline.jobs import JobLedger
        from storywink.pipeline.runner import StepRunner

        return StepRunner(
            self.database,
            JobLedger(self.settings.job_lease_seconds),
            self.callbacks,
            renew_seconds=self.settings.job_lease_renew_seconds,
        )

    @cached_property
    def redelivery(self) -> Redelivery:
        from storywink.pipeline.sqs_batch import Redelivery

        return Redelivery(
            self.aws.on_first_use("sqs"),
            crash_seconds=self.settings.crash_redelivery_seconds,
            in_flight_seconds=math.ceil(self.settings.job_lease_seconds),
        )

    # ---------------------------------------------------------------- API and live progress
    @cached_property
    def generation(self) -> Generation:
        from storywink.services.generation import Generation

        return Generation(self.aws("stepfunctions"), self.settings.state_machine_arn, self.flags)

    @cached_property
    def generation_scheduler(self) -> GenerationScheduler:
        from storywink.services.scheduled_starts import GenerationScheduler

        return GenerationScheduler(self.aws.on_first_use("scheduler"), self.settings)

    @cached_property
    def verifier(self) -> TokenVerifier:
        from storywink.auth.verifier import TokenVerifier

        return TokenVerifier.from_settings(self.settings)

    @cached_property
    def flags(self) -> FlagStore:
        from storywink.flags import FlagStore

        return FlagStore.from_settings(self.settings)

    @cached_property
    def book_event_waiter(self) -> BookEventWaiter:
        """Wakes this container's SSE streams when a status event commits here."""
        from storywink.realtime.sse import BookEventWaiter

        return BookEventWaiter()

    @cached_property
    def fanout_enqueuer(self) -> FanoutEnqueuer | None:
        """Hands each committed status change to the push fan-out queue, when this function is told its URL."""
        queue_url = self.settings.push_fanout_queue_url
        if queue_url is None:
            return None
        from storywink.realtime.fanout import ENQUEUE_CLIENT_CONFIG, FanoutEnqueuer

        return FanoutEnqueuer(self.aws.on_first_use("sqs", ENQUEUE_CLIENT_CONFIG), queue_url)

    @cached_property
    def connections(self) -> ConnectionStore | None:
        """WebSocket connections and their subscriptions, when this function is told their table."""
        if not self.settings.connections_table:
            return None
        from storywink.realtime.connections import ConnectionStore

        table = self.aws.resource("dynamodb").Table(self.settings.connections_table)
        return ConnectionStore(table, self.settings.connection_ttl_seconds)

    @cached_property
    def live(self) -> LiveProgress | None:
        """Subscriptions and pushes, when this function is told where the connections live."""
        settings = self.settings
        if self.connections is None or not settings.websocket_endpoint:
            return None
        from storywink.realtime.gateway import ConnectionGateway, management_client
        from storywink.realtime.live import LiveProgress

        return LiveProgress(
            self.connections,
            ConnectionGateway(management_client(settings.websocket_endpoint, settings.push_timeout_seconds)),
            self.database,
            self.flags,
            self.fanout_enqueuer,
            stall_seconds=settings.push_stall_seconds,
            max_subscriptions=settings.ws_max_subscriptions_per_user,
        )

    # ---------------------------------------------------------------- privacy: account deletion and export
    @cached_property
    def user_directory(self) -> UserDirectory | None:
        """Cognito's user pool, when this function is told its id (the local stack keeps no user directory)."""
        if self.settings.user_pool_id is None:
            return None
        from storywink.privacy.directory import UserDirectory

        return UserDirectory(self.aws.on_first_use("cognito-idp"), self.settings.user_pool_id)

    @cached_property
    def deletion_queue(self) -> JobQueue | None:
        return self._job_queue(self.settings.account_deletion_queue_url)

    @cached_property
    def export_queue(self) -> JobQueue | None:
        return self._job_queue(self.settings.export_queue_url)

    def _job_queue(self, queue_url: str | None) -> JobQueue | None:
        if queue_url is None:
            return None
        from storywink.privacy.jobs import JobQueue

        return JobQueue(self.aws.on_first_use("sqs"), queue_url)

    def require_queue(self, queue: JobQueue | None, variable: str) -> JobQueue:
        if queue is None:
            raise RuntimeError(f"{variable} must be set for this function")
        return queue

    @cached_property
    def account_deleter(self) -> AccountDeleter:
        from storywink.privacy.deletion import AccountDeleter

        settings = self.settings
        gateway = None
        if settings.websocket_endpoint:
            from storywink.realtime.gateway import ConnectionGateway, management_client

            gateway = ConnectionGateway(management_client(settings.websocket_endpoint, settings.push_timeout_seconds))
        return AccountDeleter(
            self.database,
            self.media,
            self.aws.on_first_use("stepfunctions"),
            self.require_queue(self.deletion_queue, "ACCOUNT_DELETION_QUEUE_URL"),
            directory=self.user_directory,
            connections=self.connections,
            gateway=gateway,
            books_per_message=settings.account_deletion_books_per_message,
            settle_seconds=settings.account_deletion_settle_seconds,
        )

    @cached_property
    def export_builder(self) -> ExportBuilder:
        from storywink.privacy.export import ExportBuilder

        return ExportBuilder(self.database, self.media, part_bytes=self.settings.export_part_bytes)

    @cached_property
    def account_sweep(self) -> AccountSweep:
        from storywink.privacy.sweep import AccountSweep

        settings = self.settings
        return AccountSweep(
            self.database,
            self.user_directory,
            self.require_queue(self.deletion_queue, "ACCOUNT_DELETION_QUEUE_URL"),
            users_per_run=settings.account_sweep_users_per_run,
            recheck_seconds=settings.account_sweep_recheck_seconds,
            resend_seconds=settings.account_deletion_resend_seconds,
            tombstone_seconds=settings.account_tombstone_seconds,
        )

    # ---------------------------------------------------------------- maintenance
    @cached_property
    def maintenance(self) -> Maintenance:
        from storywink.maintenance.job import Maintenance, windows_from_days
        from storywink.maintenance.media_sweep import MediaSweep
        from storywink.maintenance.stuck_books import StuckBooks

        settings = self.settings
        return Maintenance(
            self.database,
            StuckBooks(self.database, self.generation, books_per_run=settings.stuck_books_per_run),
            MediaSweep(
                self.database,
                self.media,
                grace=timedelta(hours=settings.media_orphan_grace_hours),
                objects_per_run=settings.media_sweep_objects_per_run,
            ),
            windows=windows_from_days(
                settings.event_retention_days,
                settings.job_run_retention_days,
                settings.idempotency_retention_days,
                settings.usage_counter_retention_days,
            ),
            batch_rows=settings.retention_batch_rows,
        )

    def require_connections(self) -> ConnectionStore:
        if self.connections is None:
            raise RuntimeError("CONNECTIONS_TABLE must be set for the WebSocket API")
        return self.connections

    def require_live(self) -> LiveProgress:
        if self.live is None:
            raise RuntimeError("CONNECTIONS_TABLE and WEBSOCKET_ENDPOINT must be set for the WebSocket API")
        return self.live

    def warm_up(self) -> None:
        """Open what a first invocation would (a database connection, the clients the steps use)."""
        with self.database.engine.connect():
            pass
        for service in ("sqs", "s3", "stepfunctions"):
            self.aws(service)

    def close(self) -> None:
        if "database" in self.__dict__:
            self.database.dispose()


def capacity(settings: Settings) -> Capacity:
    from storywink.domain.admission import Capacity, StepCapacity

    return Capacity(
        story=StepCapacity(
            standard=settings.story_concurrency,
            premium=settings.priority_story_concurrency,
            default_task_seconds=settings.story_seconds_per_request,
        ),
        illustration=StepCapacity(
            standard=settings.illustration_concurrency,
            premium=settings.priority_illustration_concurrency,
            default_task_seconds=settings.illustration_seconds_per_request,
        ),
        pages_in_parallel=settings.illustration_pages_in_parallel,
    )


_container: Container | None = None
_lock = threading.Lock()
_thread = threading.local()


def container() -> Container:
    """This container's dependencies, built on the first call."""
    global _container
    own = getattr(_thread, "container", None)
    if own is not None:
        return own
    with _lock:
        if _container is None:
            _container = Container(load_settings())
        return _container


@contextmanager
def container_for_thread(own: Container) -> Iterator[Container]:
    """While inside, this thread's functions use ``own`` (one simulated Lambda container per worker thread)."""
    previous = getattr(_thread, "container", None)
    _thread.container = own
    try:
        yield own
    finally:
        _thread.container = previous


def use_container(replacement: Container | None) -> None:
    """Put another container in place (the local stack at start, tests); None builds afresh on next use."""
    global _container
    with _lock:
        previous, _container = _container, replacement
    if previous is not None and previous is not replacement:
        previous.close()
