"""B1 write path: validated envelopes → commands → event store, with tracking.

    python -m bench.b1_write --events 1000000 --contacts 100000 --processes 1,2

Measured: ``domain.ingest.parse`` + ``ContactProfiles.ingest`` in batches (one transaction
and one tracking record per batch), envelopes per second. Baselines in the same run:
the same envelopes with one ``app.ingest`` (one transaction) per envelope, on a sample;
and a raw binary ``COPY`` of the very rows the run stored into a scratch table with the
same indexes — the ceiling of what any insert path can do here. With ``--processes 1,2``
the batched ingest also runs split over that many processes into one store, the
envelopes partitioned by contact as Kafka partitions keep them (README, Scaling): one
Python process uses about one core.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from functools import cache
from typing import Any

from bench import common, workload

TARGET_RATE = 40_000
TARGET_RATIO = 30.0


def meta_for(envelope: Any) -> Any:
    """Provenance as the Kafka consumer gives it: the upstream occurredAt."""
    return _meta().at(envelope.occurredAt)


@cache
def _meta() -> Any:
    from domain.meta import Meta  # deferred: nothing is imported before main() runs

    return Meta(method="kafka", actor="bench")


def ingest_batched(app: Any, raws: list[dict[str, Any]], batch: int, quiet: bool,
                   tracking: str = "bench-b1") -> tuple[float, Counter[str]]:
    """Parse and ingest in batches, one tracking record per batch (as a Kafka partition
    would); returns (seconds, outcome counts)."""
    from eventsourcing.persistence import Tracking

    from domain import errors
    from domain.ingest import parse

    outcomes: Counter[str] = Counter()
    bar = common.progress(len(raws), "B1 batched ingest", quiet=quiet)
    with common.Timer() as t:
        for n, start in enumerate(range(0, len(raws), batch)):
            parsed = []
            for raw in raws[start:start + batch]:
                try:
                    parsed.append(parse(raw))
                except errors.DomainError as e:
                    outcomes[e.code] += 1
            result = app.ingest(parsed, meta_for, tracking=Tracking(tracking, n + 1))
            for r in result.results:
                outcomes[getattr(r, "code", "applied")] += 1
            bar.update(len(raws[start:start + batch]))
    bar.close()
    return t.seconds, outcomes


def ingest_one_by_one(app: Any, raws: list[dict[str, Any]], quiet: bool) -> float:
    from eventsourcing.persistence import Tracking

    from domain import errors
    from domain.ingest import parse

    bar = common.progress(len(raws), "B1 baseline: one ingest per event", quiet=quiet)
    with common.Timer() as t:
        for n, raw in enumerate(raws):
            try:
                app.ingest([parse(raw)], meta_for, tracking=Tracking("bench-b1", n + 1))
            except errors.DomainError:
                pass
            bar.update(1)
    bar.close()
    return t.seconds


def partitions(raws: list[dict[str, Any]], n: int) -> list[list[dict[str, Any]]]:
    """Split the envelopes ``n`` ways by their Kafka key, keeping each contact's in one
    part and in order, as Kafka partitions would."""
    key_of = workload.ContactKeys()
    part_of: dict[str, int] = {}
    parts: list[list[dict[str, Any]]] = [[] for _ in range(n)]
    for raw in raws:
        parts[part_of.setdefault(key_of(raw), len(part_of) % n)].append(raw)
    return parts


def ingest_in_processes(url: str, schema: str, raws: list[dict[str, Any]], batch: int, n: int,
                        quiet: bool) -> tuple[float, Counter[str]]:
    """The batched ingest split over ``n`` forked processes, each with its own application
    (cache, pool) and tracking name, started together; seconds until the last is done."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    results = context.Queue()
    start = context.Barrier(n + 1)

    def work(part: list[dict[str, Any]], index: int) -> None:
        container = common.build_container(url, schema)
        try:
            start.wait()
            _, outcomes = ingest_batched(container.app, part, batch, True, tracking=f"bench-b1-{index}")
            results.put(dict(outcomes))
        finally:
            container.close()

    workers = [context.Process(target=work, args=(part, i)) for i, part in enumerate(partitions(raws, n))]
    for w in workers:
        w.start()
    start.wait()
    outcomes: Counter[str] = Counter()
    with common.Timer() as t:
        for _ in workers:
            outcomes.update(results.get())
    for w in workers:
        w.join()
        if w.exitcode:
            raise RuntimeError(f"an ingest process exited with {w.exitcode}")
    if not quiet:
        print(f"B1 batched ingest in {n} processes: {len(raws)} envelopes in {t.seconds:.1f} s", file=sys.stderr)
    return t.seconds, outcomes


def copy_baseline(url: str, schema: str, chunk: int, quiet: bool) -> tuple[float, int]:
    """Binary COPY of the stored rows into a table shaped like the events table."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(f'SELECT originator_id, originator_version, topic, state FROM "{schema}".profiles_events '
                            "ORDER BY notification_id").fetchall()
        conn.execute(f'CREATE TABLE "{schema}".copy_target (originator_id uuid NOT NULL, '
                     "originator_version bigint NOT NULL, topic text, state bytea, notification_id bigserial, "
                     "PRIMARY KEY (originator_id, originator_version))")
        conn.execute(f'CREATE UNIQUE INDEX ON "{schema}".copy_target (notification_id)')
        bar = common.progress(len(rows), "B1 baseline: raw binary COPY", quiet=quiet, unit="row")
        with common.Timer() as t:
            for start in range(0, len(rows), chunk):
                with conn.transaction(), conn.cursor() as cur, cur.copy(
                        f'COPY "{schema}".copy_target (originator_id, originator_version, topic, state) '
                        "FROM STDIN (FORMAT BINARY)") as copy:
                    copy.set_types(["uuid", "int8", "text", "bytea"])
                    for row in rows[start:start + chunk]:
                        copy.write_row(row)
                bar.update(min(chunk, len(rows) - start))
        bar.close()
    return t.seconds, len(rows)


def stored_rows(url: str, schema: str) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute(f'SELECT count(*) FROM "{schema}".profiles_events').fetchone()[0]


def main(argv: list[str] | None = None) -> int:
    p = common.parser(__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=1_000_000)
    p.add_argument("--contacts", type=int, default=100_000)
    p.add_argument("--batch", type=int, default=1000, help="envelopes per transaction")
    p.add_argument("--sample", type=int, default=5000, help="envelopes for the per-event baseline")
    p.add_argument("--processes", default="1,2", help="also run the batched ingest split over N processes")
    args = p.parse_args(argv)
    counts = [int(n) for n in str(args.processes).split(",") if int(n) > 1]
    if args.smoke:
        args.events, args.contacts, args.sample, args.batch = 1000, 100, 100, 250
    url = common.database_url()
    print(f"generating {args.events} envelopes over {args.contacts} contacts …", file=sys.stderr)
    raws = list(workload.envelopes(args.events, args.contacts, args.seed))
    kinds = Counter(r["type"] for r in raws)

    with common.scratch_schema(url, "b1") as schema:
        container = common.build_container(url, schema)
        try:
            python_cpu, postgres_cpu = time.process_time(), common.postgres_cpu_seconds()
            seconds, outcomes = ingest_batched(container.app, raws, args.batch, args.quiet)
            python_cpu = time.process_time() - python_cpu
            postgres_cpu = None if postgres_cpu is None else (common.postgres_cpu_seconds() or 0.0) - postgres_cpu
        finally:
            container.close()
        rows = stored_rows(url, schema)
        transactions = -(-len(raws) // args.batch)
        copy_seconds, copy_rows = copy_baseline(url, schema, max(1, rows // transactions), args.quiet)

    split: dict[int, tuple[float, Counter[str]]] = {}
    for n in counts:
        with common.scratch_schema(url, f"b1p{n}") as schema:
            common.build_container(url, schema).close()  # tables first, not raced by the workers
            split[n] = ingest_in_processes(url, schema, raws, args.batch, n, args.quiet)

    sample = raws[:args.sample]
    with common.scratch_schema(url, "b1base") as schema:
        container = common.build_container(url, schema)
        try:
            one_seconds = ingest_one_by_one(container.app, sample, args.quiet)
        finally:
            container.close()

    rate = len(raws) / seconds
    per_event = len(sample) / one_seconds
    copy_rate = copy_rows / copy_seconds
    store_rate = rows / seconds
    figures = [
        common.Figure("envelopes/s, batched ingest", rate, "ev/s", per_event, "one ingest per event",
                      target=TARGET_RATE, ratio_target=TARGET_RATIO),
        *[common.Figure(f"envelopes/s, batched ingest, {n} processes", len(raws) / sec, "ev/s", per_event,
                        "one ingest per event", target=TARGET_RATE, ratio_target=TARGET_RATIO,
                        note="same outcomes as 1 process" if out == outcomes else f"outcomes differ: {dict(out)}")
          for n, (sec, out) in split.items()],
        common.Figure("stored events/s, batched ingest", store_rate, "rows/s", copy_rate, "raw binary COPY",
                      note="ratio = share of the COPY ceiling"),
    ]
    # Where one process's time went: its own CPU, PostgreSQL's (every postgres process on
    # this machine), the rest waiting. 40 000/s on two cores needs under 50 µs of both.
    cpu = {"python": round(1e6 * python_cpu / len(raws), 1), "wall": round(1e6 * seconds / len(raws), 1),
           "postgresql": None if postgres_cpu is None else round(1e6 * postgres_cpu / len(raws), 1)}
    params = {"events": len(raws), "contacts": args.contacts, "batch": args.batch, "sample": len(sample),
              "processes": [1, *counts], "smoke": args.smoke}
    extra = {"seconds": round(seconds, 2), "stored_rows": rows, "rows_per_envelope": round(rows / len(raws), 3),
             "outcomes": dict(outcomes), "types": dict(kinds), "per_event_seconds": round(one_seconds, 2),
             "cpu_us_per_envelope": cpu,
             "copy_seconds": round(copy_seconds, 2), "copy_rows": copy_rows,
             "split": {n: {"seconds": round(sec, 2), "outcomes": dict(out)} for n, (sec, out) in split.items()}}
    common.report("b1", "write path", params, figures, url=url, extra=extra, save=not args.no_save)
    print(f"outcomes: {dict(outcomes)}")
    print(f"per envelope in one process: {cpu['python']} µs Python CPU, "
          f"{'?' if cpu['postgresql'] is None else cpu['postgresql']} µs PostgreSQL CPU, {cpu['wall']} µs wall")
    return 0


if __name__ == "__main__":
    sys.exit(main())
