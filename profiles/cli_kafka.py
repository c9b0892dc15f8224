"""Kafka verbs of ``profiles``: ``consume`` and ``relay``, and their workers in ``serve``."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from collections.abc import Callable
from typing import Any

from profiles.settings import Settings

log = logging.getLogger("profiles.kafka")


def register(verbs: Any) -> None:
    consume = verbs.add_parser("consume", help="apply contact events from Kafka (needs KAFKA_BOOTSTRAP_SERVERS)")
    consume.add_argument("--max-records", type=int, default=3000, help="records per poll (all partitions)")
    consume.add_argument("--forget-partition", metavar="TOPIC:PARTITION", action="append", default=[],
                         help="instead of consuming, forget the stored position of a partition whose topic was "
                              "recreated (its messages are then read from the first; eventIds applied before "
                              "are skipped); stop the consumers first")
    relay = verbs.add_parser("relay", help="publish message sends to the outbound topic (needs KAFKA_BOOTSTRAP_SERVERS)")
    relay.add_argument("--batch-size", type=int, default=500, help="sends per confirmed batch")
    for verb, func in ((consume, _consume), (relay, _relay)):
        # Run apart from `serve`, their lag and counters would be on no /metrics page.
        verb.add_argument("--metrics-port", type=int, default=None,
                          help="serve this process's Prometheus metrics on PROFILES_HOST:PORT/metrics")
        verb.set_defaults(func=func)


def add_workers(runtime: Any) -> None:
    settings = runtime.container.settings
    if not settings.kafka_bootstrap_servers:
        return
    from consumers.consumer import ContactEventConsumer
    from consumers.relay import OutboundRelay
    from consumers.worker import ThreadWorker
    from profiles.bootstrap import PostgresContactProfiles

    # The consumer writes through an application of its own (own aggregate cache and
    # pool), as a separate process would: a Kafka batch never holds the API's write lock,
    # and the two meet only through optimistic concurrency in the store.
    ingesting = PostgresContactProfiles(runtime.container.env)
    runtime.add(ThreadWorker("kafka-consumer", ContactEventConsumer(ingesting, settings).run,
                             on_stopped=ingesting.close))
    runtime.add(ThreadWorker("outbound-relay", OutboundRelay(runtime.container.app, settings).run))


def _consume(args: argparse.Namespace) -> int:
    from consumers.consumer import ContactEventConsumer

    if args.forget_partition:
        return _forget(args.forget_partition)
    return _run_until_signal(lambda container: ContactEventConsumer(
        container.app, container.settings, max_records=args.max_records).run, args.metrics_port)


def _relay(args: argparse.Namespace) -> int:
    from consumers.relay import OutboundRelay

    return _run_until_signal(lambda container: OutboundRelay(container.app, container.settings,
                                                             batch_size=args.batch_size).run, args.metrics_port)


def _forget(partitions: list[str]) -> int:
    from consumers.consumer import tracking_name
    from profiles.bootstrap import build

    names = []
    for given in partitions:
        topic, _, partition = given.rpartition(":")
        if not topic or not partition.isdigit():
            log.error("--forget-partition takes TOPIC:PARTITION, e.g. contact-events:0 (got %r)", given)
            return 2
        names.append(tracking_name(topic, int(partition)))
    container = build(Settings())
    try:
        for name in names:
            count = container.app.recorder.forget_tracking(name)
            print(f"{name}: forgot {count} stored positions; the partition is read from its first message")
    finally:
        container.close()
    return 0


def _run_until_signal(make: Callable[[Any], Callable[[threading.Event], None]], metrics_port: int | None) -> int:
    from profiles.bootstrap import build

    settings = Settings()
    if not settings.kafka_bootstrap_servers:
        log.error("KAFKA_BOOTSTRAP_SERVERS is not set")
        return 2
    if metrics_port is not None:
        from prometheus_client import start_http_server

        start_http_server(metrics_port, addr=settings.host)
    logging.getLogger("kafka").setLevel(logging.WARNING)  # its INFO is per-connection chatter
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    container = build(settings)
    try:
        make(container)(stop)
    except Exception:
        log.exception("stopped on error")  # the loop logs the cause without payloads
        return 1
    finally:
        container.close()
    return 0
