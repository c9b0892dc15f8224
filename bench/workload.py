"""Realistic generated traffic: the DESIGN §3 envelopes an upstream shop or CRM would send.

Several domains of unequal size, contacts with identifiers, general info and variables,
and a mix of event types in time order. Activity is skewed: contacts created early are
much more active (the top 1 % of contacts get about 15 % of the events), so the cache and
the per-contact history see both hot and cold contacts. Deterministic for a given seed.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

DOMAINS = (("shop", 0.55), ("crm", 0.2), ("blog", 0.12), ("travel", 0.08), ("games", 0.05))
FIRST = ("anna", "mark", "liis", "john", "emma", "lukas", "sofia", "maria", "olga", "jonas", "chloe",
         "ava", "noah", "mia", "leo", "ella", "oskar", "mari", "karl", "eva")
LAST = ("tamm", "kask", "saar", "smith", "brown", "muller", "rossi", "garcia", "ivanova", "martin",
        "johnson", "lee", "berg", "nowak", "silva")
LANGS = (("et", "Europe/Tallinn"), ("en", "Europe/London"), ("de", "Europe/Berlin"), ("fr", "Europe/Paris"),
         ("es", "Europe/Madrid"), ("en", "America/New_York"), ("lv", "Europe/Riga"), ("fi", "Europe/Helsinki"))
CITIES = ("Tallinn", "Tartu", "London", "Berlin", "Paris", "Madrid", "Riga", "Helsinki", "New York")
PLANS = ("free", "basic", "pro", "enterprise")
ACTIVITIES = ("pageViewed", "pageViewed", "productViewed", "productViewed", "cartUpdated", "orderPlaced",
              "searchPerformed", "couponUsed")
# type → share of the events about existing contacts
MIX = (
    ("activity", 0.50),
    ("contact.variables_set", 0.18),
    ("subscription.changed", 0.12),
    ("contact.upserted", 0.10),
    ("blacklist.added", 0.03),
    ("blacklist.removed", 0.02),
    ("unknown_contact", 0.005),  # an activity for nobody: refused with contact_not_found
)
START = datetime(2026, 10, 1, tzinfo=UTC)


@dataclass
class Person:
    index: int
    domain: str
    identifiers: dict[str, str]
    channels: dict[str, str] = field(default_factory=dict)  # opt-in channel → address


def person(index: int, rng: random.Random, domain: str | None = None) -> Person:
    domain = domain or rng.choices([d for d, _ in DOMAINS], weights=[w for _, w in DOMAINS])[0]
    first, last = rng.choice(FIRST), rng.choice(LAST)
    identifiers = {"userId": f"u-{index}"}
    if rng.random() < 0.9:
        identifiers["email"] = f"{first}.{last}.{index}@mail.example.com"
    if rng.random() < 0.6:
        identifiers["phoneNumber"] = f"+3725{index:07d}"
    channels = {}
    if rng.random() < 0.3:
        channels["telegram"] = str(10_000_000 + index)
    if rng.random() < 0.4:
        channels["webPush"] = f"wp-{index:x}-{rng.getrandbits(32):08x}"
    if rng.random() < 0.1:
        channels["viber"] = f"vb-{index}"
    return Person(index, domain, identifiers, channels)


def profile_data(p: Person, rng: random.Random) -> dict[str, Any]:
    lang, tz = rng.choice(LANGS)
    first = p.identifiers.get("email", "x.y").split(".")[0].capitalize()
    return {
        "firstName": first, "lastName": rng.choice(LAST).capitalize(), "language": lang, "timezone": tz,
        "birthday": f"{rng.randint(1950, 2006)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        "variables": {"city": rng.choice(CITIES), "plan": rng.choice(PLANS), "score": rng.randint(0, 1000),
                      "vip": rng.random() < 0.05, "signupDate": f"2026-{rng.randint(1, 9):02d}-{rng.randint(1, 28):02d}"},
    }


def envelopes(n_events: int, n_contacts: int, seed: int = 42, *, prefix: str = "b",
              domain: str | None = None) -> Iterator[dict[str, Any]]:
    """``n_events`` envelopes in time order, creating ``n_contacts`` contacts along the way
    (all in ``domain`` when given, else spread over ``DOMAINS``)."""
    rng = random.Random(seed)
    people: list[Person] = []
    kinds = [k for k, _ in MIX]
    weights = [w for _, w in MIX]
    spacing = timedelta(days=56) / max(n_events, 1)
    for k in range(n_events):
        at = (START + spacing * k).isoformat()
        event_id = f"{prefix}{seed}-{k}"
        remaining = n_events - k
        if not people or rng.random() < (n_contacts - len(people)) / remaining:
            p = person(len(people), rng, domain)
            people.append(p)
            yield _env(event_id, p.domain, "contact.upserted", at, dict(p.identifiers), profile_data(p, rng))
            continue
        # Older contacts are much more active: index ∝ u^2.5 skews towards the first ones.
        p = people[int(len(people) * rng.random() ** 2.5)]
        kind = rng.choices(kinds, weights)[0]
        ref_kind = rng.choice(list(p.identifiers))
        ref = {ref_kind: p.identifiers[ref_kind]}
        if kind == "unknown_contact":
            yield _env(event_id, p.domain, "activity", at, {"userId": f"ghost-{k}"}, {"name": "pageViewed"})
        else:
            yield _env(event_id, p.domain, kind, at, ref, _data(kind, p, rng))


def _data(kind: str, p: Person, rng: random.Random) -> dict[str, Any]:
    if kind == "activity":
        name = rng.choice(ACTIVITIES)
        props: dict[str, Any] = {"url": f"/p/{rng.randint(1, 5000)}"}
        if name == "orderPlaced":
            props = {"orderId": f"o-{rng.getrandbits(40):x}", "value": round(rng.uniform(5, 400), 2),
                     "currency": "EUR", "items": rng.randint(1, 6)}
        return {"name": name, "properties": props}
    if kind == "contact.variables_set":
        return {"variables": {"score": rng.randint(0, 1000), "lastSeenPage": f"/p/{rng.randint(1, 5000)}",
                              **({"plan": rng.choice(PLANS)} if rng.random() < 0.2 else {})}}
    if kind == "contact.upserted":
        return {"lastName": rng.choice(LAST).capitalize(), "variables": {"city": rng.choice(CITIES)}}
    if kind == "subscription.changed":
        options = [c for c, key in (("email", "email"), ("sms", "phoneNumber")) if key in p.identifiers]
        options += list(p.channels)
        channel = rng.choice(options or ["email"])
        data = {"channel": channel, "status": "subscribed" if rng.random() < 0.75 else "unsubscribed",
                "reason": rng.choice(("signup form", "checkout", "preference centre"))}
        if channel in p.channels:
            data["address"] = p.channels[channel]
        return data
    channel = rng.choice(["email", "sms", *p.channels])
    return {"channel": channel, "reason": rng.choice(("manual", "hardBounce", "complaint"))}


def _env(event_id: str, domain: str, kind: str, at: str, ref: dict[str, str], data: dict[str, Any]) -> dict[str, Any]:
    return {"eventId": event_id, "domain": domain, "type": kind, "occurredAt": at, "contact": ref, "data": data}


class ContactKeys:
    """The Kafka key of each envelope: one per contact, whichever identifier the envelope
    refers to it by (DESIGN §3: the key keeps one contact on one partition). A contact's
    first envelope names every identifier it has (the generator creates contacts so);
    later ones are matched by any of them."""

    def __init__(self) -> None:
        self._keys: dict[tuple[str, str, str], str] = {}

    def __call__(self, envelope: dict[str, Any]) -> str:
        refs = [(envelope["domain"], kind, value) for kind, value in envelope["contact"].items()]
        key = next((self._keys[r] for r in refs if r in self._keys), None)
        if key is None:
            key = refs[0][2]
        for r in refs:
            self._keys.setdefault(r, key)
        return key
