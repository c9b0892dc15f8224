"""Stored events decoded straight from their JSON, for the projections.

The projections read thousands of events per batch; building full domain-event objects
through the application's mapper costs more than applying them. The stored state is the
library's JSON (``{"_type_": "datetime_iso" | "uuid_hex", "_data_": ...}`` for the few
non-JSON values), so a flat decode of the top-level fields is exact and several times
faster. Only the event classes' topics are used from ``domain/``.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from domain.values import without_nul

PREFIXES = {
    "Contact": "domain.contact:Contact.",
    "Message": "domain.message:Message.",
    "Activity": "domain.activity:Activity.",
    "Template": "domain.template:Template.",
    "Segment": "domain.segment:Segment.",
    "Clock": "domain.clock:Clock.",
}


def topics(*names: str) -> tuple[str, ...]:
    """``topics("Contact.Created")`` → the stored topic strings."""
    out = []
    for name in names:
        kind, _, event = name.partition(".")
        out.append(PREFIXES[kind] + event)
    return tuple(out)


@dataclass(slots=True)
class Fact:
    """One stored event: where it is in the log, what it is, when it happened."""

    position: int
    originator_id: str  # canonical uuid text: str hashes are cached, UUID hashes are not
    version: int
    kind: str  # "Contact.Updated"
    at: str  # ISO timestamp of the fact, in UTC
    when: datetime
    data: dict[str, Any]


def _value(value: Any) -> Any:
    if type(value) is dict and "_type_" in value:
        kind, raw = value["_type_"], value["_data_"]
        if kind == "uuid_hex":
            return f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"
        if kind == "datetime_iso":
            return raw
    return value


_TYPED = ("contact_id", "template_id", "resend_of")  # the only non-JSON fields besides the timestamp
_KINDS: dict[str, tuple[str, tuple[str, ...]]] = {}  # topic -> (kind, typed fields it may have)


def _kind(topic: str) -> tuple[str, tuple[str, ...]]:
    kind = topic[topic.index(":") + 1:]
    # Contact events carry no typed field (their own id is the originator's).
    spec = _KINDS[topic] = (kind, () if kind.startswith("Contact.") else _TYPED)
    return spec


def decode(position: int, originator_id: str, version: int, topic: str, state: bytes) -> Fact:
    # A NUL, which no projection table can hold, is refused on the way in; one stored
    # before that was refused would otherwise stop every projection at its event.
    data = orjson.loads(without_nul(state))
    at = data.pop("timestamp")["_data_"]
    when = datetime.fromisoformat(at)
    if not at.endswith("+00:00"):
        # An upstream time keeps the offset it came with ("…+02:00"). Every read shows
        # UTC, as the feed's timestamptz columns do: a profile's createdAt said 12:00+02:00
        # beside its feed's 10:00+00:00, and segment rules compare these strings.
        with suppress(OverflowError):  # a year-0 time stored before ingest refused them
            when = when.astimezone(UTC)
            at = when.isoformat()
    kind, typed = _KINDS.get(topic) or _kind(topic)
    for key in typed:
        value = data.get(key)
        if value is not None:
            data[key] = _value(value)
    return Fact(position, originator_id if type(originator_id) is str else str(originator_id), version, kind, at,
                when, data)
