"""B3 projection catch-up: rebuild all three projections from a full event store.

    python -m bench.b3_projections --events 1000000

Measured: ``projections.rebuild.rebuild`` (what ``profiles replay`` runs) of the profile,
activity and segment projections into fresh tables — state in memory, rows streamed
with ``COPY``, indexes built and tables analysed after — events per second, up to the
tables being readable. Baselines in the same run: the live runner applying one event per
transaction, and the live runner's batched catch-up (1 000 events per transaction), each
on a sample from the start of the log. The store is a seed workload written through the
domain, replicated as more domains (see ``bench.corpus``), with three segments per domain
so the segment projection does real work.
"""

from __future__ import annotations

import sys
from typing import Any

from bench import common, corpus

TARGET_RATE = 50_000


def define_segments(app: Any, domains: list[str]) -> None:
    from domain.meta import Meta

    meta = Meta(method="api", actor="bench")
    for domain in domains:
        app.define_segment(domain, "Estonian VIPs", {"all": [
            {"field": "language", "op": "eq", "value": "et"},
            {"field": "variables.vip", "op": "eq", "value": True}]}, meta)
        app.define_segment(domain, "Reachable by email", {"all": [
            {"field": "subscriptions.email.status", "op": "eq", "value": "subscribed"},
            {"field": "subscriptions.email.blacklisted", "op": "eq", "value": False}]}, meta)
        app.define_segment(domain, "Recent buyers", {"activity": "orderPlaced", "op": "countGte", "value": 1,
                                                     "withinDays": 30}, meta)


def catch_up(url: str, events_schema: str, view_schema: str, batch: int, quiet: bool,
             stop: int | None = None, total: int | None = None, desc: str = "B3 catch-up") -> tuple[float, int]:
    from projections.runner import ProjectionRunner

    runner = ProjectionRunner(url, events_schema, view_schema=view_schema, batch_size=batch)
    runner.ensure_tables()
    bar = common.progress(total, desc, quiet=quiet)
    with common.Timer() as t:
        applied = runner.catch_up(stop=stop, progress=lambda n, _pos: bar.update(n))
    bar.close()
    return t.seconds, applied


def rebuild(url: str, events_schema: str, view_schema: str, quiet: bool, total: int | None,
            desc: str = "B3 rebuild") -> tuple[float, int]:
    from projections.rebuild import rebuild as bulk

    bar = common.progress(total, desc, quiet=quiet)
    with common.Timer() as t:
        result = bulk(url, events_schema, view_schema, progress=lambda n, _pos: bar.update(n))
    bar.close()
    return t.seconds, result.events


def main(argv: list[str] | None = None) -> int:
    p = common.parser(__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=1_000_000, help="stored events to rebuild from")
    p.add_argument("--batch", type=int, default=1000, help="events per transaction of the live-runner baseline")
    p.add_argument("--sample", type=int, default=2000, help="events for the one-per-transaction baseline")
    p.add_argument("--live-sample", type=int, default=100_000, help="events for the batched live-runner baseline")
    p.add_argument("--seed-envelopes", type=int, default=40_000)
    p.add_argument("--seed-contacts", type=int, default=4_000)
    args = p.parse_args(argv)
    if args.smoke:
        args.events, args.sample, args.seed_envelopes, args.seed_contacts = 3000, 100, 800, 80
        args.live_sample = 1000
    url = common.database_url()
    with common.scratch_schema(url, "b3") as schema:
        container = common.build_container(url, schema)
        try:
            define_segments(container.app, [d for d, _ in corpus.workload.DOMAINS])
        finally:
            container.close()
        rows = corpus.build(url, schema, args.events, seed_envelopes=args.seed_envelopes,
                            seed_contacts=args.seed_contacts, seed=args.seed, quiet=args.quiet)
        try:  # the view schemas are outside the scratch schema: dropped here, also on failure
            seconds, applied = rebuild(url, schema, f"{schema}_view", args.quiet, total=rows)
            base_seconds, base_applied = catch_up(url, schema, f"{schema}_one", 1, args.quiet, stop=args.sample,
                                                  total=args.sample, desc="B3 baseline: one event per transaction")
            live_sample = min(args.live_sample, rows)
            live_seconds, live_applied = catch_up(url, schema, f"{schema}_live", args.batch, args.quiet,
                                                  stop=live_sample, total=live_sample,
                                                  desc="B3 baseline: live runner, batched")
        finally:
            _drop(url, f"{schema}_view", f"{schema}_one", f"{schema}_live")

    # Rates over log positions covered (every stored event is passed over; identifier
    # claims are filtered out in SQL), and over the events the projections applied.
    rate, base_rate = rows / seconds, min(args.sample, rows) / base_seconds
    figures = [
        common.Figure("stored events/s, rebuild of 3 projections", rate, "ev/s", base_rate,
                      "one event per transaction", target=TARGET_RATE),
        common.Figure("applied events/s (claims excluded)", applied / seconds, "ev/s",
                      base_applied / base_seconds, "one event per transaction", target=TARGET_RATE),
        common.Figure("stored events/s, rebuild vs live runner batched", rate, "ev/s", live_sample / live_seconds,
                      f"live runner, {args.batch} per transaction (first {live_sample} events)"),
    ]
    params = {"events": rows, "batch": args.batch, "sample": args.sample, "live_sample": live_sample,
              "smoke": args.smoke}
    extra = {"seconds": round(seconds, 2), "applied": applied, "baseline_seconds": round(base_seconds, 2),
             "baseline_applied": base_applied, "live_seconds": round(live_seconds, 2),
             "live_applied": live_applied, "seed_envelopes": args.seed_envelopes}
    common.report("b3", "projection catch-up", params, figures, url=url, extra=extra, save=not args.no_save)
    return 0


def _drop(url: str, *schemas: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        for s in schemas:
            conn.execute(f'DROP SCHEMA IF EXISTS "{s}" CASCADE')


if __name__ == "__main__":
    sys.exit(main())
