"""What B1 could reach with the aggregates replaced by plain rows: a floor, not a product.

    python -m bench.proposals.lean_floor --events 1000000 --contacts 100000

Measures how much of B1's CPU per envelope is the aggregate and unit-of-work layer, to
decide whether a rewrite of the write path in Python could reach 40 000 envelopes/s on
two cores (``bench/proposals/README.md``, "Thirteenth session"). Same envelopes as B1,
and the product's own ends of the path: ``domain.ingest.parse`` (validation, normalised
identifiers, claim ids) and the recorder's ``insert_events`` (events, receipts and a
tracking record in one transaction per batch of 1 000), plus one look-up round trip per
batch for the claims not seen yet, as the product's prefetch does. Between them,
contacts are dicts and events are dicts encoded by ``orjson``, with the product's topics
and JSON keys. Only the rules B1's mix meets are applied (identifiers resolved and
claimed, contact_not_found, no_address, blacklisted channels): what any rewrite would
at least spend. The product's batched ingest runs on the same envelopes in the same run.
"""

from __future__ import annotations

import sys
import time
import uuid
from collections import Counter
from types import SimpleNamespace
from typing import Any

from bench import common, workload

_CONTACT = "domain.contact:Contact"
_META = {"method": "kafka", "actor": "bench"}


def _uuid(value: uuid.UUID) -> dict[str, str]:
    return {"_type_": "uuid_hex", "_data_": value.hex}


class LeanCore:
    """Contacts as dicts in memory; each accepted envelope becomes stored events."""

    def __init__(self, recorder: Any) -> None:
        from domain.ingest import _activity_id

        self.recorder = recorder
        self.activity_id = _activity_id
        self.claims: dict[uuid.UUID, uuid.UUID] = {}  # claim id → contact id
        self.looked_up: set[uuid.UUID] = set()
        self.contacts: dict[uuid.UUID, dict[str, Any]] = {}

    def ingest(self, envelopes: list[Any], meta_for: Any, *, tracking: Any) -> SimpleNamespace:
        """As ``ContactProfiles.ingest`` is called (so B1's loop drives both): one
        transaction, its results an outcome code each."""
        from eventsourcing.persistence import StoredEvent

        unseen = list({c for e in envelopes for c in e.claims if c not in self.claims} - self.looked_up)
        if unseen:  # the product's prefetch of its cache misses: nothing stored yet, the round trip kept
            self.recorder.select_events_many(unseen)
            self.looked_up.update(unseen)
        stored: list[StoredEvent] = []
        results = [SimpleNamespace(code=self.apply(envelope, stored)) for envelope in envelopes]
        events = [StoredEvent(i, v, t, s) for i, v, t, s in stored]
        self.recorder.insert_events(events, tracking=tracking, receipts=[e.receipt for e in envelopes])
        return SimpleNamespace(results=results)

    def apply(self, envelope: Any, stored: list[Any]) -> str:
        import orjson

        owners = {self.claims[c] for c in envelope.claims if c in self.claims}
        if len(owners) > 1:
            return "identifier_conflict"
        contact_id = next(iter(owners), None)
        data = envelope.data
        when = {"timestamp": {"_type_": "datetime_iso", "_data_": envelope.occurredAt.isoformat()}, **_META}

        def record(originator: uuid.UUID, version: int, topic: str, fields: dict[str, Any]) -> None:
            stored.append((originator, version, topic, orjson.dumps({**when, **fields})))

        if envelope.type == "contact.upserted":
            info = {k: v for k, v in data.items() if k not in ("variables", "userId", "email", "phoneNumber")}
            if contact_id is None:
                contact_id = uuid.uuid4()
                contact = self.contacts[contact_id] = {"version": 1, "ids": dict(envelope.identifiers),
                                                       "subs": {}, "addresses": {}, "black": set()}
                record(contact_id, 1, f"{_CONTACT}.Created", {
                    "originator_topic": _CONTACT, "domain": envelope.domain, "identifiers": envelope.identifiers,
                    "info": info, "variables": data.get("variables", {})})
                new_claims = zip(envelope.identifiers.items(), envelope.claims, strict=True)
            else:
                contact = self.contacts[contact_id]
                added = {k: v for k, v in envelope.identifiers.items() if k not in contact["ids"]}
                contact["ids"].update(added)
                contact["version"] += 1
                record(contact_id, contact["version"], f"{_CONTACT}.Updated", {"identifiers": added, "info": info})
                new_claims = ((kv, c) for kv, c in zip(envelope.identifiers.items(), envelope.claims, strict=True)
                              if c not in self.claims)
            for (kind, value), claim in new_claims:
                self.claims[claim] = contact_id
                record(claim, 1, "domain.claim:IdentifierClaim.Claimed", {
                    "originator_topic": "domain.claim:IdentifierClaim", "domain": envelope.domain, "kind": kind,
                    "value": value, "contact_id": _uuid(contact_id)})
            return "applied"
        if contact_id is None:
            return "contact_not_found"
        contact = self.contacts[contact_id]
        if envelope.type == "activity":
            record(self.activity_id(envelope.receipt), 1, "domain.activity:Activity.Recorded", {
                "originator_topic": "domain.activity:Activity", "domain": envelope.domain,
                "contact_id": _uuid(contact_id), "name": data["name"], "properties": data.get("properties", {})})
            return "applied"
        if envelope.type == "contact.variables_set":
            contact["version"] += 1
            record(contact_id, contact["version"], f"{_CONTACT}.VariablesChanged", {"variables": data["variables"]})
            return "applied"
        if envelope.type in ("blacklist.added", "blacklist.removed"):
            channel, added = data["channel"], envelope.type == "blacklist.added"
            (contact["black"].add if added else contact["black"].discard)(channel)
            contact["version"] += 1
            record(contact_id, contact["version"], f"{_CONTACT}.{'Blacklisted' if added else 'Unblacklisted'}",
                   {"channel": channel, "reason": data.get("reason", "manual")})
            return "applied"
        if envelope.type == "subscription.changed":
            channel, status = data["channel"], data["status"]
            if status == "subscribed" and channel in contact["black"]:
                return "blacklisted"
            own = {"email": "email", "sms": "phoneNumber"}.get(channel)
            address = data.get("address") or (contact["ids"].get(own) if own else contact["addresses"].get(channel))
            if address is None:
                return "no_address"
            contact["addresses"][channel] = address
            previous, contact["subs"][channel] = contact["subs"].get(channel, "none"), status
            contact["version"] += 1
            record(contact_id, contact["version"], f"{_CONTACT}.SubscriptionChanged", {
                "channel": channel, "status": status, "previous_status": previous, "address": address,
                "reason": data.get("reason")})
            return "applied"
        return "not_modelled"  # contact.removed, message.status: not in B1's mix


def run(url: str, schema: str, raws: list[dict[str, Any]], batch: int, quiet: bool, lean: bool) -> dict[str, Any]:
    """B1's batched ingest into a fresh store, through the floor or the product."""
    from bench.b1_write import ingest_batched

    container = common.build_container(url, schema)
    try:
        target = LeanCore(container.app.recorder) if lean else container.app
        started = time.process_time(), common.postgres_cpu_seconds()
        seconds, outcomes = ingest_batched(target, raws, batch, quiet)
        return _measured(seconds, started, len(raws), outcomes)
    finally:
        container.close()


def _measured(seconds: float, started: tuple[float, float | None], n: int, outcomes: Counter[str]) -> dict[str, Any]:
    """Envelopes/s and CPU per envelope since ``started`` (this process's, PostgreSQL's)."""
    python_cpu, postgres_cpu = started
    postgres = None if postgres_cpu is None else (common.postgres_cpu_seconds() or 0.0) - postgres_cpu
    return {"rate": n / seconds, "python_us": 1e6 * (time.process_time() - python_cpu) / n,
            "postgresql_us": None if postgres is None else 1e6 * postgres / n, "outcomes": dict(outcomes)}


def main(argv: list[str] | None = None) -> int:
    p = common.parser(__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=1_000_000)
    p.add_argument("--contacts", type=int, default=100_000)
    p.add_argument("--batch", type=int, default=1000)
    p.add_argument("--only", choices=("lean", "product"), help="run one of the two (each in its own process)")
    args = p.parse_args(argv)
    if args.smoke:
        args.events, args.contacts, args.batch = 1000, 100, 250
    url = common.database_url()
    print(f"generating {args.events} envelopes over {args.contacts} contacts …", file=sys.stderr)
    raws = list(workload.envelopes(args.events, args.contacts, args.seed))
    measured = {}
    for name in ("lean", "product"):  # the floor first: its caches cold
        if args.only in (None, name):
            with common.scratch_schema(url, name) as schema:
                measured[name] = run(url, schema, raws, args.batch, args.quiet, lean=name == "lean")
    lean, product = measured.get("lean"), measured.get("product")
    figures = [common.Figure(f"envelopes/s, {name}", m["rate"], "ev/s",
                             product["rate"] if name == "lean" and product else None, "the product's batched ingest")
               for name, m in measured.items()]
    figures += [common.Figure(f"Python CPU an envelope, {name}", m["python_us"], "µs",
                              product["python_us"] if name == "lean" and product else None,
                              "the product's", higher_is_better=False)
                for name, m in measured.items()]
    params = {"events": len(raws), "contacts": args.contacts, "batch": args.batch, "only": args.only,
              "smoke": args.smoke}
    common.report("lean-floor", "B1 with contacts as plain rows (a floor)", params, figures, url=url,
                  extra=measured, save=not args.no_save)
    for name, m in measured.items():
        print(f"{name}: {m['python_us']:.1f} µs Python CPU, "
              f"{'?' if m['postgresql_us'] is None else round(m['postgresql_us'], 1)} µs PostgreSQL CPU an envelope; "
              f"outcomes {m['outcomes']}")
    if lean and product:
        print("the floor applies only the rules B1's mix meets: its outcomes may differ from the product's slightly")
    return 0


if __name__ == "__main__":
    sys.exit(main())
