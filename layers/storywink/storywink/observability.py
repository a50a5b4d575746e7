"""Logger, tracer and metrics shared by every function; nothing here imports our other modules.

Powertools' Tracer loads the X-Ray SDK (about 0.3 s of imports) for every Tracer it builds, even one it
then disables, unless it is handed a provider. Where Powertools' own rule turns tracing off
(`POWERTOOLS_TRACE_DISABLED`, or outside Lambda) the tracer gets one that records nothing, so the SDK is
never imported. Where tracing is on (Lambda with `Tracing: Active`) the X-Ray SDK patches the AWS calls at
init and the database driver when a function builds its database (`trace_database`): its `patch_all()`
would import SQLAlchemy, pg8000 and httpx into every function, whether it uses them or not.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment

SERVICE = "storywink"
# What the X-Ray SDK patches at init, and once a function builds its database.
TRACED_AT_INIT = ("botocore",)
TRACED_DATABASE = ("pg8000", "sqlalchemy_core")


class _NoSegment(BaseSegment):
    def close(self, end_time: int | None = None) -> None:
        pass

    def add_subsegment(self, subsegment: Any) -> None:
        pass

    def remove_subsegment(self, subsegment: Any) -> None:
        pass

    def put_annotation(self, key: str, value: Any) -> None:
        pass

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        pass

    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None:
        pass


class NoTracing(BaseProvider):
    """A tracing provider that records nothing (tracing is off)."""

    @contextmanager
    def in_subsegment(self, name: str | None = None, **kwargs: Any) -> Iterator[BaseSegment]:
        yield _NoSegment()

    @asynccontextmanager
    async def in_subsegment_async(self, name: str | None = None, **kwargs: Any) -> AsyncIterator[BaseSegment]:
        yield _NoSegment()

    def put_annotation(self, key: str, value: Any) -> None:
        pass

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        pass

    def patch(self, modules: Sequence[str]) -> None:
        pass

    def patch_all(self) -> None:
        pass


def _tracer() -> Tracer:
    if Tracer._is_tracer_disabled():  # Powertools' rule: the environment variable, or not in Lambda
        return Tracer(service=SERVICE, disabled=True, provider=NoTracing())
    return Tracer(service=SERVICE, patch_modules=TRACED_AT_INIT)


def trace_database() -> None:
    """SQL statements as X-Ray subsegments from now on (nothing when tracing is off)."""
    tracer.patch(TRACED_DATABASE)


logger = Logger(service=SERVICE)
tracer = _tracer()
metrics = Metrics(service=SERVICE, namespace="Storywink")
