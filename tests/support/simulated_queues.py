"""SQS queues whose delays run on a simulated clock, and WaitCondition handles that record signals.

``SimulatedQueues`` answers SendMessage over HTTP as botocore's ``sqs`` model
declares it (JSON 1.0 protocol: ``POST /`` with ``X-Amz-Target:
AmazonSQS.SendMessage``), so the handler's own SQS client sends the wake-ups.
A message becomes visible ``DelaySeconds`` (0 to 900, SendMessage API
reference) after it was sent, on the clock; the simulation then plays the
event source mapping in memory (``receive``, ``delete``, ``release``), since
moto's SQS keeps real time. ``SignalRecorder`` is any number of
WaitCondition handles, over HTTPS: it records each PUT with the clock's time. FIDELITY.md, "Simulated account", cites both.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import json
import ssl
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from support.loopback import LoopbackService, QuietHandler, StandInServer
from support.simulated_time import SimulatedClock

MAX_DELAY_SECONDS = 900


@dataclass
class QueuedMessage:
    message_id: str
    body: str
    visible_at: float
    receives: int = 0


@dataclass
class _Queue:
    url: str
    # (visible_at, sequence, message ID): the heap of messages not yet received or released again.
    waiting: list[tuple[float, int, str]] = field(default_factory=list)
    messages: dict[str, QueuedMessage] = field(default_factory=dict)
    dead_letters: list[QueuedMessage] = field(default_factory=list)


class _SqsHandler(QuietHandler):
    def do_POST(self) -> None:
        target = self.headers.get("X-Amz-Target", "")
        request = json.loads(self.body() or b"{}")
        stand_in: SimulatedQueues = self.server.stand_in
        if target != "AmazonSQS.SendMessage":
            self._error(400, "UnsupportedOperation", f"the simulated SQS answers SendMessage only, not {target}")
            return
        delay = int(request.get("DelaySeconds", 0))
        if not 0 <= delay <= MAX_DELAY_SECONDS:
            self._error(400, "InvalidParameterValue", f"DelaySeconds must be 0 to {MAX_DELAY_SECONDS}")
            return
        try:
            message_id = stand_in.put(request["QueueUrl"], request["MessageBody"], delay)
        except KeyError:
            self._error(400, "QueueDoesNotExist", "The specified queue does not exist.")
            return
        md5 = hashlib.md5(request["MessageBody"].encode("utf-8")).hexdigest()
        answer = json.dumps({"MessageId": message_id, "MD5OfMessageBody": md5}).encode("utf-8")
        self.reply(200, answer, "application/x-amz-json-1.0")

    def _error(self, status: int, code: str, message: str) -> None:
        answer = json.dumps({"__type": f"com.amazonaws.sqs#{code}", "message": message}).encode("utf-8")
        self.reply(status, answer, "application/x-amz-json-1.0")


class SimulatedQueues(LoopbackService):
    """Standard queues on the clock: messages sent (``sent``), held, received and deleted."""

    def __init__(self, clock: SimulatedClock, account: str = "123456789012") -> None:
        self.clock = clock
        self.account = account
        self.sent = 0
        self._queues: dict[str, _Queue] = {}
        self._sequence = itertools.count()
        self._lock = threading.Lock()

    def start(self) -> SimulatedQueues:
        self._serve(StandInServer(self, _SqsHandler))
        return self

    def create_queue(self, name: str) -> str:
        url = f"{self.endpoint_url}/{self.account}/{name}"
        with self._lock:
            self._queues[url] = _Queue(url)
        return url

    def put(self, queue_url: str, body: str, delay_seconds: float = 0.0) -> str:
        """Adds a message, visible ``delay_seconds`` from now (an EventBridge target's delivery, or SendMessage)."""
        with self._lock:
            queue = self._queues[queue_url]
            message = QueuedMessage(str(uuid.uuid4()), body, self.clock.now() + delay_seconds)
            queue.messages[message.message_id] = message
            heapq.heappush(queue.waiting, (message.visible_at, next(self._sequence), message.message_id))
            self.sent += 1
            return message.message_id

    def next_visible(self) -> float | None:
        """When the next message of any queue becomes visible (it may be now), or None when all are empty."""
        with self._lock:
            times = [queue.waiting[0][0] for queue in self._queues.values() if queue.waiting]
        return min(times) if times else None

    def receive(self, queue_url: str, max_messages: int, visibility_timeout: float) -> list[QueuedMessage]:
        """Up to ``max_messages`` visible messages, each hidden for ``visibility_timeout`` unless deleted."""
        now = self.clock.now()
        received = []
        with self._lock:
            queue = self._queues[queue_url]
            while queue.waiting and queue.waiting[0][0] <= now and len(received) < max_messages:
                _, _, message_id = heapq.heappop(queue.waiting)
                message = queue.messages[message_id]
                message.receives += 1
                message.visible_at = now + visibility_timeout
                received.append(message)
        return received

    def delete(self, queue_url: str, message_id: str) -> None:
        with self._lock:
            self._queues[queue_url].messages.pop(message_id, None)

    def release(self, queue_url: str, message: QueuedMessage, max_receives: int) -> None:
        """A message the function reported failed: visible again after its visibility timeout, or dead-lettered."""
        with self._lock:
            queue = self._queues[queue_url]
            if message.receives >= max_receives:
                queue.messages.pop(message.message_id, None)
                queue.dead_letters.append(message)
                return
            heapq.heappush(queue.waiting, (message.visible_at, next(self._sequence), message.message_id))

    def messages_left(self, queue_url: str) -> int:
        with self._lock:
            return len(self._queues[queue_url].messages)

    def dead_letters(self, queue_url: str) -> list[QueuedMessage]:
        with self._lock:
            return list(self._queues[queue_url].dead_letters)


@dataclass(frozen=True)
class RecordedPut:
    path: str
    at: float
    body: dict[str, Any]


class _SignalHandler(QuietHandler):
    def do_PUT(self) -> None:
        recorder: SignalRecorder = self.server.stand_in
        recorder.clock.advance(recorder.clock.call_seconds)
        body = json.loads(self.body() or b"{}")
        with recorder.lock:
            recorder.puts.append(RecordedPut(self.path, recorder.clock.now(), body))
        self.reply(200, b"", "text/plain")


class SignalRecorder(LoopbackService):
    """WaitCondition handles: every PUT, with its time on the clock. HTTPS, as a handle's URL always is."""

    def __init__(self, clock: SimulatedClock, *, cert_file: str, key_file: str) -> None:
        self.clock = clock
        self.puts: list[RecordedPut] = []
        self.lock = threading.Lock()
        self._tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._tls.load_cert_chain(cert_file, key_file)

    def start(self) -> SignalRecorder:
        server = StandInServer(self, _SignalHandler)
        server.socket = self._tls.wrap_socket(server.socket, server_side=True)
        self._serve(server)
        return self

    def url(self, path: str) -> str:
        return self.endpoint_url.replace("http://", "https://") + "/" + path.lstrip("/")

    def puts_to(self, path: str) -> list[RecordedPut]:
        with self.lock:
            return [put for put in self.puts if put.path == "/" + path.lstrip("/")]
