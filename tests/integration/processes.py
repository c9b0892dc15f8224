"""Several application instances on one store, as separate processes would have them
(own pool, own aggregate cache), for the concurrency tests."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import psycopg

from domain import errors
from profiles.bootstrap import PostgresContactProfiles

THREADS = 8


def other_process(env: dict[str, str]) -> PostgresContactProfiles:
    return PostgresContactProfiles({**env, "POSTGRES_POOL_SIZE": "1", "POSTGRES_MAX_OVERFLOW": "1"})


def race(env: dict[str, str], work, rounds: int = 1, threads: int = THREADS) -> list[list]:
    """Run ``work(app, n, round)`` in ``threads`` threads, each with its own application,
    released together by a barrier each round. Returns each round's results (a domain
    refusal as its error)."""
    apps = [other_process(env) for _ in range(threads)]
    barrier = threading.Barrier(threads)

    def run(n: int) -> list:
        outcomes = []
        for r in range(rounds):
            barrier.wait()
            try:
                outcomes.append(work(apps[n], n, r))
            except errors.DomainError as refusal:
                outcomes.append(refusal)
        return outcomes

    try:
        with ThreadPoolExecutor(threads) as pool:
            per_thread = list(pool.map(run, range(threads)))
    finally:
        for app in apps:
            app.close()
    return [[outcomes[r] for outcomes in per_thread] for r in range(rounds)]


def count(database_url: str, schema: str, topic: str) -> int:
    """Stored events of one topic."""
    with psycopg.connect(database_url) as conn:
        return conn.execute(f'SELECT count(*) FROM "{schema}".profiles_events WHERE topic = %s',
                            (topic,)).fetchone()[0]
