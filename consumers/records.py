"""From Kafka record bytes to a validated envelope, or to the reason it is refused.

Decoding never raises: every way a message can be wrong becomes a ``Refusal`` with the
dead-letter code of DESIGN §3, so one malformed message can never stall its partition.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from domain import ingest, values
from domain.errors import DomainError
from domain.meta import Meta


@dataclass(frozen=True)
class Refusal:
    code: str
    message: str


def decode(value: bytes | None, domain: str | None = None) -> ingest.Envelope | Refusal:
    """``domain`` fills in an envelope that names none (a file imported into one domain)."""
    if value is None:
        return Refusal("invalid_json", "message has no value (tombstone)")
    try:
        raw: Any = orjson.loads(value)
    except orjson.JSONDecodeError as e:
        return Refusal("invalid_json", f"not UTF-8 JSON: {e.msg}" if hasattr(e, "msg") else "not UTF-8 JSON")
    if not isinstance(raw, dict):
        return Refusal("validation_error", "body: the envelope must be a JSON object")
    if values.carries_nul(value):
        return Refusal("validation_error", values.NUL_REFUSAL)
    if domain is not None:
        raw.setdefault("domain", domain)
    try:
        return ingest.parse(raw)
    except DomainError as e:
        return Refusal(e.code, e.detail)


_KAFKA = Meta(method="kafka", actor="kafka")


def kafka_meta(envelope: ingest.Envelope) -> Meta:
    """Provenance of a Kafka-borne change: the upstream's occurredAt becomes the event time."""
    return _KAFKA.at(envelope.occurredAt)
