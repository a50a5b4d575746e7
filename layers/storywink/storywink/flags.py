"""Feature flags: Powertools Feature Flags, read from AWS AppConfig in the cloud and from a file locally.

The flag document is written once, in template.yaml (`FeatureFlagsVersion`). Where it is read from is
decided by the settings (the wiring builds one `FlagStore` per container):

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
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aws_lambda_powertools.utilities.feature_flags import AppConfigStore, FeatureFlags, StoreProvider
from aws_lambda_powertools.utilities.feature_flags.exceptions import ConfigurationStoreError
from botocore.config import Config

from storywink.config import Settings
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


def _feature_flags(settings: Settings) -> FeatureFlags | None:
    if settings.feature_flags_file:
        return FeatureFlags(store=FileStore(Path(settings.feature_flags_file)))
    application = settings.feature_flags_application
    environment, profile = settings.feature_flags_environment, settings.feature_flags_profile
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


class FlagStore:
    """The feature flags of one container (its document cached as the store allows)."""

    def __init__(self, flags: FeatureFlags | None) -> None:
        self._flags = flags

    @classmethod
    def from_settings(cls, settings: Settings) -> FlagStore:
        return cls(_feature_flags(settings))

    def enabled(self, name: str, context: dict[str, Any] | None = None, default: bool = False) -> bool:
        """The flag's value for this context; `default` when no flag store is configured or it fails."""
        if self._flags is None:
            return default
        try:
            # evaluate() alone would hide a store error at debug level and raise on an invalid document.
            self._flags.get_configuration()
            return bool(self._flags.evaluate(name=name, context=context or {}, default=default))
        except Exception as error:  # noqa: BLE001 - a flag never fails a request: the default applies
            logger.warning(
                "feature flags unavailable: using the default",
                extra={"flag": name, "default": default, "error": f"{type(error).__name__}: {error}"},
            )
            return default
