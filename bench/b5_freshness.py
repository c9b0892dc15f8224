"""B5 freshness: an event published to Kafka → its effect visible in ``GET /contacts/{id}``,
while upstream publishes a steady background load.

    python -m bench.b5_freshness --rate 5000 --seconds 30

The service runs with Kafka configured, by default one process per role as the README's
scaling section deploys it (``--topology split``: ``bench.server`` for the API beside
``profiles project`` and ``profiles consume``), or all in one ``profiles serve`` process
(``--topology single``: ``bench.server --workers``). Contacts are created through Kafka first.
Then a paced producer sends ``--rate`` events/s about them, and every ``--probe-every``
seconds a probe (``contact.variables_set`` with a fresh value) is published for one of a
few probe contacts, whose profile is polled every 5 ms until the value shows. Figure:
p50/p99 of publish → visible. The background rate actually sent is reported beside it.
"""

from __future__ import annotations

import random
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import orjson

from bench import broker, common, load, workload

TARGET_P99_MS = 500.0
PROBES = 20


def _envelope(event_id: str, kind: str, ref: dict[str, str], data: dict[str, Any]) -> dict[str, Any]:
    return {"eventId": event_id, "domain": "shop", "type": kind, "occurredAt": datetime.now(tz=UTC).isoformat(),
            "contact": ref, "data": data}


@contextmanager
def roles(env: dict[str, str], split: bool) -> Iterator[load.Server]:
    """The service: the API with every worker in one process, or one process per role."""
    if not split:
        with load.server(env, workers=True) as served:
            yield served
        return
    with load.roles(env, "project", "consume"), load.server(env, workers=False) as served:
        yield served


def wait_visible(port: int, path: str, check: Any, timeout: float) -> float | None:
    """Seconds until ``check(body)`` holds for GET ``path``, polling every 5 ms."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        status, body = load.get(port, path)
        if status == 200 and check(orjson.loads(body)):
            return time.perf_counter() - started
        time.sleep(0.005)
    return None


def main(argv: list[str] | None = None) -> int:
    p = common.parser(__doc__.splitlines()[0])
    p.add_argument("--rate", type=int, default=5000, help="background events per second")
    p.add_argument("--seconds", type=float, default=30.0)
    p.add_argument("--contacts", type=int, default=5000)
    p.add_argument("--probe-every", type=float, default=0.25)
    p.add_argument("--topology", choices=("split", "single"), default="split",
                   help="one process per role (API, projections, consumer), or all in one")
    args = p.parse_args(argv)
    if args.smoke:
        args.rate, args.seconds, args.contacts, args.probe_every = 200, 2.0, 100, 0.5
    from kafka import KafkaProducer

    url = common.database_url()
    topic = f"bench-fresh-{uuid.uuid4().hex[:6]}"
    rng = random.Random(args.seed)
    people = [workload.person(i, rng, "shop") for i in range(args.contacts)]
    probes = [{"email": f"probe.{i}@mail.example.com"} for i in range(PROBES)]
    with broker.broker() as bootstrap, common.scratch_schema(url, "b5") as schema:
        broker.create_topics(bootstrap, [topic, f"{topic}.dlq"], 3)
        created = [_envelope(f"c-{p.index}", "contact.upserted", dict(p.identifiers), workload.profile_data(p, rng))
                   for p in people]
        created += [_envelope(f"p-{i}", "contact.upserted", ref, {"firstName": "Probe"}) for i, ref in enumerate(probes)]
        broker.produce(bootstrap, topic, created, len(created), args.quiet)
        env = {"DATABASE_URL": url, "PROFILES_DB_SCHEMA": schema, "PROFILES_API_KEYS": "",
               "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "PROFILES_EVENTS_TOPIC": topic,
               "PROFILES_DLQ_TOPIC": f"{topic}.dlq", "PROFILES_CONSUMER_GROUP": f"bench-{topic}"}
        with roles(env, args.topology == "split") as served:
            port = served.port
            ids = []
            for ref in probes:  # every contact is in once the last probe contact is
                search = f"/v1/domains/shop/contacts?email={ref['email']}"
                if wait_visible(port, search, lambda b: b["items"], 300) is None:
                    raise TimeoutError("contacts created through Kafka never became visible")
                ids.append(orjson.loads(load.get(port, search)[1])["items"][0]["id"])
            producer = KafkaProducer(bootstrap_servers=bootstrap, acks=1, linger_ms=5)
            stop = threading.Event()
            sent = [0]

            def background() -> None:
                tick, started = 0.01, time.perf_counter()
                while not stop.is_set():
                    due = int((time.perf_counter() - started) * args.rate)
                    while sent[0] < due:
                        p = people[int(len(people) * rng.random() ** 2.5)]
                        kind = "activity" if rng.random() < 0.7 else "contact.variables_set"
                        data = ({"name": "pageViewed", "properties": {"url": "/"}} if kind == "activity"
                                else {"variables": {"score": rng.randint(0, 999)}})
                        ref = {"userId": p.identifiers["userId"]}
                        producer.send(topic, key=ref["userId"].encode(),
                                      value=orjson.dumps(_envelope(f"bg-{sent[0]}", kind, ref, data)))
                        sent[0] += 1
                    time.sleep(tick)

            def probe(n: int) -> float | None:
                ref, cid = probes[n % PROBES], ids[n % PROBES]
                marker = f"m{n}"
                producer.send(topic, key=ref["email"].encode(), value=orjson.dumps(
                    _envelope(f"probe-{n}", "contact.variables_set", ref, {"variables": {"probe": marker}})))
                return wait_visible(port, f"/v1/domains/shop/contacts/{cid}",
                                    lambda b, m=marker: b["variables"].get("probe") == m, 60)

            loader = threading.Thread(target=background, daemon=True)
            with common.Timer() as run, ThreadPoolExecutor(max_workers=PROBES) as pool:
                loader.start()
                futures = []
                bar = common.progress(int(args.seconds / args.probe_every), "B5 probes", quiet=args.quiet,
                                      unit="probe")
                while run.start + args.seconds > time.perf_counter():
                    futures.append(pool.submit(probe, len(futures)))
                    bar.update(1)
                    time.sleep(args.probe_every)
                stop.set()
                loader.join()
                results = [f.result() for f in futures]
                bar.close()
            producer.close(timeout=10)
            seconds = time.perf_counter() - run.start

    # A probe not visible within the 60 s poll counts as 60 s: a floor, not a measurement.
    waited = [60.0 if r is None else r for r in results]
    lost = sum(r is None for r in results)
    p50, p99 = 1000 * load.percentile(waited, 50), 1000 * load.percentile(waited, 99)
    figures = [common.Figure("publish → visible, p99", p99, "ms", target=TARGET_P99_MS, higher_is_better=False,
                             note=f"{lost} of {len(results)} probes not visible within 60 s" if lost else ""),
               common.Figure("publish → visible, p50", p50, "ms", target=TARGET_P99_MS, higher_is_better=False),
               common.Figure("background rate sent", sent[0] / seconds, "ev/s", note=f"asked for {args.rate}/s")]
    params = {"rate": args.rate, "seconds": args.seconds, "contacts": args.contacts, "probes": len(results),
              "topology": args.topology, "smoke": args.smoke}
    bench_id = "b5" if args.rate == 5000 or args.smoke else f"b5-{args.rate}"
    if args.topology == "single" and not args.smoke:
        bench_id += "-single"
    common.report(bench_id, "freshness", params, figures, url=url,
                  extra={"latencies_ms": [round(1000 * r, 1) if r is not None else None for r in results],
                         "background_sent": sent[0], "not_visible_within_60s": lost}, save=not args.no_save)
    return 0


if __name__ == "__main__":
    sys.exit(main())
