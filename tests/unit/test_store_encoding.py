"""The write path's faster encodings store exactly what the library's would."""

from __future__ import annotations

import json
import math
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import StrEnum

import pytest
from eventsourcing.persistence import DatetimeAsISO, DecimalAsStr, JSONTranscoder, UUIDAsHex
from hypothesis import given
from hypothesis import strategies as st
from pydantic import AwareDatetime, TypeAdapter

from domain.ids import NameIds
from profiles.transcoder import Transcoder


@given(st.text())
def test_name_ids_are_the_uuid5_ids_stored_before(name):
    ids = NameIds("https://contact-profiles/activity")
    made = ids(name)
    expected = uuid.uuid5(uuid.uuid5(uuid.NAMESPACE_URL, "https://contact-profiles/activity"), name)
    assert made == expected
    assert (str(made), made.version, made.variant, hash(made)) == (
        str(expected), 5, uuid.RFC_4122, hash(expected))


def _registered(transcoder):
    for transcoding in (UUIDAsHex(), DatetimeAsISO(), DecimalAsStr()):
        transcoder.register(transcoding)
    return transcoder


LIBRARY, FAST = _registered(JSONTranscoder()), _registered(Transcoder())

_keys = st.text(max_size=8)
_leaves = (st.none() | st.booleans() | st.integers() | st.floats() | st.text() | st.uuids()
           | st.datetimes(timezones=st.just(UTC)) | st.decimals(allow_nan=False))
_states = st.recursive(_leaves, lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
                       | st.dictionaries(_keys, inner, max_size=4), max_leaves=20)


def _same(a, b):
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(_same, a, b))
    return type(a) is type(b) and a == b


_offsets = st.timedeltas(min_value=timedelta(hours=-23, minutes=-59), max_value=timedelta(hours=23, minutes=59))


@given(st.datetimes(timezones=st.none() | st.timezones() | st.builds(timezone, _offsets)))
def test_a_datetime_is_stored_as_the_library_spells_it(moment):
    """Every zone's spelling, offsets of seconds (old local mean times) included."""
    assert json.loads(FAST.encode({"at": moment})) == json.loads(LIBRARY.encode({"at": moment}))
    assert json.loads(FAST.encode({"at": moment}))["at"]["_data_"] == moment.isoformat()


def test_a_time_spelt_once_is_not_spelt_for_another():
    """The transcoder keeps the last time it spelt: the same object, not an equal one."""
    utc = datetime(2026, 11, 29, 12, tzinfo=UTC)
    plus_two = utc.astimezone(timezone(timedelta(hours=2)))  # equal to it, spelt otherwise
    for moment in (utc, utc, plus_two, utc):
        assert json.loads(FAST.encode({"at": moment}))["at"]["_data_"] == moment.isoformat()


_minute_offsets = st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59).map(lambda m: timedelta(minutes=m))


@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                    timezones=st.builds(timezone, _minute_offsets)))
def test_a_time_pydantic_parsed_is_stored_as_the_library_spells_it(moment):
    """Every envelope's occurredAt: its zone is pydantic's, with an offset of whole minutes."""
    parsed = TypeAdapter(AwareDatetime).validate_python(moment.isoformat())
    assert type(parsed.tzinfo).__name__ == "TzInfo"
    assert json.loads(FAST.encode({"at": parsed}))["at"]["_data_"] == parsed.isoformat() == moment.isoformat()


@given(st.dictionaries(_keys, _states, max_size=6))
def test_any_event_state_reads_back_as_the_library_writes_it(state):
    written = FAST.encode(state)
    assert _same(LIBRARY.decode(written), LIBRARY.decode(LIBRARY.encode(state)))
    assert _same(FAST.decode(LIBRARY.encode(state)), LIBRARY.decode(written))


class Plan(StrEnum):
    GOLD = "gold"


@pytest.mark.parametrize("value", [
    2**70, -(2**64), math.inf, float("nan"), Plan.GOLD, True, {1: "a"},
    datetime(2026, 11, 29, 12, tzinfo=timezone(timedelta(hours=2))), Decimal("1.10"),
])
def test_values_orjson_writes_differently_are_left_to_the_library(value):
    state = {"timestamp": datetime.now(tz=UTC), "v": value, "nested": [{"v": value}]}
    assert FAST.encode(state) == LIBRARY.encode(state) or _same(
        LIBRARY.decode(FAST.encode(state)), LIBRARY.decode(LIBRARY.encode(state)))


def test_what_the_library_cannot_store_is_refused_the_same_way():
    for value in (date(2026, 1, 1), object()):
        with pytest.raises(TypeError) as library:
            LIBRARY.encode({"v": value})
        with pytest.raises(TypeError) as fast:
            FAST.encode({"v": value})
        assert type(fast.value) is type(library.value)


def test_the_mapper_stores_events_as_the_library_mapper_does():
    from eventsourcing.persistence import Mapper

    from domain.activity import Activity
    from domain.contact import Contact
    from domain.meta import Meta
    from profiles.transcoder import StateMapper

    ann = Contact.create("shop", {"email": "ann@example.com"}, {"firstName": "Ann"}, {"plan": "gold"}, Meta())
    ann.set_variables({"score": 2**70, "ratio": 0.5}, Meta())  # 2**70: left to the library's encoder
    activity = Activity.recorded(uuid.uuid4(), "shop", ann.id, "orderPlaced", {"total": 12.5, "items": [1, 2]}, Meta())
    events = [*ann.collect_events(), activity.event()]
    ours, theirs = StateMapper(transcoder=FAST), Mapper(transcoder=LIBRARY)
    # An activity is stored from its fields, without the event object: the same row.
    assert ours.stored_from_fields(activity) == ours.to_stored_event(activity.event())
    for event in events:
        stored, expected = ours.to_stored_event(event), theirs.to_stored_event(event)
        assert (stored.originator_id, stored.originator_version, stored.topic) == (
            expected.originator_id, expected.originator_version, expected.topic)
        assert _same(LIBRARY.decode(stored.state), LIBRARY.decode(expected.state))
        assert ours.to_domain_event(stored) == theirs.to_domain_event(expected)


def test_stored_events_made_by_the_mapper_are_the_library_s_stored_events():
    from eventsourcing.persistence import StoredEvent

    from profiles.transcoder import _stored_event

    made, expected = _stored_event(uuid.UUID(int=7), 3, "a:B", b"{}"), StoredEvent(uuid.UUID(int=7), 3, "a:B", b"{}")
    assert made == expected and vars(made) == vars(expected) and repr(made) == repr(expected)
    with pytest.raises(AttributeError):  # still frozen
        made.topic = "other"
