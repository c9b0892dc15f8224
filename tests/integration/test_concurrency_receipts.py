"""The same eventId is applied once (DESIGN §3), also when two processes get it at once
(published twice, on two partitions) and when applying it changed nothing."""

from __future__ import annotations

from datetime import UTC, datetime

from domain import ingest
from domain.meta import Meta
from tests.integration.processes import other_process, race

AT = Meta(method="kafka", actor="kafka", occurred_at=datetime(2026, 1, 1, 10, tzinfo=UTC))


def envelope(event_id: str, type_: str, data: dict) -> ingest.Envelope:
    return ingest.parse({"eventId": event_id, "domain": "shop", "type": type_, "occurredAt": "2026-01-01T10:00:00Z",
                         "contact": {"userId": "u-1"}, "data": data})


def city(event_id: str, value: str) -> ingest.Envelope:
    return envelope(event_id, "contact.variables_set", {"variables": {"city": value}})


def feed(app, *envelopes):
    return app.ingest(list(envelopes), lambda e: AT).results


def test_an_event_that_changed_nothing_is_remembered(container):
    app = container.app
    (ann,) = feed(app, envelope("up", "contact.upserted", {"variables": {"city": "A"}}))
    feed(app, city("e1", "A"))  # no change, but applied
    feed(app, city("e2", "B"))
    assert isinstance(feed(app, city("e1", "A"))[0], ingest.Duplicate)
    assert app.contact("shop", ann).variables == {"city": "B"}


def test_a_receipt_stored_after_the_duplicate_check_makes_a_duplicate(container):
    """Deterministic form of the race: another process applies e1 and then e2 after this
    process cached the contact; this process then gets e1 again (the batch runs without
    looking its receipts up first: the receipts' key finds e1 as it saves)."""
    api = container.app
    (ann,) = feed(api, envelope("up", "contact.upserted", {}))
    api.contact("shop", ann)  # cached here, soon stale
    consumer = other_process(container.env)
    try:
        feed(consumer, city("e1", "A"), city("e2", "B"))
    finally:
        consumer.close()
    assert isinstance(feed(api, city("e1", "A"))[0], ingest.Duplicate)
    assert api.contact("shop", ann).variables == {"city": "B"}


def test_processes_racing_on_one_event_id_apply_it_once(container):
    (ann,) = feed(container.app, envelope("up", "contact.upserted", {}))
    (results,) = race(container.env, lambda app, n, r: feed(app, envelope("e3", "contact.variables_set",
                                                                          {"variables": {"n": 1}}))[0], threads=4)
    assert [r for r in results if not isinstance(r, ingest.Duplicate)] == [ann], results


def subscription(event_id: str, status: str) -> ingest.Envelope:
    return envelope(event_id, "subscription.changed", {"channel": "sms", "status": status, "address": "+37255512345"})


def test_a_duplicate_among_new_events_is_applied_once_and_the_new_ones_once(container):
    """Receipts are not looked up before a batch runs: the duplicate is met as the batch
    is saved, and the batch replays."""
    app = container.app
    (ann,) = feed(app, envelope("up", "contact.upserted", {}))
    feed(app, city("e1", "A"))
    results = feed(app, city("e2", "B"), city("e1", "A"), city("e3", "C"))
    assert [type(r) for r in results] == [type(ann), ingest.Duplicate, type(ann)]
    assert app.contact("shop", ann).variables == {"city": "C"}
    assert len(app.repository.get(ann).pending_events) == 0 and app.repository.get(ann).version == 4  # up, e1, e2, e3


def test_a_duplicate_that_would_be_refused_now_is_a_duplicate_and_never_dead_lettered(container):
    app = container.app
    feed(app, envelope("up", "contact.upserted", {}))
    feed(app, subscription("s1", "subscribed"))
    feed(app, envelope("b1", "blacklist.added", {"channel": "sms"}))
    letters: list = []
    result = app.ingest([subscription("s1", "subscribed"), subscription("s2", "subscribed")], lambda e: AT,
                        before_save=letters.extend)
    assert isinstance(result.results[0], ingest.Duplicate)
    assert result.results[1].code == "blacklisted"
    assert [i for i, _ in letters] == [1]


def test_after_a_duplicate_the_next_batches_look_their_receipts_up_before_running(container, monkeypatch):
    """Upstream systems that send a duplicate tend to send many (a replayed topic): the
    first batch meets it as it saves and replays; the batches after it find theirs first."""
    app = container.app
    (ann,) = feed(app, envelope("up", "contact.upserted", {}))
    feed(app, city("a1", "A"), city("b1", "B"))
    saves: list[int] = []
    insert = app.recorder.insert_events
    monkeypatch.setattr(app.recorder, "insert_events",
                        lambda events, **kw: saves.append(len(events)) or insert(events, **kw))
    assert [type(r) for r in feed(app, city("a1", "A"), city("a2", "C"))] == [ingest.Duplicate, type(ann)]
    assert saves == [2, 1]  # the first save met a1's receipt; the replay saved a2's event alone
    saves.clear()
    assert [type(r) for r in feed(app, city("b1", "B"), city("b2", "D"))] == [ingest.Duplicate, type(ann)]
    assert saves == [1]
    assert app.contact("shop", ann).variables == {"city": "D"}
