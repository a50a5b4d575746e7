"""An in-process stand-in for a Lambda SQS event source mapping.

As Lambda's pollers do, one receiving thread long-polls the queue while fewer invocations are running
than the mapping's concurrency allows, asks for as many messages as the free environments can take (up to
ten), and hands each environment a genuine SQS event (at most BatchSize records) and a Lambda context;
after the invocation the records that succeeded are deleted. With ReportBatchItemFailures only the
reported records stay; if the handler raises, the whole batch stays. Either way SQS redelivers them when
their visibility timeout ends (the queue's, or a shorter one the worker set) and moves them to the DLQ
after maxReceiveCount, exactly as in the cloud.

Stopping (disabling the mapping) lets running invocations finish and starts no new one; a long poll still
in flight when the stop returns hands back whatever it receives (visibility 0) without invoking.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass
from typing import Any

from storywink.faults.crash import ContainerKilled
from storywink.local.lambda_runtime import Handler, LocalLambdaContext
from storywink.local.runtime import InvocationTimedOut
from storywink.observability import logger


@dataclass(frozen=True)
class EventSourceMapping:
    function_name: str
    handler: str
    queue_logical_id: str
    queue_url: str
    queue_arn: str
    batch_size: int
    report_batch_item_failures: bool
    maximum_concurrency: int
    timeout_seconds: float
    memory_mb: int


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": {
                    name: {
                        "stringValue": value.get("StringValue"),
                        "binaryValue": value.get("BinaryValue"),
                        "stringListValues": value.get("StringListValues", []),
                        "binaryListValues": value.get("BinaryListValues", []),
                        "dataType": value["DataType"],
                    }
                    for name, value in m.get("MessageAttributes", {}).items()
                },
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for m in messages
        ]
    }


class SqsPoller:
    def __init__(
        self,
        mapping: EventSourceMapping,
        handler: Handler,
        sqs: Any,
        region: str,
        workers: int,
        runtime: Any,
        wait_seconds: int = 1,
    ) -> None:
        self.mapping = mapping
        self.runtime = runtime  # storywink.local.runtime: FastRuntime or FaithfulRuntime
        self.handler = handler
        self.sqs = sqs
        self.region = region
        self.workers = workers  # execution environments: invocations at once
        self.wait_seconds = wait_seconds  # each long poll (Lambda's pollers use 20)
        self._stop = threading.Event()
        self._receiver: threading.Thread | None = None
        self._environments: list[threading.Thread] = []
        self._batches: queue.SimpleQueue[list[dict[str, Any]] | None] = queue.SimpleQueue()
        self._free = threading.Semaphore(0)
        self._handing_over = threading.Lock()  # a batch is queued for an environment, or the stop is seen
        self.invocations = 0

    def start(self) -> None:
        """Start polling (again, after a stop: like re-enabling an event source mapping)."""
        self._stop = threading.Event()
        self._batches = queue.SimpleQueue()
        self._free = threading.Semaphore(0)  # each environment frees its slot once it has started
        name = self.mapping.function_name
        self._environments = [
            threading.Thread(target=self._invoke_batches, args=(self._batches, self._free), name=f"env-{name}-{i}", daemon=True)
            for i in range(self.workers)
        ]
        self._receiver = threading.Thread(
            target=self._receive_batches, args=(self._stop, self._batches, self._free), name=f"poller-{name}", daemon=True
        )
        for thread in [*self._environments, self._receiver]:
            thread.start()

    def stop(self) -> None:
        self.request_stop()
        self.join()

    def request_stop(self) -> None:
        """Start no new invocation (see `join`); stopping many pollers, ask them all first."""
        with self._handing_over:
            self._stop.set()
        for _ in self._environments:
            self._batches.put(None)

    def join(self) -> None:
        """Wait for the running invocations to end, and for a short poll to return."""
        for thread in self._environments:
            thread.join(timeout=30)
        if self._receiver is not None:
            # A short poll ends within its wait; a longer one hands back what it gets (see the module's doc).
            self._receiver.join(timeout=min(self.wait_seconds, 2) + 1)

    def _receive_batches(self, stop: threading.Event, batches: queue.SimpleQueue, free: threading.Semaphore) -> None:
        while not stop.is_set():
            if not free.acquire(timeout=0.5):
                continue
            slots = 1
            while slots * self.mapping.batch_size < 10 and slots < self.workers and free.acquire(blocking=False):
                slots += 1
            try:
                received = self._receive(min(10, slots * self.mapping.batch_size))
            except Exception:  # noqa: BLE001 - a poller keeps polling, as the event source mapping does
                received = []
                if not stop.is_set():
                    logger.exception("poller error", extra={"function": self.mapping.function_name})
                    stop.wait(1)
            size = self.mapping.batch_size
            chunks = [received[i : i + size] for i in range(0, len(received), size)]
            with self._handing_over:
                stopped = stop.is_set()
                if not stopped:
                    for chunk in chunks:
                        batches.put(chunk)
            if stopped:
                if received:
                    self._hand_back(received)
                chunks = []
            for _ in range(slots - len(chunks)):
                free.release()

    def _invoke_batches(self, batches: queue.SimpleQueue, free: threading.Semaphore) -> None:
        try:
            self.runtime.start_environment()
        except Exception:  # noqa: BLE001 - a failed init is tried again by the first invocation, as Lambda does
            logger.exception("environment init failed", extra={"function": self.mapping.function_name})
        free.release()
        while (batch := batches.get()) is not None:
            try:
                self.invoke(batch)
            except Exception:  # noqa: BLE001 - an environment keeps serving, as Lambda's does
                logger.exception("poller error", extra={"function": self.mapping.function_name})
            finally:
                free.release()

    def _receive(self, count: int) -> list[dict[str, Any]]:
        return self.sqs.receive_message(
            QueueUrl=self.mapping.queue_url,
            MaxNumberOfMessages=count,
            WaitTimeSeconds=self.wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])

    def _hand_back(self, received: list[dict[str, Any]]) -> None:
        self.sqs.change_message_visibility_batch(
            QueueUrl=self.mapping.queue_url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0} for i, m in enumerate(received)],
        )

    def invoke(self, received: list[dict[str, Any]]) -> None:
        """Invoke the handler with one batch, then delete the records that succeeded."""
        self.invocations += 1
        context = LocalLambdaContext(
            self.mapping.function_name,
            timeout_seconds=self.mapping.timeout_seconds,
            memory_limit_in_mb=self.mapping.memory_mb,
            region=self.region,
        )
        event = sqs_event(received, self.mapping.queue_arn, self.region)
        mapping = self.mapping
        try:
            response = self.runtime.invoke(
                mapping.function_name, mapping.memory_mb, mapping.timeout_seconds, self.handler, event, context
            )
        except (ContainerKilled, InvocationTimedOut):
            # As after a Lambda timeout: nothing is deleted, the batch stays in flight until its visibility ends.
            logger.warning("invocation died mid-batch", extra={"function": self.mapping.function_name})
            return
        except Exception:  # noqa: BLE001 - a function error: the whole batch stays for redelivery
            logger.exception("handler raised: the whole batch will be redelivered", extra={"function": self.mapping.function_name})
            return
        failed = set()
        if self.mapping.report_batch_item_failures and isinstance(response, dict):
            failed = {item["itemIdentifier"] for item in response.get("batchItemFailures", [])}
        done = [m for m in received if m["MessageId"] not in failed]
        if done:
            self.sqs.delete_message_batch(
                QueueUrl=self.mapping.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
