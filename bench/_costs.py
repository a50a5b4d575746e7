"""What a run costs on AWS, from the counts it made (us-east-1 list prices, arm64 Lambda; AI excluded).

Prices, per unit:
- Step Functions Standard: $0.025 per 1,000 state transitions
- SQS: $0.40 per million requests (standard queues; each API call is one request of up to 64 KB)
- Lambda (arm64): $0.0000133334 per GB-second, $0.20 per million requests
- HTTP API: $1.00 per million requests; WebSocket API: $1.00 per million messages
"""

from __future__ import annotations

from dataclasses import dataclass

TRANSITION = 0.025 / 1000
SQS_REQUEST = 0.40 / 1_000_000
LAMBDA_GB_SECOND = 0.0000133334
LAMBDA_REQUEST = 0.20 / 1_000_000
HTTP_API_REQUEST = 1.00 / 1_000_000
WEBSOCKET_MESSAGE = 1.00 / 1_000_000


@dataclass
class Usage:
    transitions: int = 0
    sqs_requests: int = 0
    lambda_requests: int = 0
    lambda_gb_seconds: float = 0.0
    api_requests: int = 0
    api_seconds: float = 0.0  # real seconds the API spent on the bench's requests
    websocket_messages: int = 0

    def dollars(self) -> float:
        return (
            self.transitions * TRANSITION
            + self.sqs_requests * SQS_REQUEST
            + self.lambda_gb_seconds * LAMBDA_GB_SECOND
            + self.lambda_requests * LAMBDA_REQUEST
            + self.api_requests * HTTP_API_REQUEST
            + self.websocket_messages * WEBSOCKET_MESSAGE
        )


def cost_per_book(usage: Usage, books: int) -> float:
    return usage.dollars() / max(1, books)
