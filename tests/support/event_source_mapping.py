"""Plays a Lambda SQS event source mapping against a real SQS endpoint (moto's server).

Exactly what the mapping does: receive up to a batch of visible messages,
invoke the function with Lambda's SQS event shape, then delete the messages
the function did not report in ``batchItemFailures`` (ReportBatchItemFailures).
A reported or unprocessed message becomes visible again after the queue's
visibility timeout.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from events import LambdaContext


@dataclass
class Delivery:
    """One invocation of the function by the mapping."""

    records: int
    failures: int
    seconds: float


@dataclass
class EventSourceMapping:
    handler: ModuleType
    sqs: Any
    queue_url: str
    batch_size: int = 10
    region: str = "us-east-1"
    # SQS delivers at least once: with this set, every batch is delivered twice, one after the other.
    deliver_twice: bool = False
    deliveries: list[Delivery] = field(default_factory=list)

    @property
    def queue_arn(self) -> str:
        attributes = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])
        return str(attributes["Attributes"]["QueueArn"])

    def poll(self) -> int:
        """One receive and, if it got anything, one invocation; returns how many records it delivered."""
        received = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=self.batch_size, AttributeNames=["All"]
        ).get("Messages", [])
        if not received:
            return 0
        event = {"Records": [self._record(message) for message in received]}
        started = time.monotonic()
        answer = self.handler.handler(event, LambdaContext(timeout_seconds=300))
        if self.deliver_twice:
            self.handler.handler(event, LambdaContext(timeout_seconds=300))
        failed = {item["itemIdentifier"] for item in (answer or {}).get("batchItemFailures", [])}
        self.deliveries.append(Delivery(len(received), len(failed), time.monotonic() - started))
        for message in received:
            if message["MessageId"] not in failed:
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return len(received)

    def run_until(self, done: Callable[[], bool], timeout: float = 30.0) -> None:
        """Polls until ``done()`` holds; AssertionError after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() >= deadline:
                raise AssertionError(f"still waiting after {timeout:g} s")
            if self.poll() == 0:
                time.sleep(0.1)

    def drain(self, quiet_seconds: float = 2.5, timeout: float = 60.0) -> None:
        """Polls until no message has arrived for ``quiet_seconds`` (delayed ones included).

        AssertionError when messages still arrive after ``timeout`` seconds: a chain that never ends.
        """
        last = started = time.monotonic()
        while time.monotonic() - last < quiet_seconds:
            if time.monotonic() - started >= timeout:
                raise AssertionError(f"messages still arrive after {timeout:g} s")
            if self.poll():
                last = time.monotonic()
            else:
                time.sleep(0.1)

    def messages_in_queue(self) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed",
                            "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]  # fmt: skip
        return sum(int(value) for value in attributes.values())

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": {},
            "md5OfBody": message["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": self.region,
        }
