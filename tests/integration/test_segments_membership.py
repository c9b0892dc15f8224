"""Segment membership: back-fill on definition, incremental changes, clock ticks,
deletion and removal, with the entry/exit history merged into the feed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.ingest import parse
from domain.meta import Meta


def api(at: datetime | None = None) -> Meta:
    return Meta(method="api", actor="key-shop", occurred_at=at or datetime.now(tz=UTC))


def _ids(items: list[dict]) -> set[str]:
    return {i["id"] for i in items}


def test_backfill_then_incremental_changes(container, runner):
    app, reads = container.app, container.read_model
    vip, _ = app.create_contact("shop", {"email": "vip@example.com"}, {"vip": True, "score": 90}, api())
    plain, _ = app.create_contact("shop", {"email": "plain@example.com"}, {"vip": False, "score": 10}, api())
    other, _ = app.create_contact("blog", {"email": "vip@example.com"}, {"vip": True}, api())
    runner.catch_up()
    segment, _ = app.define_segment("shop", "VIPs", {"field": "variables.vip", "op": "eq", "value": True}, api())
    high, _ = app.define_segment("shop", "High score", {"all": [
        {"field": "variables.score", "op": "gte", "value": 50},
        {"field": "email", "op": "contains", "value": "@example.com"}]}, api())
    runner.catch_up()
    members, _ = reads.segment_members("shop", segment.id)
    assert [m["id"] for m in members] == [str(vip.id)] and members[0]["email"] == "vip@example.com"
    assert reads.segment("shop", segment.id)["members"] == 1
    assert _ids(reads.contact_segments("shop", vip.id)) == {str(segment.id), str(high.id)}
    assert reads.contact_segments("blog", other.id) == []  # segments never cross domains

    app.set_variables("shop", plain.id, {"vip": True, "score": 60}, api())
    app.set_variables("shop", vip.id, {"vip": None}, api())
    runner.catch_up()
    assert _ids(reads.segment_members("shop", segment.id)[0]) == {str(plain.id)}
    assert {s["name"] for s in reads.segments("shop")} == {"VIPs", "High score"}
    assert {s["name"]: s["members"] for s in reads.segments("shop")} == {"VIPs": 1, "High score": 2}
    feed = [i for i in reads.activity("shop", vip.id)[0] if i["type"].startswith("segment.")]
    assert [(i["type"], i["data"]["segmentName"]) for i in feed] == [
        ("segment.exited", "VIPs"), ("segment.entered", "High score"), ("segment.entered", "VIPs")]
    entry = next(i for i in feed if i["type"] == "segment.exited")
    assert reads.activity_entry("shop", vip.id, entry["id"]) == entry
    assert reads.activity("shop", vip.id, types=["segment.entered"])[0][0]["type"] == "segment.entered"

    app.redefine_segment("shop", segment.id, "Score 5+", {"field": "variables.score", "op": "gt", "value": 5}, api())
    app.remove_contact("shop", plain.id, api())
    runner.catch_up()
    assert _ids(reads.segment_members("shop", segment.id)[0]) == {str(vip.id)}
    app.delete_segment("shop", high.id, api())
    runner.catch_up()
    assert reads.segment("shop", high.id) is None
    assert _ids(reads.contact_segments("shop", vip.id)) == {str(segment.id)}
    exits = [i for i in reads.activity("shop", vip.id)[0] if i["summary"] == "Exited segment High score"]
    assert len(exits) == 1


def test_time_relative_rules_follow_recorded_clock_ticks(container, runner):
    app, reads = container.app, container.read_model
    start = datetime.now(tz=UTC) - timedelta(days=3)
    ann, _ = app.create_contact("shop", {"email": "ann@example.com"}, {}, api(start))
    new, _ = app.define_segment("shop", "New", {"field": "createdAt", "op": "withinLastDays", "value": 2}, api(start))
    buyers, _ = app.define_segment("shop", "Buyers", {"activity": "orderPlaced", "op": "countGte", "value": 1,
                                                      "withinDays": 1}, api(start))
    runner.catch_up()
    assert _ids(reads.contact_segments("shop", ann.id)) == {str(new.id)}

    ordered_at = start + timedelta(hours=1)
    app.ingest([parse({"eventId": "o1", "domain": "shop", "type": "activity", "occurredAt": ordered_at.isoformat(),
                       "contact": {"email": "ann@example.com"}, "data": {"name": "orderPlaced"}})],
               lambda e: Meta(method="kafka", actor="kafka", occurred_at=e.occurredAt))
    runner.catch_up()
    assert _ids(reads.contact_segments("shop", ann.id)) == {str(new.id), str(buyers.id)}

    tick = start + timedelta(days=1, hours=2)
    app.tick(Meta(method="api", actor="clock", occurred_at=tick))  # the order is now older than a day
    runner.catch_up()
    assert _ids(reads.contact_segments("shop", ann.id)) == {str(new.id)}
    app.tick(Meta(method="api", actor="clock", occurred_at=start + timedelta(days=2, hours=1)))
    runner.catch_up()
    assert reads.contact_segments("shop", ann.id) == []
    history = [(i["summary"], i["occurredAt"]) for i in reads.export_activity("shop", ann.id)
               if i["type"].startswith("segment.")]
    assert history == [
        ("Entered segment New", start.isoformat()),
        ("Entered segment Buyers", ordered_at.isoformat()),
        ("Exited segment Buyers", tick.isoformat()),
        ("Exited segment New", (start + timedelta(days=2, hours=1)).isoformat()),
    ]
