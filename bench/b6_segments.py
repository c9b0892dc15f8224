"""B6 segment back-fill: a new 3-rule segment over every contact of a large domain.

    python -m bench.b6_segments --contacts 1000000

The domain's contacts are built and projected as in B4 (the live runner's catch-up, which
ends by vacuuming and analysing its tables, as any large catch-up does). Measured:
defining the segment through the application and letting the projection runner apply
it (the back-fill: the conditions compiled to one parallel scan into a temporary table,
then set-based inserts of members and history), until membership is stored. Baseline in the
same run: what one would otherwise write — stream every profile document of the domain
to Python and evaluate the same conditions row by row (the projection's own evaluator).
Both must find the same members.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime

from bench import common, corpus
from bench.b3_projections import catch_up

TARGET_SECONDS = 5.0
DOMAIN = "shop"
CONDITION = {"all": [
    {"field": "language", "op": "in", "value": ["et", "fi", "lv"]},
    {"field": "variables.score", "op": "gte", "value": 500},
    {"field": "subscriptions.email.blacklisted", "op": "eq", "value": False},
]}


def row_by_row(url: str, schema: str, quiet: bool, total: int) -> tuple[float, int]:
    import psycopg

    from projections.segments import evaluate

    now = datetime.now(tz=UTC)
    count = evaluate.counter([], 0, now)
    members = 0
    bar = common.progress(total, "B6 baseline: Python row by row", quiet=quiet, unit="contact")
    with common.Timer() as t, psycopg.connect(url) as conn, conn.cursor(name="b6") as cur:
        cur.itersize = 5000
        cur.execute(f'SELECT doc FROM "{schema}".profile_contacts WHERE domain = %s', (DOMAIN,))
        for n, (doc,) in enumerate(cur, 1):
            members += evaluate.matches(CONDITION, doc, count, now)
            if n % 5000 == 0:
                bar.update(5000)
    bar.close()
    return t.seconds, members


def main(argv: list[str] | None = None) -> int:
    p = common.parser(__doc__.splitlines()[0])
    p.add_argument("--contacts", type=int, default=1_000_000)
    p.add_argument("--seed-contacts", type=int, default=20_000)
    args = p.parse_args(argv)
    if args.smoke:
        args.contacts, args.seed_contacts = 500, 125
    url = common.database_url()
    import psycopg

    from domain.meta import Meta

    with common.scratch_schema(url, "b6") as schema:
        rows = corpus.build_contacts(url, schema, args.contacts, args.seed_contacts, args.seed, args.quiet,
                                     domain=DOMAIN)
        catch_up(url, schema, schema, 1000, args.quiet, total=rows, desc="projecting")
        with psycopg.connect(url) as conn:
            contacts = conn.execute(f'SELECT count(*) FROM "{schema}".profile_contacts WHERE domain = %s',
                                    (DOMAIN,)).fetchone()[0]
        container = common.build_container(url, schema)
        try:
            with common.Timer() as t:
                segment, _ = container.app.define_segment(DOMAIN, "Baltic high scorers", CONDITION,
                                                         Meta(method="api", actor="bench"))
                catch_up(url, schema, schema, 1000, True)
        finally:
            container.close()
        with psycopg.connect(url) as conn:
            members = conn.execute(f'SELECT count(*) FROM "{schema}".segment_members WHERE segment_id = %s',
                                   (segment.id,)).fetchone()[0]
        base_seconds, base_members = row_by_row(url, schema, args.quiet, contacts)

    figures = [common.Figure("seconds, back-fill of a 3-rule segment", t.seconds, "s", base_seconds,
                             "Python row by row", target=TARGET_SECONDS, higher_is_better=False,
                             ratio_is_value_over_baseline=False)]
    params = {"contacts": contacts, "smoke": args.smoke}
    extra = {"members": members, "baseline_members": base_members, "condition": CONDITION}
    common.report("b6", "segment back-fill", params, figures, url=url, extra=extra, save=not args.no_save)
    print(f"members: back-fill {members}, row by row {base_members}")
    return 0 if members == base_members else 1


if __name__ == "__main__":
    sys.exit(main())
