"""The sample domain ``demo``: realistic contacts, templates, segments and a few weeks of
activity, loaded once through the same batch path as Kafka (``method="import"``)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from domain import handlers
from domain.application import ContactProfiles
from domain.ingest import parse
from domain.meta import Meta

DOMAIN = "demo"
PEOPLE = [
    ("Anna", "Tamm", "et", "Europe/Tallinn", "+37255512345", "Tallinn"),
    ("Mark", "Kask", "et", "Europe/Tallinn", "+37255512346", "Tartu"),
    ("Liis", "Saar", "et", "Europe/Tallinn", "+37255512347", "Pärnu"),
    ("John", "Smith", "en", "Europe/London", "+447700900123", "London"),
    ("Emma", "Brown", "en", "Europe/London", "+447700900124", "Leeds"),
    ("Lukas", "Müller", "de", "Europe/Berlin", "+4915112345678", "Berlin"),
    ("Sofia", "Rossi", "it", "Europe/Rome", "+393123456789", "Milano"),
    ("Maria", "Garcia", "es", "Europe/Madrid", "+34612345678", "Madrid"),
    ("Olga", "Ivanova", "ru", "Europe/Riga", "+37120012345", "Riga"),
    ("Jonas", "Kazlauskas", "lt", "Europe/Vilnius", "+37061234567", "Vilnius"),
    ("Chloé", "Martin", "fr", "Europe/Paris", "+33612345678", "Lyon"),
    ("Ava", "Johnson", "en", "America/New_York", "+12125550123", "New York"),
]
ACTIVITIES = ("pageViewed", "productViewed", "cartUpdated", "orderPlaced")


def load_demo(app: ContactProfiles, *, now: datetime | None = None, seed: int = 7) -> bool:
    """Load the demo domain unless it is there already. Returns whether it loaded."""
    from domain.unit_of_work import UnitOfWork

    if handlers.owner(UnitOfWork(app), DOMAIN, "email", "anna.tamm@example.com") is not None:
        return False
    rng = random.Random(seed)
    now = now or datetime.now(tz=UTC)
    start = now - timedelta(days=24)
    envelopes: list[dict[str, Any]] = []
    for n, (first, last, lang, tz, phone, city) in enumerate(PEOPLE):
        email = f"{first.lower().replace('é', 'e')}.{last.lower().replace('ü', 'u')}@example.com"
        ref = {"email": email}
        at = start + timedelta(hours=n)
        envelopes.append(_env(f"demo-{n}-up", "contact.upserted", at, {"userId": f"u-{1000 + n}", **ref}, {
            "phoneNumber": phone, "firstName": first, "lastName": last, "language": lang, "timezone": tz,
            "birthday": f"{1970 + 3 * n}-0{1 + n % 9}-1{n % 9}",
            "avatarLink": f"https://i.pravatar.cc/150?u={n}",
            "variables": {"city": city, "loyaltyPoints": rng.randint(0, 900), "vip": n % 4 == 0},
        }))
        envelopes.append(_env(f"demo-{n}-email", "subscription.changed", at + timedelta(minutes=1), ref,
                              {"channel": "email", "status": "subscribed", "reason": "signup form"}))
        if n % 2 == 0:
            envelopes.append(_env(f"demo-{n}-sms", "subscription.changed", at + timedelta(minutes=2), ref,
                                  {"channel": "sms", "status": "subscribed", "reason": "checkout opt-in"}))
        if n % 3 == 0:
            envelopes.append(_env(f"demo-{n}-tg", "subscription.changed", at + timedelta(minutes=3), ref,
                                  {"channel": "telegram", "status": "subscribed", "address": str(100000 + n)}))
        if n % 5 == 4:
            envelopes.append(_env(f"demo-{n}-bl", "blacklist.added", at + timedelta(days=3), ref,
                                  {"channel": "email", "reason": "hardBounce"}))
        for k in range(rng.randint(3, 12)):
            when = start + timedelta(days=rng.uniform(0, 24))
            name = rng.choice(ACTIVITIES)
            envelopes.append(_env(f"demo-{n}-act-{k}", "activity", when, ref,
                                  {"name": name, "properties": {"value": round(rng.uniform(5, 250), 2)}}))
    envelopes.sort(key=lambda e: e["occurredAt"])
    parsed = [parse(e) for e in envelopes]
    meta = Meta(method="import", actor="demo")
    app.ingest(parsed, lambda e: meta.at(e.occurredAt))

    welcome, _ = app.create_template(
        DOMAIN, "email", "Welcome back", "{{ firstName }}, we kept something for you",
        "Hello {{ firstName }}! Your {{ variables.loyaltyPoints }} points are waiting in {{ variables.city }}.",
        {"et": "Tere {{ firstName }}! Sinu {{ variables.loyaltyPoints }} punkti ootavad."}, meta)
    app.approve_template(DOMAIN, welcome.id, meta)
    sms, _ = app.create_template(DOMAIN, "sms", "Order shipped", "", "Hi {{ firstName }}, your order is on its way.", {}, meta)
    app.approve_template(DOMAIN, sms.id, meta)
    app.create_template(DOMAIN, "telegram", "Weekly digest (draft)", "", "News for {{ firstName }}", {}, meta)
    app.define_segment(DOMAIN, "VIP customers", {"field": "variables.vip", "op": "eq", "value": True}, meta)
    app.define_segment(DOMAIN, "Estonian speakers reachable by email", {"all": [
        {"field": "language", "op": "eq", "value": "et"},
        {"field": "subscriptions.email.status", "op": "eq", "value": "subscribed"},
        {"field": "subscriptions.email.blacklisted", "op": "eq", "value": False},
    ]}, meta)
    app.define_segment(DOMAIN, "Recent buyers", {"activity": "orderPlaced", "op": "countGte", "value": 1, "withinDays": 30}, meta)
    return True


def _env(event_id: str, kind: str, at: datetime, ref: dict[str, str], data: dict[str, Any]) -> dict[str, Any]:
    return {"eventId": event_id, "domain": DOMAIN, "type": kind, "occurredAt": at.isoformat(),
            "contact": ref, "data": data}
