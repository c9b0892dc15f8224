"""``profiles consume`` run apart from ``serve`` (README, Scaling) shows its own metrics."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request

from tests.integration.conftest import envelope, publish, wait_for
from tests.integration.kafka_broker import free_port


def test_a_consume_process_serves_its_counters_on_its_metrics_port(kafka_container, kafka_producer, tmp_path):
    settings = kafka_container.settings
    port = free_port()
    env = {**os.environ, "DATABASE_URL": settings.database_url, "PROFILES_DB_SCHEMA": settings.db_schema,
           "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers, "PROFILES_EVENTS_TOPIC": settings.events_topic,
           "PROFILES_DLQ_TOPIC": settings.dlq_topic, "PROFILES_CONSUMER_GROUP": settings.consumer_group}
    publish(kafka_producer, settings.events_topic, [
        (b"u-1", envelope("shop", "contact.upserted", {"userId": "u-1"}, {"firstName": "Ann"})),
        (b"u-1", envelope("shop", "activity", {"userId": "u-1"}, {"name": "orderPlaced"})),
        (b"u-2", envelope("shop", "activity", {"userId": "u-2"}, {"name": "orderPlaced"})),  # unknown contact
    ])
    with open(tmp_path / "consume.log", "wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "profiles.cli", "consume", "--metrics-port", str(port)],
                                   env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        topic = settings.events_topic

        def scraped() -> str:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as answer:
                    return answer.read().decode()
            except OSError:
                return ""

        wait_for(lambda: f'profiles_consumer_ingested_total{{topic="{topic}"}} 2.0' in scraped(), timeout=60,
                 message="the consumer's counters on its own metrics port")
        assert f'profiles_consumer_dead_letters_total{{code="contact_not_found",topic="{topic}"}} 1.0' in scraped()
    finally:
        process.terminate()
        process.wait(timeout=30)
