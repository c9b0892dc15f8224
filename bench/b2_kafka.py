"""B2 Kafka ingest: broker → consumer → event store, exactly once.

    python -m bench.b2_kafka --events 500000 --partitions 3 --processes 1,3

The topic is filled first (not timed). Measured, for each count in ``--processes`` (a
fresh store each): that many members of one consumer group, each a ``profiles consume`` process (``ContactEventConsumer``), from start (group
join included) until the store's tracking records say every partition's last offset is
stored, events per second; and the same members' steady rate, from the first stored batch
to the last (process start, imports and the group's join left out, as the baseline leaves
out its consumer's). One process uses about one core (the GIL); the partitions
spread over the members as they would in a deployment. Baseline in the same run: a plain kafka-python
consumer reading the same topic and decoding each message exactly as the consumer does
(``consumers.records.decode``: JSON + envelope validation), storing nothing.
"""

from __future__ import annotations

import sys
import time
import uuid
from typing import Any

from bench import broker, common, load, workload

TARGET_RATE = 25_000


def consume_only(bootstrap: str, topic: str, total: int, quiet: bool) -> float:
    from kafka import KafkaConsumer, TopicPartition

    from consumers.records import decode

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_bytes=64 * 2**20,
                             max_partition_fetch_bytes=16 * 2**20)
    parts = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
    consumer.assign(parts)
    consumer.seek_to_beginning(*parts)
    bar = common.progress(total, "B2 baseline: consume + decode only", quiet=quiet, unit="msg")
    seen = 0
    try:
        with common.Timer() as t:
            while seen < total:
                for records in consumer.poll(timeout_ms=500, max_records=5000).values():
                    for record in records:
                        decode(record.value)
                    seen += len(records)
                    bar.update(len(records))
    finally:
        bar.close()
        consumer.close()
    return t.seconds


def consume_into_store(container: Any, env: dict[str, str], processes: int, topic: str, ends: dict[int, int],
                       total: int, quiet: bool) -> tuple[float, float | None]:
    """(seconds from starting the members until all is stored, events/s from the first
    stored batch seen to the last; None when the first look already saw everything)."""
    from consumers.consumer import tracking_name

    recorder = container.app.recorder
    bar = common.progress(total, f"B2 consumer → store ({processes} processes)", quiet=quiet, unit="msg")
    first: tuple[float, int] | None = None
    with load.roles(env, *["consume"] * processes) as members, common.Timer() as t:
        done = 0
        while done < total:
            if any(m.poll() is not None for m in members):
                raise RuntimeError("a consumer process exited before the topic was stored")
            time.sleep(0.1)
            stored = [recorder.max_tracking_id(tracking_name(topic, p)) for p in ends]
            now = sum(0 if s is None else s + 1 for s in stored)
            if first is None and now:
                first = (time.perf_counter(), now)
            bar.update(now - done)
            done = now
        ended = time.perf_counter()
    bar.close()
    steady = None if first is None or first[1] >= total else (total - first[1]) / (ended - first[0])
    return t.seconds, steady


def main(argv: list[str] | None = None) -> int:
    p = common.parser(__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=500_000)
    p.add_argument("--contacts", type=int, default=50_000)
    p.add_argument("--partitions", type=int, default=3)
    p.add_argument("--processes", default="1,3", help="consumer group members (one process each; one per partition "
                   "balances the group); a list runs each")
    args = p.parse_args(argv)
    if args.smoke:
        args.events, args.contacts = 600, 60
    counts = [int(n) for n in str(args.processes).split(",")]
    url = common.database_url()
    topic = f"bench-contact-events-{uuid.uuid4().hex[:6]}"
    with broker.broker() as bootstrap:
        broker.create_topics(bootstrap, [topic, f"{topic}.dlq"], args.partitions)
        ends = broker.produce(bootstrap, topic, workload.envelopes(args.events, args.contacts, args.seed,
                                                                   prefix="k"), args.events, args.quiet)
        total = sum(ends.values())
        base_seconds = consume_only(bootstrap, topic, total, args.quiet)
        runs: dict[int, tuple[float, int, float | None]] = {}
        for processes in counts:
            with common.scratch_schema(url, "b2") as schema:
                env = {"DATABASE_URL": url, "PROFILES_DB_SCHEMA": schema, "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
                       "PROFILES_EVENTS_TOPIC": topic, "PROFILES_DLQ_TOPIC": f"{topic}.dlq",
                       "PROFILES_CONSUMER_GROUP": f"bench-{schema}"}  # a new group reads from the start
                container = common.build_container(url, schema,
                                                   **{k: v for k, v in env.items() if k != "DATABASE_URL"})
                try:
                    seconds, steady = consume_into_store(container, env, processes, topic, ends, total, args.quiet)
                    runs[processes] = (seconds, container.app.recorder.max_notification_id() or 0, steady)
                finally:
                    container.close()

    figures = []
    for n, (seconds, _, steady) in runs.items():
        members = f"{n} process{'es' if n > 1 else ''}"
        figures.append(common.Figure(f"events/s, Kafka → store, {members}", total / seconds, "ev/s",
                                     total / base_seconds, "consume + decode, no store", target=TARGET_RATE))
        if steady is not None:
            figures.append(common.Figure(f"events/s, {members}, first batch stored → last", steady, "ev/s",
                                         total / base_seconds, "consume + decode, no store", target=TARGET_RATE))
    params = {"events": total, "contacts": args.contacts, "partitions": args.partitions,
              "processes": counts, "smoke": args.smoke}
    extra = {"seconds": {n: round(s, 2) for n, (s, _, _) in runs.items()}, "baseline_seconds": round(base_seconds, 2),
             "stored_rows": {n: rows for n, (_, rows, _) in runs.items()}, "partition_ends": ends}
    common.report("b2", "Kafka ingest", params, figures, url=url, extra=extra, save=not args.no_save)
    return 0


if __name__ == "__main__":
    sys.exit(main())
