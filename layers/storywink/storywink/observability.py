"""Logger, tracer and metrics shared by every function; nothing here imports our other modules.

Powertools' Tracer loads the X-Ray SDK (about 0.3 s of imports) for every Tracer it builds, even one it
then disables, unless it is handed a provider. Where Powertools' own rule turns tracing off
(`POWERTOOLS_TRACE_DISABLED`, or outside Lambda) the tracer gets one that records nothing, so the SDK is
never imported. Where tracing is on (Lambda with `Tracing: Active`) the X-Ray SDK patches the AWS calls at
init and the database driver when a function builds its database (`trace_database`): its `patch_all()`
would import SQLAlchemy, pg8000 and httpx into every function, whether it uses them or not.

Handlers log with `log_invocation` rather than Powertools' `inject_lambda_context`, which appends the
Lambda context to the one logger every function shares and leaves it there after the invocation: where
several functions run in one process (the local stack, each on threads of its own) a line of one function
would carry another's context, and lines logged between invocations the last one's. Here the keys belong
to the invocation's thread (and what it starts with its context) and go when it returns.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.lambda_context import build_lambda_context_model
from aws_lambda_powertools.metrics import single_metric
from aws_lambda_powertools.metrics.functions import is_metrics_disabled
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment
from aws_lambda_powertools.utilities import jmespath_utils

SERVICE = "storywink"
# What the X-Ray SDK patches at init, and once a function builds its database.
TRACED_AT_INIT = ("botocore",)
TRACED_DATABASE = ("pg8000", "sqlalchemy_core")
HandlerT = TypeVar("HandlerT", bound=Callable[..., Any])


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
NAMESPACE = "Storywink"
metrics = Metrics(service=SERVICE, namespace=NAMESPACE)


def emit_metric(name: str, unit: str, value: float, **dimensions: str) -> None:
    """One metric with dimensions of its own, as one EMF line now (the shared ``metrics`` flushes its
    metrics, all with the same dimensions, when the handler returns). Dimensions stay few and small:
    an outcome, a plan, a step, an error class; never an id. Off where Powertools' metrics are."""
    if is_metrics_disabled():  # Powertools' own rule (POWERTOOLS_METRICS_DISABLED, POWERTOOLS_DEV), read now
        return
    with single_metric(name=name, unit=unit, value=value, namespace=NAMESPACE, default_dimensions={"service": SERVICE}) as metric:
        for key, dimension in dimensions.items():
            metric.add_dimension(name=key, value=dimension)


_invoked: set[str] = set()  # the functions this process has run an invocation of (the rest start cold)


@contextmanager
def log_keys(**keys: Any) -> Iterator[None]:
    """Keys on the log lines of this thread (or task) while the block runs; the keys before it afterwards."""
    before = dict(logger.thread_safe_get_current_keys())
    logger.thread_safe_append_keys(**keys)
    try:
        yield
    finally:
        logger.thread_safe_clear_keys()
        logger.thread_safe_append_keys(**before)


@contextmanager
def invocation_context(context: Any, **keys: Any) -> Iterator[None]:
    """One invocation's log keys: its function's Lambda context, whether it started cold, and ``keys``;
    nothing of an earlier invocation on this thread, and nothing left once it ends."""
    lambda_context = build_lambda_context_model(context).__dict__
    cold_start = lambda_context["function_name"] not in _invoked
    _invoked.add(lambda_context["function_name"])
    logger.thread_safe_clear_keys()
    try:
        with log_keys(cold_start=cold_start, **lambda_context, **keys):
            yield
    finally:
        logger.thread_safe_clear_keys()


def log_invocation(handler: HandlerT | None = None, *, correlation_id_path: str | None = None) -> Any:
    """A handler's log lines carry its invocation's Lambda context (see the module's note) and, given a
    path into the event, its correlation id: `@log_invocation` or `@log_invocation(correlation_id_path=...)`."""
    if handler is None:
        return functools.partial(log_invocation, correlation_id_path=correlation_id_path)

    @functools.wraps(handler)
    def invoke(event: Any, context: Any, *args: Any, **kwargs: Any) -> Any:
        keys = {"correlation_id": jmespath_utils.query(envelope=correlation_id_path, data=event)} if correlation_id_path else {}
        with invocation_context(context, **keys):
            return handler(event, context, *args, **kwargs)

    return invoke
