"""Feature flags: Powertools Feature Flags, read from AWS AppConfig in the cloud and from a file locally.

The flag document is written once, in template.yaml (`FeatureFlagsVersion`). Where it is read from is
decided by the environment:

- `FEATURE_FLAGS_FILE`: that JSON file (the local stack writes the template's document there); an edit
  applies within `FILE_MAX_AGE_SECONDS`;
- `FEATURE_FLAGS_APPLICATION`, `FEATURE_FLAGS_ENVIRONMENT`, `FEATURE_FLAGS_PROFILE`: the AppConfig
  profile, re-read every `APPCONFIG_MAX_AGE_SECONDS`;
- neither: every flag is the default its caller gives.

A flag never fails a request: when the document cannot be read or is not valid, the caller's default
is used and a warning logged.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from aws_lambda_powertools.utilities.feature_flags import AppConfigStore, FeatureFlags, StoreProvider
from aws_lambda_powertools.utilities.feature_flags.exceptions import ConfigurationStoreError
from botocore.config import Config

from storywink.observability import logger

FILE_MAX_AGE_SECONDS = 5.0
APPCONFIG_MAX_AGE_SECONDS = 60
# A flag read sits on the request path: give up quickly and fall back to the default.
APPCONFIG_CLIENT_CONFIG = Config(connect_timeout=2, read_timeout=2, retries={"mode": "standard", "max_attempts": 2})


class FileStore(StoreProvider):
    """The flag document in a local JSON file, re-read once it is `max_age` seconds old."""

    def __init__(self, path: Path, max_age: float = FILE_MAX_AGE_SECONDS, clock: Callable[[], float] = time.monotonic):
        self.path = Path(path)
        self.max_age = max_age
        self.clock = clock
        self._cached: tuple[float, dict[str, Any]] | None = None

    @property
    def get_raw_configuration(self) -> dict[str, Any]:
        now = self.clock()
        cached = self._cached
        # The same dict while it is fresh: FeatureFlags then skips validating it again.
        if cached is not None and now - cached[0] < self.max_age:
            return cached[1]
        try:
            document = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise ConfigurationStoreError(f"cannot read the feature flags in {self.path}: {error}") from error
        self._cached = (now, document)
        return document

    def get_configuration(self) -> dict[str, Any]:
        return self.get_raw_configuration


@lru_cache(maxsize=4)
def _feature_flags(file: str, application: str, environment: str, profile: str) -> FeatureFlags | None:
    if file:
        return FeatureFlags(store=FileStore(Path(file)))
    if application and environment and profile:
        store = AppConfigStore(
            environment=environment,
            application=application,
            name=profile,
            max_age=APPCONFIG_MAX_AGE_SECONDS,
            boto_config=APPCONFIG_CLIENT_CONFIG,
        )
        return FeatureFlags(store=store)
    return None


def feature_enabled(name: str, context: dict[str, Any] | None = None, default: bool = False) -> bool:
    """The flag's value for this context; `default` when no flag store is configured or it fails."""
    try:
        flags = _feature_flags(
            os.environ.get("FEATURE_FLAGS_FILE", ""),
            os.environ.get("FEATURE_FLAGS_APPLICATION", ""),
            os.environ.get("FEATURE_FLAGS_ENVIRONMENT", ""),
            os.environ.get("FEATURE_FLAGS_PROFILE", ""),
        )
        if flags is None:
            return default
        # evaluate() alone would hide a store error at debug level and raise on an invalid document.
        flags.get_configuration()
        return bool(flags.evaluate(name=name, context=context or {}, default=default))
    except Exception as error:
        logger.warning(
            "feature flags unavailable: using the default",
            extra={"flag": name, "default": default, "error": f"{type(error).__name__}: {error}"},
        )
        return default


def reset_feature_flags() -> None:
    """Forget the flag stores (and their caches) this process built."""
    _feature_flags.cache_clear()
