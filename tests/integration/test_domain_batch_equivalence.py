"""The batched PostgreSQL path (prefetch, one transaction per 100 envelopes, caching)
must end in exactly the state that applying the same envelopes one by one in memory
gives: same outcome per envelope, same profiles."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from domain import ingest
from domain.application import ContactProfiles
from domain.meta import Meta

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def workload(n: int, people: int, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        p = rng.randrange(people)
        ref = rng.choice([{"email": f"p{p}@example.com"}, {"userId": f"u-{p}"},
                          {"email": f"P{p}@Example.com", "userId": f"u-{p}"}])
        if rng.random() < 0.03:
            ref = {"email": f"p{p}@example.com", "userId": f"u-{(p + 1) % people}"}  # conflicts, mostly
        kind = rng.choices(["contact.upserted", "contact.variables_set", "subscription.changed", "activity",
                            "blacklist.added", "blacklist.removed", "contact.removed"],
                           [30, 20, 20, 20, 4, 4, 2])[0]
        data = {
            "contact.upserted": lambda: {"firstName": rng.choice(["Ann", "Bob", None]), "language": "et",
                                         "variables": {"score": rng.randrange(5)}},
            "contact.variables_set": lambda: {"variables": {rng.choice("abc"): rng.choice([1, True, "x", None])}},
            "subscription.changed": lambda: {"channel": rng.choice(["email", "telegram", "sms"]),
                                             "status": rng.choice(["subscribed", "unsubscribed"]),
                                             **({"address": f"chat-{p}"} if rng.random() < 0.5 else {})},  # noqa: B023 - called at once
            "activity": lambda: {"name": "orderPlaced", "properties": {"n": i}},  # noqa: B023 - called at once
            "blacklist.added": lambda: {"channel": "email", "reason": "manual"},
            "blacklist.removed": lambda: {"channel": "email"},
            "contact.removed": lambda: {},
        }[kind]()
        event_id = f"e-{rng.randrange(n)}" if rng.random() < 0.05 else f"e-{i}"  # some redeliveries
        out.append({"eventId": event_id, "domain": "shop", "type": kind, "contact": ref, "data": data,
                    "occurredAt": (T0 + timedelta(seconds=i)).isoformat()})
    return out


def outcome(result) -> str:
    return getattr(result, "code", "applied")


def profiles(app, people: int) -> dict:
    from domain import handlers
    from domain.unit_of_work import UnitOfWork

    found = {}
    for p in range(people):
        for kind, value in (("email", f"p{p}@example.com"), ("userId", f"u-{p}")):
            holder = handlers.owner(UnitOfWork(app), "shop", kind, value)
            if holder is not None:
                c = app.contact("shop", holder)
                found[(kind, value)] = (c.identifiers, c.info, c.variables,
                                        {k: (s["status"], s["address"], s["blacklisted"]) for k, s in c.subscriptions.items()})
    return found


def meta_for(envelope):
    return Meta(method="kafka", actor="kafka", occurred_at=envelope.occurredAt)


def test_batched_postgres_equals_one_by_one_in_memory(container):
    raws = workload(600, 60)
    memory = ContactProfiles(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    try:
        expected = [outcome(memory.ingest([ingest.parse(r)], meta_for).results[0]) for r in raws]
        expected_profiles = profiles(memory, 60)
    finally:
        memory.close()
    got = []
    for start in range(0, len(raws), 100):
        got.extend(outcome(r) for r in container.app.ingest([ingest.parse(r) for r in raws[start:start + 100]],
                                                           meta_for).results)
    assert got == expected
    assert profiles(container.app, 60) == expected_profiles
    assert {"applied", "duplicate", "identifier_conflict"} <= set(got)
