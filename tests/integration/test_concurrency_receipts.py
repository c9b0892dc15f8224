"""The same eventId is applied once (DESIGN §3), also when two processes get it at once
(published twice, on two partitions) and when applying it changed nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial

from domain import application, ingest
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
    """Deterministic form of the race: another process applies e1 and then e2 between
    this process's duplicate check and its save."""
    api = container.app
    (ann,) = feed(api, envelope("up", "contact.upserted", {}))
    api.contact("shop", ann)  # cached here, soon stale
    consumer = other_process(container.env)
    try:
        feed(consumer, city("e1", "A"), city("e2", "B"))
    finally:
        consumer.close()
    result = api.execute([partial(application._ingest_one, city("e1", "A"), AT)])
    assert isinstance(result.results[0], ingest.Duplicate)
    assert api.contact("shop", ann).variables == {"city": "B"}


def test_processes_racing_on_one_event_id_apply_it_once(container):
    (ann,) = feed(container.app, envelope("up", "contact.upserted", {}))
    (results,) = race(container.env, lambda app, n, r: feed(app, envelope("e3", "contact.variables_set",
                                                                          {"variables": {"n": 1}}))[0], threads=4)
    assert [r for r in results if not isinstance(r, ingest.Duplicate)] == [ann], results
