"""The event store's JSON, written by orjson.

It stores exactly what the library's ``JSONTranscoder`` stores — plain JSON, with each
UUID, datetime or Decimal as a ``{"_type_": …, "_data_": …}`` object — so events written
by either read back the same through either. Encoding every new event and snapshot with
the standard library's encoder, calling back into Python for each UUID and datetime, was
about a tenth of the write path (bench B1).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from functools import cache
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.domain import Aggregate, DomainEventProtocol
from eventsourcing.persistence import DatetimeAsISO, JSONTranscoder, Mapper, StoredEvent, Transcoding, UUIDAsHex
from eventsourcing.utils import get_topic
from pydantic_core import TzInfo

from domain.unit_of_work import NewEvent

_PLAIN = frozenset((str, int, bool, type(None)))


class _Unplain(Exception):
    """A value orjson would write differently (NaN, a subclass): the library's encoder writes it."""


class Transcoder(JSONTranscoder):
    def __init__(self) -> None:
        super().__init__()
        self._inline_uuid = self._inline_datetime = False
        self._last_time: tuple[Any, str] = (None, "")

    def register(self, transcoding: Transcoding) -> None:
        super().register(transcoding)
        # The library's own transcodings of the commonest types are written inline.
        self._inline_uuid = type(self.types.get(UUID)) is UUIDAsHex
        self._inline_datetime = type(self.types.get(datetime)) is DatetimeAsISO

    def encode(self, obj: Any) -> bytes:
        try:
            return orjson.dumps(self._plain(obj))
        except (_Unplain, orjson.JSONEncodeError):
            # Integers beyond 64 bits, NaN, dict keys that are not strings, str or int
            # subclasses …: the standard library's encoder writes (or refuses) those.
            return super().encode(obj)

    def encode_state(self, state: dict[str, Any], class_version: int) -> bytes:
        """``encode`` of an event's attributes without its originator id and version, as
        the library's mapper stores them."""
        stored = dict(state)
        del stored["originator_id"], stored["originator_version"]
        try:
            return self._dumps(stored, class_version)
        except (_Unplain, orjson.JSONEncodeError):
            return self._library_encode(state, class_version)

    def encode_fields(self, fields: dict[str, Any], class_version: int) -> bytes:
        """``encode_state`` of an event given as its fields: all but its originator id and version."""
        try:
            return self._dumps(dict(fields), class_version)
        except (_Unplain, orjson.JSONEncodeError):
            return self._library_encode(fields, class_version)

    def _dumps(self, stored: dict[str, Any], class_version: int) -> bytes:
        """``stored`` written by orjson; a copy the caller made: its values are replaced."""
        if class_version > 1:
            stored["class_version"] = class_version
        for key, value in stored.items():
            if type(value) not in _PLAIN:
                stored[key] = self._plain(value)  # the same keys: safe while iterating
        return orjson.dumps(stored)

    def _library_encode(self, state: dict[str, Any], class_version: int) -> bytes:
        stored = {key: value for key, value in state.items() if key not in ("originator_id", "originator_version")}
        if class_version > 1:
            stored["class_version"] = class_version
        return super().encode(stored)  # as ``encode`` does

    def _plain(self, value: Any) -> Any:
        """``value`` with every UUID, datetime … turned into its ``_type_`` object, as the
        library's encoder would on meeting it; containers without any are not copied."""
        kind = type(value)
        if kind in _PLAIN:
            return value
        if kind is datetime and self._inline_datetime:
            # A new contact's events (the contact's and each claim's) share their envelope's
            # time, the very object: spelt once (-1.5 % of B1's instructions where most
            # envelopes create contacts). Value and spelling are swapped as one tuple, so
            # threads sharing the transcoder can only spell a time again, never wrongly.
            spelt = self._last_time
            if spelt[0] is not value:
                spelt = self._last_time = (value, _isoformat(value))
            return {"_type_": "datetime_iso", "_data_": spelt[1]}
        if kind is UUID and self._inline_uuid:
            return {"_type_": "uuid_hex", "_data_": value.int.to_bytes(16).hex()}  # ``.hex``, twice as fast
        if kind is dict:
            copy = None
            for key, item in value.items():
                if type(item) in _PLAIN:
                    continue
                plain = self._plain(item)
                if plain is not item:
                    if copy is None:
                        copy = dict(value)
                    copy[key] = plain
            return value if copy is None else copy
        if kind is list or kind is tuple:
            for item in value:
                if type(item) not in _PLAIN:
                    return [self._plain(item) for item in value]
            return value  # orjson writes a tuple as the library does: an array
        if kind is float:
            if not math.isfinite(value):
                raise _Unplain  # the library writes NaN/Infinity; orjson would write null
            return value
        if isinstance(value, (str, int, float, dict, list, tuple)):
            raise _Unplain  # a subclass: the standard library writes it as its base type
        # Another registered transcoding (Decimal …), or the library's refusal.
        return self._encode_obj(value)


def _isoformat(value: datetime) -> str:
    """``value.isoformat()``, written by orjson: the C ``isoformat`` formats through
    printf (about 1 % of the write path, bench B1: an event's timestamp each). orjson
    writes the same text except for offsets of seconds (old local mean times), which it
    rounds to the minute: those take ``isoformat``. A time pydantic parsed (every
    envelope's) has an offset of whole minutes: it reads none finer."""
    tz = value.tzinfo
    if tz is not UTC and type(tz) is not TzInfo:
        offset = value.utcoffset()
        if offset is not None and (offset.seconds % 60 or offset.microseconds):
            return value.isoformat()
    return orjson.dumps(value)[1:-1].decode()


class StateMapper(Mapper[UUID]):
    """The library's mapper, storing an event's state through ``Transcoder.encode_state``
    when nothing is compressed or enciphered (as here)."""

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        transcoder = self.transcoder
        if self.compressor or self.cipher or not isinstance(transcoder, Transcoder):
            return super().to_stored_event(domain_event)
        state = vars(domain_event)
        topic, class_version = _stored_as(type(domain_event))
        return _stored_event(state["originator_id"], state["originator_version"], topic,
                             transcoder.encode_state(state, class_version))

    def stored_from_fields(self, new: NewEvent) -> StoredEvent:
        """``to_stored_event(new.event())``, without building the event object."""
        transcoder = self.transcoder
        if self.compressor or self.cipher or not isinstance(transcoder, Transcoder):
            return super().to_stored_event(new.event())
        topic, class_version = _stored_as(new.event_class)
        return _stored_event(new.originator_id, Aggregate.INITIAL_VERSION, topic,
                             transcoder.encode_fields(new.fields, class_version))


def _stored_event(originator_id: UUID, originator_version: int, topic: str, state: bytes) -> StoredEvent:
    """``StoredEvent(originator_id, originator_version, topic, state)``: the frozen
    dataclass's ``__init__`` sets each field through ``object.__setattr__``, which was
    a third of the cost of storing an activity's event (bench B1: one per event)."""
    made = object.__new__(StoredEvent)
    vars(made).update(originator_id=originator_id, originator_version=originator_version, topic=topic, state=state)
    return made


@cache
def _stored_as(kind: type) -> tuple[str, int]:
    """An event class's topic and version, looked up once: a class without a
    ``class_version`` answers ``getattr`` by raising (and formatting) an AttributeError."""
    return get_topic(kind), getattr(kind, "class_version", 1)
