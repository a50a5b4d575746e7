"""Typed settings, read from the environment once per process."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore", frozen=True)

    environment: str = Field("local", alias="STORYWINK_ENV")

    # Database: DATABASE_URL wins; in the cloud the URL lives in a Secrets Manager secret.
    database_url: str | None = Field(None, alias="DATABASE_URL")
    database_secret_arn: str | None = Field(None, alias="DATABASE_SECRET_ARN")
    # Connections per process: a Lambda container needs few; the local stack runs many workers in one.
    database_pool_size: int = Field(5, alias="DATABASE_POOL_SIZE")
    database_max_overflow: int = Field(5, alias="DATABASE_MAX_OVERFLOW")

    # Storage
    bucket_name: str = Field("storywink-local-media", alias="MEDIA_BUCKET")
    upload_url_ttl_seconds: int = Field(900, alias="UPLOAD_URL_TTL_SECONDS")
    download_url_ttl_seconds: int = Field(300, alias="DOWNLOAD_URL_TTL_SECONDS")

    # Book rules
    max_pages: int = Field(20, alias="MAX_PAGES")
    max_photo_bytes: int = Field(15 * 1024 * 1024, alias="MAX_PHOTO_BYTES")
    max_photo_pixels: int = Field(50_000_000, alias="MAX_PHOTO_PIXELS")

    # Auth: tokens are verified against this JWKS (Cognito's in the cloud, a local file locally).
    jwks_url: str | None = Field(None, alias="AUTH_JWKS_URL")
    jwt_issuer: str = Field("storywink-local", alias="AUTH_ISSUER")
    jwt_audience: str = Field("storywink-api", alias="AUTH_AUDIENCE")
    jwt_algorithm: str = Field("RS256", alias="AUTH_ALGORITHM")
    admin_group: str = Field("admin", alias="AUTH_ADMIN_GROUP")

    # Pipeline
    state_machine_arn: str | None = Field(None, alias="STATE_MACHINE_ARN")
    # A worker that has held a task this long without finishing is presumed dead; a redelivery takes over.
    job_lease_seconds: int = Field(900, alias="JOB_LEASE_SECONDS")

    # {"story": {"dlq": url, "source": url}, ...}: the step dead-letter queues and where a redrive sends them.
    dead_letter_queues: str | None = Field(None, alias="DEAD_LETTER_QUEUES")

    # Live progress: WebSocket connections (DynamoDB) and the management API endpoint that pushes to them.
    connections_table: str | None = Field(None, alias="CONNECTIONS_TABLE")
    websocket_endpoint: str | None = Field(None, alias="WEBSOCKET_ENDPOINT")
    connection_ttl_seconds: int = Field(2 * 3600, alias="CONNECTION_TTL_SECONDS")
    # SSE: heartbeat comment interval, and how long one response stays open (bounded under Lambda).
    sse_heartbeat_seconds: float = Field(15.0, alias="SSE_HEARTBEAT_SECONDS")
    sse_window_seconds: float = Field(25.0, alias="SSE_WINDOW_SECONDS")

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
    openai_timeout_seconds: float = Field(120.0, alias="OPENAI_TIMEOUT_SECONDS")

    # Quotas and rate limits per plan (admins are exempt): changes (POST/PUT/PATCH/DELETE under /v1) per
    # minute; generations (generate, illustrate, retry) and photos asked to upload per UTC day.
    rate_limit_free_per_minute: int = Field(60, ge=0, alias="RATE_LIMIT_FREE_PER_MINUTE")
    rate_limit_premium_per_minute: int = Field(240, ge=0, alias="RATE_LIMIT_PREMIUM_PER_MINUTE")
    generation_quota_free_per_day: int = Field(5, ge=0, alias="GENERATION_QUOTA_FREE_PER_DAY")
    generation_quota_premium_per_day: int = Field(50, ge=0, alias="GENERATION_QUOTA_PREMIUM_PER_DAY")
    photo_quota_free_per_day: int = Field(100, ge=0, alias="PHOTO_QUOTA_FREE_PER_DAY")
    photo_quota_premium_per_day: int = Field(1000, ge=0, alias="PHOTO_QUOTA_PREMIUM_PER_DAY")

    # CORS origins allowed to call the API from a browser, comma separated.
    cors_origins: str = Field("*", alias="CORS_ORIGINS")

    @property
    def cors_origin_list(self) -> list[str]:
        return [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
