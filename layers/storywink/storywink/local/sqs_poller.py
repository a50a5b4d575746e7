"""An in-process stand-in for a Lambda SQS event source mapping.

It long-polls the queue, hands the handler a genuine SQS event (at most BatchSize records) and a Lambda
context, then deletes the records that succeeded. With ReportBatchItemFailures only the reported records
stay; if the handler raises, the whole batch stays. Either way SQS redelivers them when their visibility
timeout ends (the queue's, or a shorter one the worker set) and moves them to the DLQ after
maxReceiveCount, exactly as in the cloud.
"""

from __future__ import annotations

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
    ) -> None:
        self.mapping = mapping
        self.runtime = runtime  # storywink.local.runtime: FastRuntime or FaithfulRuntime
        self.handler = handler
        self.sqs = sqs
        self.region = region
        self.workers = workers
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.invocations = 0

    def start(self) -> None:
        """Start polling (again, after a stop: like re-enabling an event source mapping)."""
        self._stop.clear()
        self._threads = []
        for index in range(self.workers):
            thread = threading.Thread(
                target=self._run, name=f"poller-{self.mapping.function_name}-{index}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once(wait_seconds=1)
            except Exception:  # noqa: BLE001 - a poller keeps polling, as the event source mapping does
                if not self._stop.is_set():
                    logger.exception("poller error", extra={"function": self.mapping.function_name})
                    self._stop.wait(1)

    def poll_once(self, wait_seconds: int = 0) -> int:
        """Receive one batch and invoke the handler with it; returns how many records were handled."""
        received = self.sqs.receive_message(
            QueueUrl=self.mapping.queue_url,
            MaxNumberOfMessages=min(self.mapping.batch_size, 10),
            WaitTimeSeconds=wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not received:
            return 0
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
            return len(received)
        except Exception:  # noqa: BLE001 - a function error: the whole batch stays for redelivery
            logger.exception("handler raised: the whole batch will be redelivered", extra={"function": self.mapping.function_name})
            return len(received)
        failed = set()
        if self.mapping.report_batch_item_failures and isinstance(response, dict):
            failed = {item["itemIdentifier"] for item in response.get("batchItemFailures", [])}
        done = [m for m in received if m["MessageId"] not in failed]
        if done:
            self.sqs.delete_message_batch(
                QueueUrl=self.mapping.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        return len(received)
