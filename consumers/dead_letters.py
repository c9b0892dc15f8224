"""The dead-letter topic: where refused messages go, with everything needed to replay them.

A letter is confirmed by the broker (``acks=all``) before the caller moves the partition
on; a publish that fails raises, so the consumer stops rather than skip a message.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson


class DeadLetterFailed(RuntimeError):
    """The broker did not confirm a dead letter: the batch must not be recorded as done."""


@dataclass(frozen=True)
class DeadLetter:
    code: str
    message: str
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None

    @classmethod
    def of(cls, record: Any, code: str, message: str) -> DeadLetter:
        return cls(code=code, message=message, topic=record.topic, partition=record.partition,
                   offset=record.offset, key=record.key, value=record.value)

    def payload(self, received_at: datetime) -> bytes:
        return orjson.dumps({
            "code": self.code,
            "message": self.message,
            "topic": self.topic,
            "partition": self.partition,
            "offset": self.offset,
            "value": base64.b64encode(self.value or b"").decode("ascii"),
            "receivedAt": received_at.isoformat().replace("+00:00", "Z"),
        })


class DeadLetterPublisher:
    def __init__(self, producer: Any, topic: str, timeout: float = 30.0) -> None:
        self._producer = producer
        self._topic = topic
        self._timeout = timeout

    def publish(self, letters: list[DeadLetter]) -> None:
        """Send and wait for every letter's acknowledgement; raise if any is missing."""
        if not letters:
            return
        now = datetime.now(tz=UTC)
        first = letters[0]
        try:
            futures = [self._producer.send(self._topic, key=letter.key, value=letter.payload(now))
                       for letter in letters]
            self._producer.flush(timeout=self._timeout)
            for future in futures:
                future.get(timeout=self._timeout)
        except Exception as e:  # any client or broker error: none of these letters is safe
            raise DeadLetterFailed(f"{len(letters)} dead letter(s) from {first.topic}:{first.partition}:"
                                   f"{first.offset} not confirmed: {type(e).__name__}") from e
