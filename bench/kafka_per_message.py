"""Ingest rate through the broker: batched consumer vs one ingest call per message.

    KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092 DATABASE_URL=postgresql://… \\
        python -m bench.kafka_per_message --events 50000 --baseline-events 3000

Both runs use ``ContactEventConsumer`` (decode, validate, DLQ, tracking — everything),
each on its own freshly filled 3-partition topic and its own fresh schema, in the same
process on the same machine. The batched run takes up to ``--max-records`` per poll; the
baseline takes one record per poll, i.e. one ``ingest`` transaction per message. Time
runs from the first partition assignment (the group join is not ingest) until the
store's tracking records cover every offset. For a broker, ``python -m
tests.integration.kafka_broker`` runs the test suite's Tansu in the foreground.
"""

from __future__ import annotations

import argparse
import os
import random
import threading
import time
import uuid
from typing import Any

import orjson
import psycopg

CHANNELS = ("email", "sms")


def stream(n_events: int, seed: int = 7) -> list[tuple[bytes, bytes]]:
    """A realistic mix: one contact per ten events, then activity-heavy traffic."""
    rng = random.Random(seed)
    contacts = max(1, n_events // 10)
    out: list[tuple[bytes, bytes]] = []
    base = "2026-11-28T10:00:00Z"

    def env(kind: str, k: int, data: dict[str, Any]) -> tuple[bytes, bytes]:
        ref = {"userId": f"u-{k}"} if k % 2 else {"email": f"p{k}@example.com"}
        return (f"c-{k}".encode(), orjson.dumps({"eventId": str(uuid.UUID(int=rng.getrandbits(128))), "domain": "shop",
                                                 "type": kind, "occurredAt": base, "contact": ref, "data": data}))

    for k in range(contacts):
        out.append(env("contact.upserted", k, {"userId": f"u-{k}", "email": f"p{k}@example.com",
                                               "firstName": "Ann", "variables": {"plan": "free"}}))
    for _ in range(n_events - contacts):
        k = rng.randrange(contacts)
        roll = rng.random()
        if roll < 0.55:
            out.append(env("activity", k, {"name": "pageViewed", "properties": {"url": f"/p/{rng.randrange(999)}"}}))
        elif roll < 0.85:
            out.append(env("contact.variables_set", k, {"variables": {"score": rng.randrange(1000)}}))
        elif roll < 0.95:
            out.append(env("subscription.changed", k, {"channel": "email", "status": rng.choice(
                ("subscribed", "unsubscribed"))}))
        else:
            out.append(env("contact.upserted", k, {"lastName": rng.choice(("Lee", "Tamm", "Kask"))}))
    return out


def fill(bootstrap: str, topic: str, messages: list[tuple[bytes, bytes]]) -> dict[int, int]:
    from kafka import KafkaAdminClient, KafkaProducer
    from kafka.admin import NewTopic

    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    admin.create_topics([NewTopic(topic, 3, 1), NewTopic(f"{topic}.dlq", 3, 1)])
    admin.close()
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20, batch_size=256 * 1024)
    futures = [producer.send(topic, key=k, value=v) for k, v in messages]
    producer.flush()
    last: dict[int, int] = {}
    for f in futures:
        meta = f.get()
        last[meta.partition] = max(last.get(meta.partition, -1), meta.offset)
    producer.close()
    return last


def measure(url: str, bootstrap: str, messages: list[tuple[bytes, bytes]], max_records: int) -> float:
    from consumers.consumer import ContactEventConsumer, tracking_name
    from profiles.bootstrap import build
    from profiles.settings import Settings

    tag = uuid.uuid4().hex[:8]
    topic, schema = f"throughput-{tag}", f"throughput_{tag}"
    last = fill(bootstrap, topic, messages)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    container = build(Settings(DATABASE_URL=url, PROFILES_DB_SCHEMA=schema, KAFKA_BOOTSTRAP_SERVERS=bootstrap,
                               PROFILES_EVENTS_TOPIC=topic, PROFILES_DLQ_TOPIC=f"{topic}.dlq",
                               PROFILES_CONSUMER_GROUP=f"throughput-{tag}"))
    consumer = ContactEventConsumer(container.app, container.settings, max_records=max_records)
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,), daemon=True)
    try:
        thread.start()
        while not consumer.assigned:
            time.sleep(0.005)
        started = time.perf_counter()
        recorder = container.app.recorder
        while not all((recorder.max_tracking_id(tracking_name(topic, p)) or -1) >= o for p, o in last.items()):
            if not thread.is_alive():
                raise RuntimeError("consumer died")
            time.sleep(0.01)
        return time.perf_counter() - started
    finally:
        stop.set()
        thread.join(30)
        container.close()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--baseline-events", type=int, default=3_000)
    parser.add_argument("--max-records", type=int, default=3000)
    args = parser.parse_args()
    url = os.environ["DATABASE_URL"]
    bootstrap = os.environ["KAFKA_BOOTSTRAP_SERVERS"]
    batched = measure(url, bootstrap, stream(args.events), args.max_records)
    single = measure(url, bootstrap, stream(args.baseline_events), 1)
    rate, base = args.events / batched, args.baseline_events / single
    print(f"batched consumer: {args.events} events in {batched:.2f} s = {rate:,.0f} events/s")
    print(f"one ingest per message: {args.baseline_events} events in {single:.2f} s = {base:,.0f} events/s")
    print(f"ratio: {rate / base:.1f}x")


if __name__ == "__main__":
    main()
