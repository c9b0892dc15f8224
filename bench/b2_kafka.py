"""B2 Kafka ingest: broker → consumer → event store, exactly once.

    python -m bench.b2_kafka --events 500000 --partitions 3

The topic is filled first (not timed). Measured: ``ContactEventConsumer`` from start
(group join included) until the store's tracking records say every partition's last
offset is stored, events per second. Baseline in the same run: a plain kafka-python
consumer reading the same topic and decoding each message exactly as the consumer does
(``consumers.records.decode``: JSON + envelope validation), storing nothing.
"""

from __future__ import annotations

import sys
import threading
import time
import uuid
from typing import Any

from bench import broker, common, workload

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


def consume_into_store(container: Any, topic: str, ends: dict[int, int], total: int, quiet: bool) -> float:
    from consumers.consumer import ContactEventConsumer, tracking_name

    consumer = ContactEventConsumer(container.app, container.settings)
    stop = threading.Event()
    failure: list[BaseException] = []

    def run() -> None:
        try:
            consumer.run(stop)
        except BaseException as e:  # noqa: BLE001 - reported below
            failure.append(e)

    recorder = container.app.recorder
    bar = common.progress(total, "B2 consumer → store", quiet=quiet, unit="msg")
    thread = threading.Thread(target=run, name="b2-consumer", daemon=True)
    with common.Timer() as t:
        thread.start()
        done = 0
        while done < total:
            if failure:
                raise failure[0]
            time.sleep(0.1)
            stored = [recorder.max_tracking_id(tracking_name(topic, p)) for p in ends]
            now = sum(0 if s is None else s + 1 for s in stored)
            bar.update(now - done)
            done = now
    stop.set()
    thread.join(30)
    bar.close()
    return t.seconds


def main(argv: list[str] | None = None) -> int:
    p = common.parser(__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=500_000)
    p.add_argument("--contacts", type=int, default=50_000)
    p.add_argument("--partitions", type=int, default=3)
    args = p.parse_args(argv)
    if args.smoke:
        args.events, args.contacts = 600, 60
    url = common.database_url()
    topic = f"bench-contact-events-{uuid.uuid4().hex[:6]}"
    with broker.broker() as bootstrap:
        broker.create_topics(bootstrap, [topic, f"{topic}.dlq"], args.partitions)
        ends = broker.produce(bootstrap, topic, workload.envelopes(args.events, args.contacts, args.seed,
                                                                   prefix="k"), args.events, args.quiet)
        total = sum(ends.values())
        base_seconds = consume_only(bootstrap, topic, total, args.quiet)
        with common.scratch_schema(url, "b2") as schema:
            container = common.build_container(url, schema, KAFKA_BOOTSTRAP_SERVERS=bootstrap,
                                               PROFILES_EVENTS_TOPIC=topic, PROFILES_DLQ_TOPIC=f"{topic}.dlq",
                                               PROFILES_CONSUMER_GROUP=f"bench-{topic}")
            try:
                seconds = consume_into_store(container, topic, ends, total, args.quiet)
                stored = container.app.recorder.max_notification_id() or 0
            finally:
                container.close()

    figures = [common.Figure("events/s, Kafka → store (exactly once)", total / seconds, "ev/s",
                             total / base_seconds, "consume + decode, no store", target=TARGET_RATE)]
    params = {"events": total, "contacts": args.contacts, "partitions": args.partitions, "smoke": args.smoke}
    extra = {"seconds": round(seconds, 2), "baseline_seconds": round(base_seconds, 2), "stored_rows": stored,
             "partition_ends": ends}
    common.report("b2", "Kafka ingest", params, figures, url=url, extra=extra, save=not args.no_save)
    return 0


if __name__ == "__main__":
    sys.exit(main())
