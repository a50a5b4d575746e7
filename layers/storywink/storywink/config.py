"""Typed settings: the only reader of the environment outside the local stack and the benches.

`load_settings()` reads and validates every variable once, when a container starts (the wiring calls
it); a bad value fails that start with a message naming the variable, never a request later. Each field's
alias is its variable's name. `Settings(...)` reads the environment beneath what it is given, as a
pydantic-settings model does (names in any case, defaults validated), without that library's import at
every cold start.
"""

from __future__ import annotations

import os
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    FilePath,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

ProviderName = Literal["offline", "openai", "simulated"]
ChaosErrorKind = Literal["transient", "content-policy", "permanent"]
LatencySeconds = tuple[float, float]  # "low,high" in the environment
CrashPoint = Literal["story.after_provider", "illustration.after_upload", "pdf.after_upload"]


class ConfigurationError(ValueError):
    """The environment does not describe a runnable function."""


def _items(raw: str) -> frozenset[str]:
    return frozenset(item.strip() for item in raw.split(",") if item.strip())


class Settings(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True, validate_default=True)

    environment: str = Field("local", alias="STORYWINK_ENV")
    # Set by the Lambda runtime: a function's own name (unset locally).
    lambda_function_name: str | None = Field(None, alias="AWS_LAMBDA_FUNCTION_NAME")
    # moto locally; boto3 reads it itself, S3 addressing needs to know it too.
    aws_endpoint_url: str | None = Field(None, alias="AWS_ENDPOINT_URL")

    # Database: DATABASE_URL wins; in the cloud a Secrets Manager secret holds the URL, or a user and password
    # as RDS keeps them: then DATABASE_HOST, _PORT and _NAME name the server, else the secret's fields do
    # (the RDS-managed master-user secret has none); the port is 5432 unless either says otherwise.
    database_url: str | None = Field(None, alias="DATABASE_URL")
    database_secret_arn: str | None = Field(None, alias="DATABASE_SECRET_ARN")
    database_host: str | None = Field(None, alias="DATABASE_HOST")
    database_port: int | None = Field(None, ge=1, le=65_535, alias="DATABASE_PORT")
    database_name: str | None = Field(None, alias="DATABASE_NAME")
    # Reads that may lag a moment (the library, a book, its status) go to a reader: DATABASE_READ_URL, or
    # with a secret the same login at DATABASE_READ_HOST (the proxy's read-only endpoint). Unset: the
    # primary. A request whose Storywink-Consistency token is younger than READ_YOUR_WRITES_SECONDS
    # reads the primary (storywink.api.consistency).
    database_read_url: str | None = Field(None, alias="DATABASE_READ_URL")
    database_read_host: str | None = Field(None, alias="DATABASE_READ_HOST")
    read_your_writes_seconds: float = Field(10.0, ge=0, alias="READ_YOUR_WRITES_SECONDS")
    # TCP connections verify the server's certificate and host name and never fall back to plaintext;
    # `disable` is allowed only for a server on this machine (storywink.db.tls). Unix sockets carry no
    # TLS in PostgreSQL. Blank is the default (the template declares it blank for sam local).
    database_tls: Literal["verify-full", "disable"] = Field("verify-full", alias="DATABASE_TLS")
    # Set by sam local in the container it runs a function in (never in the cloud).
    sam_local: bool = Field(False, alias="AWS_SAM_LOCAL")
    # The CA certificates trusted for it: the RDS bundle shipped in the package unless this names another.
    database_ca_file: FilePath | None = Field(None, alias="DATABASE_CA_FILE")
    # Connections per container: a Lambda container runs one invocation at a time and holds a connection
    # only for a short transaction, so one is enough (the system-wide bound is in the README).
    database_pool_size: int = Field(1, ge=1, alias="DATABASE_POOL_SIZE")
    database_max_overflow: int = Field(0, ge=0, alias="DATABASE_MAX_OVERFLOW")
    # A pooled connection idle this long is pinged before use (0: before every use); see storywink.db.engine.
    database_ping_after_idle_seconds: float = Field(5.0, ge=0, alias="DATABASE_PING_AFTER_IDLE_SECONDS")
    # Server-side limits every connection sets: no statement, lock wait or idle transaction outlives them.
    database_statement_timeout_ms: int = Field(15_000, ge=0, alias="DATABASE_STATEMENT_TIMEOUT_MS")
    database_lock_timeout_ms: int = Field(5_000, ge=0, alias="DATABASE_LOCK_TIMEOUT_MS")
    database_idle_in_transaction_timeout_ms: int = Field(30_000, ge=0, alias="DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS")

    # Storage
    bucket_name: str = Field("storywink-local-media", alias="MEDIA_BUCKET")
    upload_url_ttl_seconds: int = Field(900, ge=1, alias="UPLOAD_URL_TTL_SECONDS")
    download_url_ttl_seconds: int = Field(300, ge=1, alias="DOWNLOAD_URL_TTL_SECONDS")
    # Photos, thumbnails and illustrations (README: Media and the CDN): one URL per object per window of this
    # many seconds, valid one more window after it; responses embedding them may be cached to its end.
    # At most 3.5 days: a URL lives two windows and SigV4 presigned URLs seven days (urls.MAX_WINDOW_SECONDS).
    media_url_window_seconds: int = Field(3600, ge=60, le=302_400, alias="MEDIA_URL_WINDOW_SECONDS")
    # The CloudFront distribution in front of the bucket: its domain, the id of its key group's public key,
    # and the private key (PEM) that signs the URLs, given as is or as a Secrets Manager secret. Unset (the
    # local stack): S3 presigned GETs.
    media_cdn_domain: str | None = Field(None, alias="MEDIA_CDN_DOMAIN")
    media_cdn_key_id: str | None = Field(None, alias="MEDIA_CDN_KEY_ID")
    media_cdn_private_key: SecretStr | None = Field(None, alias="MEDIA_CDN_PRIVATE_KEY")
    media_cdn_private_key_secret_arn: str | None = Field(None, alias="MEDIA_CDN_PRIVATE_KEY_SECRET_ARN")

    # Book rules
    max_pages: int = Field(20, ge=1, alias="MAX_PAGES")
    max_photo_bytes: int = Field(15 * 1024 * 1024, ge=1, alias="MAX_PHOTO_BYTES")
    max_photo_pixels: int = Field(50_000_000, ge=1, alias="MAX_PHOTO_PIXELS")

    # Auth: tokens are verified against this JWKS (Cognito's in the cloud, a local file locally).
    jwks_url: str | None = Field(None, alias="AUTH_JWKS_URL")
    jwt_issuer: str = Field("storywink-local", alias="AUTH_ISSUER")
    jwt_audience: str = Field("storywink-api", alias="AUTH_AUDIENCE")
    jwt_algorithm: str = Field("RS256", alias="AUTH_ALGORITHM")
    admin_group: str = Field("admin", alias="AUTH_ADMIN_GROUP")
    # The user directory (Cognito's user pool): an account deletion removes its user there, and the account
    # sweep deletes the data of users gone from it. Unset (the local stack, whose issuer keeps no users):
    # neither happens.
    user_pool_id: str | None = Field(None, alias="USER_POOL_ID")

    # Privacy (README: Deleting an account, Exporting everything). The queues of the deletion and export jobs.
    account_deletion_queue_url: str | None = Field(None, alias="ACCOUNT_DELETION_QUEUE_URL")
    export_queue_url: str | None = Field(None, alias="EXPORT_QUEUE_URL")
    # Books one deletion message deletes before it hands the rest to a fresh message (bounded work per message).
    account_deletion_books_per_message: int = Field(10, ge=1, alias="ACCOUNT_DELETION_BOOKS_PER_MESSAGE")
    # The last pass runs this long after the last book went: longer than any step or export worker may still
    # be writing (their Lambda timeouts), so whatever such a worker wrote late is deleted too.
    account_deletion_settle_seconds: int = Field(900, ge=0, le=900, alias="ACCOUNT_DELETION_SETTLE_SECONDS")
    # A deletion whose message was sent longer ago than this and that has not finished gets a new message (from
    # a repeated DELETE or the sweep): the first was lost, or dead-lettered.
    account_deletion_resend_seconds: int = Field(1800, ge=1, alias="ACCOUNT_DELETION_RESEND_SECONDS")
    # How long a finished deletion's tombstone refuses the account's still-valid tokens (410), then goes.
    account_tombstone_seconds: int = Field(86_400, ge=1, alias="ACCOUNT_TOMBSTONE_SECONDS")
    # The sweep asks the directory about this many users per run, each at most once per recheck period.
    account_sweep_users_per_run: int = Field(200, ge=1, alias="ACCOUNT_SWEEP_USERS_PER_RUN")
    account_sweep_recheck_seconds: int = Field(86_400, ge=0, alias="ACCOUNT_SWEEP_RECHECK_SECONDS")
    # An export's zip lives this long (the bucket's lifecycle rule for exports/ says the same; a test holds
    # them together); one not built within the deadline reads FAILED.
    export_ttl_days: int = Field(7, ge=1, alias="EXPORT_TTL_DAYS")
    export_build_deadline_seconds: int = Field(3600, ge=60, alias="EXPORT_BUILD_DEADLINE_SECONDS")
    # The zip goes to S3 as a multipart upload of parts this large: the worker holds one part in memory.
    export_part_bytes: int = Field(8 * 1024 * 1024, ge=5 * 1024 * 1024, alias="EXPORT_PART_BYTES")

    # Retention (README: What is stored, and for how long), applied by the maintenance function every few
    # minutes: book events (whole months of partitions dropped, the straddling month's rows deleted), the job
    # runs of finished books (a message lives at most 14 days in SQS, so none can still need its run),
    # idempotency records (a repeat of a request later than this starts anew) and usage counters (the longest
    # window is a day, and the counting path drops a returning user's windows older than two days).
    event_retention_days: int = Field(180, ge=1, alias="EVENT_RETENTION_DAYS")
    job_run_retention_days: int = Field(365, ge=15, alias="JOB_RUN_RETENTION_DAYS")
    idempotency_retention_days: int = Field(2, ge=1, alias="IDEMPOTENCY_RETENTION_DAYS")
    usage_counter_retention_days: int = Field(2, ge=2, alias="USAGE_COUNTER_RETENTION_DAYS")
    # An object under books/ whose book (or, for a photo or thumbnail, whose asset) is gone, or an upload never
    # confirmed, is deleted once it is this old; the sweep lists at most this many objects per run.
    media_orphan_grace_hours: int = Field(24, ge=1, alias="MEDIA_ORPHAN_GRACE_HOURS")
    media_sweep_objects_per_run: int = Field(10_000, ge=1, alias="MEDIA_SWEEP_OBJECTS_PER_RUN")
    # Books marked running whose execution is checked per run (DescribeExecution each), resuming where the last
    # run stopped.
    stuck_books_per_run: int = Field(200, ge=1, alias="STUCK_BOOKS_PER_RUN")
    # Rows one retention statement deletes (each in its own short transaction).
    retention_batch_rows: int = Field(2_000, ge=1, alias="RETENTION_BATCH_ROWS")

    # Pipeline
    state_machine_arn: str | None = Field(None, alias="STATE_MACHINE_ARN")
    # Scheduled starts (POST /generate with startAt): the EventBridge Scheduler group the one-time schedules go
    # in, the function they invoke and the role they invoke it with; how far ahead a start may be asked for.
    schedule_group_name: str | None = Field(None, alias="SCHEDULE_GROUP_NAME")
    schedule_target_arn: str | None = Field(None, alias="SCHEDULE_TARGET_ARN")
    schedule_role_arn: str | None = Field(None, alias="SCHEDULE_ROLE_ARN")
    schedule_max_days: int = Field(30, ge=1, le=365, alias="SCHEDULE_MAX_DAYS")
    # Admin batches: the most books one batch may name or its filter may match, and how many of all batches'
    # books the batch worker starts per minute (its schedule's rate), so a batch never crowds out parents.
    batch_max_books: int = Field(500, ge=1, le=10_000, alias="BATCH_MAX_BOOKS")
    batch_books_per_minute: int = Field(10, ge=1, le=1000, alias="BATCH_BOOKS_PER_MINUTE")
    # A claimed task whose worker has not renewed its lease for this long is presumed dead; a redelivery
    # (or the sweeper) takes over. Workers renew it every quarter of this while they work.
    job_lease_seconds: float = Field(45, gt=0, alias="JOB_LEASE_SECONDS")
    # After a crash the record comes back this soon, not after the queue's whole visibility timeout.
    crash_redelivery_seconds: int = Field(10, ge=0, le=43_200, alias="CRASH_REDELIVERY_SECONDS")

    # Admission (README: Capacity and admission), as template.yaml sets the workers: concurrent story and
    # illustration tasks of the standard and the premium line (their queues' MaximumConcurrency), pages of
    # one book sent at once (the Map's MaxConcurrency), and a task's duration before there is history.
    story_concurrency: int = Field(7, ge=1, alias="STORY_CONCURRENCY")
    priority_story_concurrency: int = Field(3, ge=1, alias="PRIORITY_STORY_CONCURRENCY")
    illustration_concurrency: int = Field(14, ge=1, alias="ILLUSTRATION_CONCURRENCY")
    priority_illustration_concurrency: int = Field(6, ge=1, alias="PRIORITY_ILLUSTRATION_CONCURRENCY")
    illustration_pages_in_parallel: int = Field(4, ge=1, alias="ILLUSTRATION_MAX_CONCURRENCY")
    story_seconds_per_request: float = Field(30.0, gt=0, alias="STORY_SECONDS_PER_REQUEST")
    illustration_seconds_per_request: float = Field(40.0, gt=0, alias="ILLUSTRATION_SECONDS_PER_REQUEST")

    # {"story": {"dlq": url, "source": url}, ...}: the step dead-letter queues and where a redrive sends them.
    dead_letter_queues: str | None = Field(None, alias="DEAD_LETTER_QUEUES")

    # Live progress: WebSocket connections (DynamoDB) and the management API endpoint that pushes to them.
    connections_table: str | None = Field(None, alias="CONNECTIONS_TABLE")
    websocket_endpoint: str | None = Field(None, alias="WEBSOCKET_ENDPOINT")
    connection_ttl_seconds: int = Field(2 * 3600, ge=1, alias="CONNECTION_TTL_SECONDS")
    # What one user may hold open at once: WebSocket connections (a $connect beyond is refused with 429) and
    # subscriptions over all of them (a subscribe beyond gets a TOO_MANY_SUBSCRIPTIONS error frame).
    ws_max_connections_per_user: int = Field(5, ge=1, alias="WS_MAX_CONNECTIONS_PER_USER")
    ws_max_subscriptions_per_user: int = Field(20, ge=1, alias="WS_MAX_SUBSCRIPTIONS_PER_USER")
    # The FIFO queue a committed status change is handed to; the fan-out function pushes it to subscribers.
    push_fanout_queue_url: str | None = Field(None, alias="PUSH_FANOUT_QUEUE_URL")
    # One post_to_connection may take this long to connect and as long again to answer; it is not retried.
    push_timeout_seconds: float = Field(2.0, gt=0, le=10, alias="PUSH_TIMEOUT_SECONDS")
    # A subscriber whose post timed out is skipped this long, so it cannot slow its book's next pushes.
    push_stall_seconds: int = Field(60, ge=1, alias="PUSH_STALL_SECONDS")
    # SSE: heartbeat comment interval, and how long one response stays open (bounded under Lambda).
    sse_heartbeat_seconds: float = Field(15.0, gt=0, alias="SSE_HEARTBEAT_SECONDS")
    sse_window_seconds: float = Field(25.0, gt=0, alias="SSE_WINDOW_SECONDS")
    # Event streams one user may hold open at once (each holds a Lambda under API Gateway), and how long a
    # stream's slot stays taken without being renewed (a crashed stream frees its slot after this).
    sse_max_streams_per_user: int = Field(2, ge=1, alias="SSE_MAX_STREAMS_PER_USER")
    sse_stream_lease_seconds: int = Field(60, ge=5, alias="SSE_STREAM_LEASE_SECONDS")
    # /readyz asks the database at most this often per container (a probe may call it every second).
    readiness_cache_seconds: float = Field(5, ge=0, alias="READINESS_CACHE_SECONDS")

    # Feature flags: a local JSON file (the local stack), else an AppConfig profile, else every default.
    feature_flags_file: str | None = Field(None, alias="FEATURE_FLAGS_FILE")
    feature_flags_application: str | None = Field(None, alias="FEATURE_FLAGS_APPLICATION")
    feature_flags_environment: str | None = Field(None, alias="FEATURE_FLAGS_ENVIRONMENT")
    feature_flags_profile: str | None = Field(None, alias="FEATURE_FLAGS_PROFILE")

    # AI providers: offline needs no network and no key.
    story_provider: ProviderName = Field("offline", alias="STORY_PROVIDER")
    illustration_provider: ProviderName = Field("offline", alias="ILLUSTRATION_PROVIDER")

    # The simulated (latency-only) providers for load tests: latency ranges in seconds "low,high", a time
    # scale that multiplies every draw, and the seed of the draws.
    simulated_story_latency: LatencySeconds = Field((10.0, 30.0), alias="SIMULATED_STORY_LATENCY_SECONDS")
    simulated_illustration_latency: LatencySeconds = Field((5.0, 25.0), alias="SIMULATED_ILLUSTRATION_LATENCY_SECONDS")
    simulated_time_scale: float = Field(1.0, gt=0, alias="SIMULATED_TIME_SCALE")
    # The PDF step: fpdf renders for real; simulated takes this long per page (times the scale) instead.
    pdf_renderer: Literal["fpdf", "simulated"] = Field("fpdf", alias="PDF_RENDERER")
    simulated_pdf_seconds_per_page: float = Field(0.2, ge=0, alias="SIMULATED_PDF_SECONDS_PER_PAGE")
    simulated_seed: int = Field(0, alias="SIMULATED_SEED")

    # OpenAI (STORY_PROVIDER / ILLUSTRATION_PROVIDER=openai). The key: OPENAI_API_KEY, else the Secrets
    # Manager secret (the raw key or {"apiKey": ...}), else the SSM SecureString parameter.
    openai_api_key: SecretStr | None = Field(None, alias="OPENAI_API_KEY")
    openai_api_key_secret_arn: str | None = Field(None, alias="OPENAI_API_KEY_SECRET_ARN")
    openai_api_key_parameter: str | None = Field(None, alias="OPENAI_API_KEY_PARAMETER")
    openai_base_url: str | None = Field(None, alias="OPENAI_BASE_URL")
    openai_story_model: str = Field("gpt-4o", alias="OPENAI_STORY_MODEL")
    # gpt-image-1 was shut down on 2026-10-23; the SDK names the 2.5 models as its successors.
    openai_image_model: str = Field("gpt-image-2.5-sunburst", alias="OPENAI_IMAGE_MODEL")
    # Per request, below the workers' 300 s Lambda timeout; an image edit can take well over a minute.
    openai_timeout_seconds: float = Field(120.0, gt=0, alias="OPENAI_TIMEOUT_SECONDS")

    # Fault injection (local stack and tests; off unless set). See storywink.faults.
    chaos_failure_rate: float = Field(0.0, ge=0.0, le=1.0, alias="CHAOS_FAILURE_RATE")
    chaos_error_kind: ChaosErrorKind = Field("transient", alias="CHAOS_ERROR_KIND")
    chaos_latency_ms: int = Field(0, ge=0, alias="CHAOS_LATENCY_MS")
    chaos_seed: int = Field(0, alias="CHAOS_SEED")
    chaos_steps: str = Field("story,illustration", alias="CHAOS_STEPS")
    chaos_pages: str = Field("", alias="CHAOS_PAGES")
    chaos_transient_attempts: int | None = Field(None, ge=1, alias="CHAOS_TRANSIENT_ATTEMPTS")
    crash_at: CrashPoint | None = Field(None, alias="CRASH_AT")
    crash_times: int = Field(1, ge=0, alias="CRASH_TIMES")
    # raise: the worker sees the crash (an exception); kill: the container dies on the spot (no cleanup).
    crash_kind: Literal["raise", "kill"] = Field("raise", alias="CRASH_KIND")
    # With a rate, each side effect at the point crashes with this probability (a seeded draw per key and
    # call) instead of the first CRASH_TIMES per key.
    crash_rate: float | None = Field(None, ge=0.0, le=1.0, alias="CRASH_RATE")

    # Quotas and rate limits per plan (admins are exempt): changes (POST/PUT/PATCH/DELETE under /v1) and
    # reads (GET) per minute; generations (generate, illustrate, retry) and photos asked to upload per UTC day.
    rate_limit_free_per_minute: int = Field(60, ge=0, alias="RATE_LIMIT_FREE_PER_MINUTE")
    rate_limit_premium_per_minute: int = Field(240, ge=0, alias="RATE_LIMIT_PREMIUM_PER_MINUTE")
    read_limit_free_per_minute: int = Field(300, ge=0, alias="READ_LIMIT_FREE_PER_MINUTE")
    read_limit_premium_per_minute: int = Field(1200, ge=0, alias="READ_LIMIT_PREMIUM_PER_MINUTE")
    # The AI provider calls all starts of one UTC day may plan, over all users; 0: no ceiling.
    provider_call_ceiling_per_day: int = Field(0, ge=0, alias="PROVIDER_CALL_CEILING_PER_DAY")
    generation_quota_free_per_day: int = Field(5, ge=0, alias="GENERATION_QUOTA_FREE_PER_DAY")
    generation_quota_premium_per_day: int = Field(50, ge=0, alias="GENERATION_QUOTA_PREMIUM_PER_DAY")
    photo_quota_free_per_day: int = Field(100, ge=0, alias="PHOTO_QUOTA_FREE_PER_DAY")
    photo_quota_premium_per_day: int = Field(1000, ge=0, alias="PHOTO_QUOTA_PREMIUM_PER_DAY")

    # CORS origins allowed to call the API from a browser, comma separated.
    cors_origins: str = Field("*", alias="CORS_ORIGINS")

    @model_validator(mode="before")
    @classmethod
    def _environment_beneath(cls, given: Any) -> Any:
        """Each variable of the environment, for the fields the caller did not give (by name or alias)."""
        if not isinstance(given, dict):
            return given
        environment = {name.upper(): value for name, value in os.environ.items()}
        read = {
            field.alias: environment[field.alias]
            for name, field in cls.model_fields.items()
            if field.alias in environment and name not in given and field.alias not in given
        }
        return {**read, **given}

    @field_validator(
        "crash_at", "crash_rate", "chaos_transient_attempts", "lambda_function_name", "aws_endpoint_url", "feature_flags_file",
        "database_url", "database_secret_arn", "database_host", "database_port", "database_name", "database_ca_file",
        "database_read_url", "database_read_host", "state_machine_arn", "connections_table", "websocket_endpoint",
        "push_fanout_queue_url", "user_pool_id", "account_deletion_queue_url", "export_queue_url", "media_cdn_domain",
        "media_cdn_key_id", "media_cdn_private_key", "media_cdn_private_key_secret_arn", "schedule_group_name",
        "schedule_target_arn", "schedule_role_arn", mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("database_tls", mode="before")
    @classmethod
    def _blank_is_default(cls, value: object, info: ValidationInfo) -> object:
        return cls.model_fields[info.field_name].default if isinstance(value, str) and not value.strip() else value

    @field_validator("story_provider", "illustration_provider", "chaos_error_kind", "database_tls", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("simulated_story_latency", "simulated_illustration_latency", mode="before")
    @classmethod
    def _latency_range(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [part.strip() for part in value.split(",")]
            if len(parts) != 2:
                raise ValueError(f"must be 'low,high' in seconds, got {value!r}")
            value = (float(parts[0]), float(parts[1]))
        if isinstance(value, tuple | list) and not (0 <= value[0] <= value[1]):
            raise ValueError(f"must have 0 <= low <= high, got {value!r}")
        return value

    @field_validator("chaos_steps")
    @classmethod
    def _known_steps(cls, value: str) -> str:
        steps = _items(value.lower())
        if not steps or not steps <= {"story", "illustration"}:
            raise ValueError(f"must name some of story, illustration; got {value!r}")
        return ",".join(sorted(steps))

    @model_validator(mode="after")
    def _cdn_is_whole(self) -> Settings:
        if self.media_cdn_domain and not (
            self.media_cdn_key_id and (self.media_cdn_private_key or self.media_cdn_private_key_secret_arn)
        ):
            raise ValueError(
                "MEDIA_CDN_DOMAIN needs MEDIA_CDN_KEY_ID and MEDIA_CDN_PRIVATE_KEY or MEDIA_CDN_PRIVATE_KEY_SECRET_ARN"
            )
        return self

    @property
    def cors_origin_list(self) -> list[str]:
        return [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]

    @property
    def job_lease_renew_seconds(self) -> float:
        return self.job_lease_seconds / 4

    @property
    def runs_in_lambda(self) -> bool:
        return self.lambda_function_name is not None

    @property
    def chaos_step_set(self) -> frozenset[str]:
        return _items(self.chaos_steps)

    @property
    def chaos_page_set(self) -> frozenset[str]:
        return _items(self.chaos_pages)


def load_settings() -> Settings:
    """The settings of this container, read from the environment and validated."""
    try:
        return Settings()
    except ValidationError as error:
        aliases = {name: f.alias for name, f in Settings.model_fields.items()}
        problems = "; ".join(f"{aliases.get(str(e['loc'][0]), e['loc'][0])}: {e['msg']}" for e in error.errors())
        raise ConfigurationError(f"invalid configuration: {problems}") from None
