"""How the local stack runs one invocation of a function, the way Lambda would.

`FastRuntime` (the tests' default) calls the handler on the poller's thread, sharing the process's
container. `FaithfulRuntime` (`storywink dev --faithful`, `bench/scale.py`) honours what the template
says and the cloud does: each worker thread is one execution environment with its own container (its own
connection pool of the configured size); a function's ReservedConcurrentExecutions caps its concurrent
invocations; an invocation over its (time-scaled) Lambda timeout is abandoned — its batch stays in flight
until the visibility timeout, and the environment is replaced; a killed environment is replaced too. It
also counts invocations and billed GB-seconds (in simulated time) for cost estimates.

What it cannot do: Python cannot kill a thread, so an abandoned invocation runs on in the background
(its environment is never used again and is closed when it ends; whatever it reports late is judged
like any late result). A cold start is taken before the invocation's clock starts (see `_environment`),
and a scaled timeout keeps a floor of REAL_TIME_FLOOR_SECONDS.
"""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

from storywink.config import load_settings
from storywink.faults.crash import ContainerKilled
from storywink.local.lambda_runtime import Handler
from storywink.observability import logger
from storywink.wiring import Container, container_for_thread

# A scaled countdown that guards against a dead or hung worker never drops below this many real seconds:
# the Lambda timeouts, the queues' visibility timeouts (which AWS requires to be at least the function's
# timeout) and the job leases. Below it, it would measure how long this machine's interpreter takes to
# run a few queries while two cores serve every environment at once (a Lambda's CPU is its own), and each
# false timeout would cost a redelivery and a cold start, starving the interpreter further.
REAL_TIME_FLOOR_SECONDS = 10.0


class InvocationTimedOut(Exception):
    """The invocation ran past its function's timeout and was abandoned."""


@dataclass
class FunctionUsage:
    invocations: int = 0
    billed_gb_seconds: float = 0.0  # simulated time: real seconds divided by the time scale
    timeouts: int = 0
    killed: int = 0  # environments that died mid-invocation (injected kills)
    longest_seconds: float = 0.0  # real seconds of the longest invocation


class FastRuntime:
    def __init__(self) -> None:
        self.usage: dict[str, FunctionUsage] = defaultdict(FunctionUsage)

    def start_environment(self) -> None:
        """Nothing to start: every invocation shares the process's container."""

    def invoke(self, function: str, memory_mb: int, timeout_seconds: float, handler: Handler, event: Any, context: Any) -> Any:
        self.usage[function].invocations += 1
        return handler(event, context)


class FaithfulRuntime:
    def __init__(self, time_scale: float, reserved_concurrency: dict[str, int]) -> None:
        self.time_scale = time_scale
        self.usage: dict[str, FunctionUsage] = defaultdict(FunctionUsage)
        self._slots = {name: threading.BoundedSemaphore(limit) for name, limit in reserved_concurrency.items()}
        self._environments = threading.local()
        self._lock = threading.Lock()
        self.containers: list[Container] = []  # every environment ever started (their pools, for the counts)

    def start_environment(self) -> None:
        """Start this thread's execution environment before it takes work. On Lambda each one starts on its own
        CPU in parallel; here they would all start on the first burst, on two shared cores, while the batches
        they were handed waited in flight."""
        self._environment()

    def invoke(self, function: str, memory_mb: int, timeout_seconds: float, handler: Handler, event: Any, context: Any) -> Any:
        with self._slot(function):
            environment = self._environment()
            outcome: dict[str, Any] = {}

            def run() -> None:
                with container_for_thread(environment):
                    try:
                        outcome["value"] = handler(event, context)
                    except BaseException as error:  # noqa: BLE001 - handed to the invoking thread
                        outcome["error"] = error

            worker = threading.Thread(target=run, name=f"{function}-invocation", daemon=True)
            started = time.perf_counter()
            worker.start()
            worker.join(max(timeout_seconds, REAL_TIME_FLOOR_SECONDS))
            self._bill(function, memory_mb, time.perf_counter() - started)
            if worker.is_alive():
                self.usage[function].timeouts += 1
                self._replace_environment()
                # Its connections go once the abandoned work ends (Lambda would have dropped them at once).
                threading.Thread(target=_close_after, args=(worker, environment), daemon=True).start()
                logger.warning("invocation timed out: abandoned", extra={"function": function})
                raise InvocationTimedOut(function)
            error = outcome.get("error")
            if isinstance(error, ContainerKilled):
                self.usage[function].killed += 1
                self._replace_environment()
                environment.close()
            if error is not None:
                raise error
            return outcome.get("value")

    def _slot(self, function: str) -> AbstractContextManager[Any]:
        return self._slots.get(function) or nullcontext()

    def _environment(self) -> Container:
        environment = getattr(self._environments, "container", None)
        if environment is None:
            # The cold start happens before the invocation's clock starts: on this machine it costs real
            # seconds that a time scale would turn into simulated minutes.
            environment = Container(load_settings())
            environment.warm_up()
            self._environments.container = environment
            with self._lock:
                self.containers.append(environment)
        return environment

    def _replace_environment(self) -> None:
        self._environments.container = None  # the next invocation on this thread starts cold

    def _bill(self, function: str, memory_mb: int, real_seconds: float) -> None:
        usage = self.usage[function]
        usage.invocations += 1
        usage.longest_seconds = max(usage.longest_seconds, real_seconds)
        # Lambda bills each invocation by the millisecond, rounded up.
        billed = math.ceil(real_seconds / self.time_scale * 1000) / 1000
        usage.billed_gb_seconds += billed * memory_mb / 1024


def _close_after(worker: threading.Thread, environment: Container) -> None:
    worker.join()
    environment.close()
