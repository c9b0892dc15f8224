"""Two concurrent creators of one email cannot both win: eight application instances
(as eight processes would have) race on real PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import psycopg

from domain import errors
from domain.meta import Meta
from profiles.bootstrap import PostgresContactProfiles

THREADS = 8


def race(env: dict[str, str], work) -> list:
    """Run ``work(app, n)`` in THREADS threads, each with its own application (own pool,
    own aggregate cache), released together by a barrier."""
    small_pool = {**env, "POSTGRES_POOL_SIZE": "1", "POSTGRES_MAX_OVERFLOW": "1"}
    apps = [PostgresContactProfiles(small_pool) for _ in range(THREADS)]
    barrier = threading.Barrier(THREADS)

    def run(n: int):
        barrier.wait()
        try:
            return work(apps[n], n)
        except errors.DomainError as refusal:
            return refusal

    try:
        with ThreadPoolExecutor(THREADS) as pool:
            return list(pool.map(run, range(THREADS)))
    finally:
        for app in apps:
            app.close()


def count(database_url: str, schema: str, topic: str) -> int:
    with psycopg.connect(database_url) as conn:
        return conn.execute(f'SELECT count(*) FROM "{schema}".profiles_events WHERE topic = %s',
                            (topic,)).fetchone()[0]


def test_eight_creators_of_one_email_exactly_one_wins(container, database_url, schema):
    def create(app, n):
        meta = Meta(method="api", actor=f"writer-{n}", occurred_at=datetime.now(UTC))
        return app.create_contact("shop", {"email": " Ann@Example.com" if n % 2 else "ann@example.com",
                                           "firstName": f"Ann {n}"}, {}, meta)[0]

    results = race(container.env, create)
    winners = [r for r in results if not isinstance(r, errors.DomainError)]
    refused = [r for r in results if isinstance(r, errors.DomainError)]
    assert len(winners) == 1, results
    assert len(refused) == THREADS - 1 and all(isinstance(r, errors.IdentifierTaken) for r in refused), refused
    assert {r.extra["existingId"] for r in refused} == {str(winners[0].id)}
    assert count(database_url, schema, "domain.contact:Contact.Created") == 1
    assert count(database_url, schema, "domain.claim:IdentifierClaim.Claimed") == 1
    assert container.app.contact("shop", winners[0].id).identifiers == {"email": "ann@example.com"}


def test_eight_creators_of_different_emails_all_win(container, database_url, schema):
    def create(app, n):
        meta = Meta(method="api", actor=f"writer-{n}", occurred_at=datetime.now(UTC))
        return app.create_contact("shop", {"email": f"p{n}@example.com"}, {}, meta)[0]

    results = race(container.env, create)
    assert not [r for r in results if isinstance(r, errors.DomainError)]
    assert count(database_url, schema, "domain.contact:Contact.Created") == THREADS
