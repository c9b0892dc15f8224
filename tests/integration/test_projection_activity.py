"""The activity feed: one entry per contact event, the 30-day window, paging, detail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.ingest import parse
from domain.meta import Meta


def api() -> Meta:
    return Meta(method="api", actor="key-shop")


def _ingest(app, envelopes: list[dict]) -> None:
    result = app.ingest([parse(e) for e in envelopes],
                        lambda e: Meta(method="kafka", actor="kafka", occurred_at=e.occurredAt))
    assert not [r for r in result.results if isinstance(r, Exception)], result.results


def _activity(n: int, at: datetime, name: str = "orderPlaced") -> dict:
    return {"eventId": f"act-{n}-{name}", "domain": "shop", "type": "activity", "occurredAt": at.isoformat(),
            "contact": {"email": "ann@example.com"}, "data": {"name": name, "properties": {"n": n}}}


def test_every_contact_event_is_an_entry_with_detail(container, runner):
    app, reads = container.app, container.read_model
    ann, _ = app.create_contact("shop", {"email": "ann@example.com", "firstName": "Ann"}, {}, api())
    app.change_subscription("shop", ann.id, "email", "subscribed", api(), confirmed=True, reason="asked at the desk")
    template, _ = app.create_template("shop", "email", "Welcome", "Hi {{ firstName }}", "Hello {{ firstName }}!", {}, api())
    app.approve_template("shop", template.id, api())
    sent, _ = app.send_message("shop", ann.id, "email", template.id, api())
    resent, _ = app.resend_message("shop", ann.id, sent.id, api())
    _ingest(app, [{"eventId": "st-1", "domain": "shop", "type": "message.status",
                   "occurredAt": datetime.now(tz=UTC).isoformat(), "contact": {"email": "ann@example.com"},
                   "data": {"messageId": str(sent.id), "status": "delivered"}},
                  _activity(1, datetime.now(tz=UTC))])
    app.set_variables("shop", ann.id, {"city": "Tartu"}, api())
    app.set_avatar("shop", ann.id, "https://img.example.com/a.png", api())
    app.blacklist("shop", ann.id, "sms", "manual", api())
    app.unblacklist("shop", ann.id, "sms", None, api())
    note, _ = app.add_note("shop", ann.id, "Very private words", "maria", api())
    app.delete_note("shop", ann.id, note, api())
    runner.catch_up()

    items, cursor = reads.activity("shop", ann.id)
    assert cursor is None
    types = [i["type"] for i in reversed(items)]
    assert types == ["contact.created", "subscription.changed", "message.sent", "message.resent", "message.status",
                     "activity", "contact.updated", "contact.updated", "blacklist.added", "blacklist.removed",
                     "note.added", "note.deleted"]
    by_type = {i["type"]: i for i in items}
    message = by_type["message.sent"]
    assert message["summary"] == "Email sent: Hi Ann"
    assert message["data"] | {"method": None, "actor": None} == {
        "messageId": str(sent.id), "channel": "email", "address": "ann@example.com", "subject": "Hi Ann",
        "body": "Hello Ann!", "templateId": str(template.id), "resendOf": None, "method": None, "actor": None}
    assert by_type["message.resent"]["data"]["resendOf"] == str(sent.id)
    assert by_type["message.status"]["data"]["status"] == "delivered"
    assert by_type["subscription.changed"]["summary"] == "Email: none → subscribed (asked at the desk)"
    assert by_type["activity"]["data"]["properties"] == {"n": 1}
    assert "Very private" not in str(items)
    assert reads.activity_entry("shop", ann.id, message["id"]) == message
    assert reads.activity_entry("shop", ann.id, "not-an-id") is None
    assert reads.activity_entry("blog", ann.id, message["id"]) is None

    only, _ = reads.activity("shop", ann.id, types=["message.sent", "message.resent"])
    assert [i["type"] for i in only] == ["message.resent", "message.sent"]
    pages, cursor, seen = 0, None, []
    while True:
        page, cursor = reads.activity("shop", ann.id, limit=5, cursor=cursor)
        seen += page
        pages += 1
        if cursor is None:
            break
    assert pages == 3 and seen == items


def test_window_is_the_last_30_days_and_export_has_everything(container, runner):
    app, reads = container.app, container.read_model
    now = datetime.now(tz=UTC)
    app.create_contact("shop", {"email": "ann@example.com"}, {}, Meta(occurred_at=now - timedelta(days=60)))
    inside, outside = now - timedelta(days=30) + timedelta(minutes=5), now - timedelta(days=30) - timedelta(minutes=5)
    _ingest(app, [_activity(1, inside, "inside"), _activity(2, outside, "outside"),
                  _activity(3, now - timedelta(hours=2), "today")])
    runner.catch_up()
    (contact,), _ = reads.find_contacts("shop", email="ann@example.com")
    items, _ = reads.activity("shop", contact["id"])
    assert [i["summary"] for i in items] == ["today", "inside"]
    assert [i["summary"] for i in reads.activity("shop", contact["id"], days=1)[0]] == ["today"]
    exported = list(reads.export_activity("shop", contact["id"]))
    assert [i["type"] for i in exported] == ["contact.created", "activity", "activity", "activity"]
    assert [i["summary"] for i in exported[1:]] == ["outside", "inside", "today"]  # oldest first
    with pytest.raises(Exception) as refused:
        reads.activity("shop", contact["id"], days=31)
    assert getattr(refused.value, "code", None) == "validation_error" or "days" in str(refused.value)


def test_a_contact_with_100000_entries_reads_its_page_as_fast_as_a_new_one(container, runner):
    import statistics
    import time

    import psycopg

    app, reads = container.app, container.read_model
    heavy, _ = app.create_contact("shop", {"email": "heavy@example.com"}, {}, api())
    light, _ = app.create_contact("shop", {"email": "light@example.com"}, {}, api())
    runner.catch_up()
    with psycopg.connect(container.database_url, autocommit=True) as conn:  # five years of history
        conn.execute(
            f'INSERT INTO "{container.settings.db_schema}".activity_feed (id, domain, contact_id, occurred_at, '
            "position, type, name, summary, data) SELECT md5('h' || n)::uuid, 'shop', %s, "
            "now() - n * interval '26 min', 0, 'activity', 'pageViewed', 'pageViewed', '{}' "
            "FROM generate_series(1, 100000) n", (heavy.id,))
        conn.execute(f'ANALYZE "{container.settings.db_schema}".activity_feed')

    def timed(contact_id) -> float:
        runs = []
        for _ in range(15):
            started = time.perf_counter()
            reads.activity("shop", contact_id, limit=50, types=None)
            runs.append(time.perf_counter() - started)
        return statistics.median(runs)

    timed(heavy.id), timed(light.id)  # warm up
    heavy_time, light_time = timed(heavy.id), timed(light.id)
    assert len(reads.activity("shop", heavy.id, limit=50)[0]) == 50
    print(f"30-day page: heavy {heavy_time * 1000:.2f} ms, new {light_time * 1000:.2f} ms")
    assert heavy_time < max(3 * light_time, light_time + 0.010), (heavy_time, light_time)
