"""The event store's append path (columnar binary insert): what a writer relies on."""

from __future__ import annotations

import uuid

import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent, Tracking

TOPIC = "domain.activity:Activity.Recorded"


def _events(originator: uuid.UUID, versions: range) -> list[StoredEvent]:
    return [StoredEvent(originator, v, TOPIC, b'{"n": %d}' % v) for v in versions]


def test_appends_return_positions_in_order_with_tracking_and_receipts(container):
    recorder = container.app.recorder
    first = recorder.insert_events(_events(uuid.uuid4(), range(1, 4)), tracking=Tracking("kafka-0", 10),
                                   receipts=["shop\x1fe-1", "shop\x1fe-2"])
    second = recorder.insert_events(_events(uuid.uuid4(), range(1, 3)), tracking=Tracking("kafka-0", 11))

    assert first == [1, 2, 3] and second == [4, 5]
    assert recorder.max_tracking_id("kafka-0") == 11
    assert set(recorder.select_receipts(["shop\x1fe-1", "shop\x1fe-2", "shop\x1fe-3"])) == {"shop\x1fe-1", "shop\x1fe-2"}
    stored = recorder.select_events(_originator_of(recorder, 4))
    assert [(e.originator_version, e.topic, e.state) for e in stored] == [(1, TOPIC, b'{"n": 1}'), (2, TOPIC, b'{"n": 2}')]


def test_a_version_conflict_stores_nothing_of_the_batch(container):
    recorder = container.app.recorder
    taken = uuid.uuid4()
    recorder.insert_events(_events(taken, range(1, 2)))
    other = uuid.uuid4()

    with pytest.raises(IntegrityError):
        recorder.insert_events([*_events(other, range(1, 3)), *_events(taken, range(1, 2))],
                               tracking=Tracking("kafka-0", 5), receipts=["shop\x1fe-9"])

    assert recorder.select_events(other) == []
    assert recorder.max_tracking_id("kafka-0") is None
    assert recorder.select_receipts(["shop\x1fe-9"]) == []


@pytest.mark.parametrize("position", [11, 10], ids=["the same position again", "a position behind"])
def test_a_tracking_position_that_does_not_advance_stores_nothing_of_the_batch(container, position):
    recorder = container.app.recorder
    recorder.insert_events(_events(uuid.uuid4(), range(1, 2)), tracking=Tracking("kafka-0", 11))
    late = uuid.uuid4()

    with pytest.raises(IntegrityError):
        recorder.insert_events(_events(late, range(1, 3)), tracking=Tracking("kafka-0", position),
                               receipts=["shop\x1fe-7"])

    assert recorder.select_events(late) == []
    assert recorder.max_tracking_id("kafka-0") == 11
    assert recorder.select_receipts(["shop\x1fe-7"]) == []
    # The pooled session is clean: the next position is taken.
    recorder.insert_events(_events(late, range(1, 2)), tracking=Tracking("kafka-0", 12))
    assert recorder.max_tracking_id("kafka-0") == 12 and len(recorder.select_events(late)) == 1


def test_a_duplicate_receipt_conflicts(container, caplog):
    recorder = container.app.recorder
    recorder.insert_events(_events(uuid.uuid4(), range(1, 2)), receipts=["shop\x1fe-1"])
    refused, then = uuid.uuid4(), uuid.uuid4()
    with pytest.raises(IntegrityError):
        recorder.insert_events(_events(refused, range(1, 2)), receipts=["shop\x1fe-1"])
    # Nothing of the refused insert stays, and its session is clean for the next one.
    (position,) = recorder.insert_events(_events(then, range(1, 2)), receipts=["shop\x1fe-2"])
    assert recorder.select_events(refused) == [] and recorder.select_events(then)[0].originator_version == 1
    assert recorder.max_notification_id() == position
    assert not [r for r in caplog.records if r.levelname == "WARNING"]


def test_live_subscribers_see_appended_events(container):
    recorder = container.app.recorder
    with recorder.subscribe(gt=0) as subscription:
        recorder.insert_events(_events(uuid.uuid4(), range(1, 3)))
        seen = [next(subscription).id, next(subscription).id]
    assert seen == [1, 2]


def _originator_of(recorder, notification_id: int) -> uuid.UUID:
    (notification,) = recorder.select_notifications(notification_id, 1)
    return notification.originator_id


def test_many_aggregates_are_read_in_one_call(container):
    recorder = container.app.recorder
    a, b, missing = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    recorder.insert_events([*_events(a, range(1, 4)), *_events(b, range(1, 2))])

    found = recorder.select_events_many([a, b, missing])

    assert set(found) == {a, b}
    assert [e.originator_version for e in found[a]] == [1, 2, 3]
    assert found[b][0].state == b'{"n": 1}'


@pytest.mark.parametrize(("build", "cast", "values"), [
    ("uuids", "uuid[]", [uuid.uuid4(), uuid.UUID(int=0), uuid.UUID(int=2**128 - 1)]),
    ("int8s", "bigint[]", [0, 1, -1, 2**63 - 1, -(2**63)]),
    ("texts", "text[]", ["", "a", "é€😀", "x" * 5000, "shop\x1fevt-1"]),
    ("byteas", "bytea[]", [b"", b"\x00\xff", b'{"a": 1}' * 100]),
    ("texts", "text[]", []),
])
def test_arrays_built_at_once_read_back_as_the_lists_they_came_from(database_url, build, cast, values):
    """The batch's parameters (``profiles.arrays``) are the very arrays psycopg sends."""
    import psycopg

    from profiles import arrays

    with psycopg.connect(database_url) as conn, conn.cursor() as curs:
        arrays.use(curs)
        built = getattr(arrays, build)(values)
        curs.execute(f"SELECT %b::{cast}, %b::{cast} = %b::{cast}", (built, built, values))
        got, same_as_psycopg = curs.fetchone()
    assert [bytes(v) if isinstance(v, memoryview) else v for v in got] == values
    assert same_as_psycopg
