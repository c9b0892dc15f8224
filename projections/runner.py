"""The batched projection runner.

One loop reads the event log from the projections' tracking position, many events at a
time, applies each run of events to the three projections in dependency order (profile,
then activity, then segments, which reads the other two as of the same position) and
moves every tracking row forward, all in ONE transaction per batch. A crash anywhere in
a batch rolls it back whole: nothing is lost, nothing applied twice. When caught up it
sleeps on PostgreSQL ``LISTEN`` (the event store NOTIFYs its channel on every insert),
so a single new event is applied within milliseconds.

Why one runner for three projections instead of one each: segment membership is
evaluated against the profile document and the activity counts *at the causing event's
position*; applying all three in the same transaction makes that exact (and decodes each
event once). Each projection still has its own tables and its own tracking row.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import Connection, Cursor, sql

from projections import schema as tables
from projections.activity import projection as activity
from projections.batch import Batch
from projections.copying import create_staging
from projections.events import Fact, decode
from projections.profile import projection as profile
from projections.read_model import parse_json_fast
from projections.segments import projection as segments
from projections.worker import ThreadWorker

log = logging.getLogger(__name__)

APPLIERS = (profile.apply, activity.apply, segments.apply)
TOPICS = sorted(set(profile.TOPICS) | set(activity.TOPICS) | set(segments.TOPICS))
CHANNEL = "profiles_events"  # the event store's NOTIFY channel (its table name)
# After a catch-up of this many events the tables are vacuumed and analysed (see ``maintain``).
MAINTAIN_AFTER = 100_000
# Projections that never ran over a log at least this long are first built in bulk (see
# ``ProjectionRunner._first_start``); below it the batch path takes seconds anyway.
BULK_START_AFTER = 100_000


def apply_facts(cur: Cursor[Any], view: str, events: str, facts: list[Fact]) -> None:
    """Apply facts in log order; segment definitions and clock ticks go alone, so their
    back-fill sees the tables exactly as of their position."""
    run: list[Fact] = []
    for fact in facts:
        if fact.kind in segments.BARRIERS:
            if run:
                _apply_run(cur, view, events, run)
                run = []
            _apply_run(cur, view, events, [fact])
        else:
            run.append(fact)
    if run:
        _apply_run(cur, view, events, run)


def _apply_run(cur: Cursor[Any], view: str, events: str, facts: list[Fact]) -> None:
    batch = Batch(facts=facts, view=view, events=events)
    for applier in APPLIERS:
        applier(cur, batch)


class Step:
    """One batch: read, apply, track — on a caller's connection."""

    def __init__(self, conn: Connection[Any], view_schema: str, events_schema: str) -> None:
        self.conn = conn
        self.view = sql.Identifier(view_schema).as_string(conn)
        self.events = sql.Identifier(events_schema).as_string(conn)
        self.before_commit: Callable[[], None] | None = None  # tests: crash between write and commit
        create_staging(conn, self.view)

    def position(self) -> int:
        row = self.conn.execute(f"SELECT min(position) FROM {self.view}.projection_tracking").fetchone()
        return int(row[0] or 0) if row else 0

    def head(self) -> int:
        row = self.conn.execute(f"SELECT max(notification_id) FROM {self.events}.profiles_events").fetchone()
        return int(row[0] or 0) if row else 0

    def run(self, limit: int, stop: int | None = None) -> tuple[int, int]:
        """Apply up to ``limit`` events (up to log position ``stop``); (events applied,
        new position). Joins the caller's transaction when one is open."""
        with self.conn.transaction():
            cur = self.conn.cursor()
            cur.execute(f"SELECT position FROM {self.view}.projection_tracking WHERE name = ANY(%s) FOR UPDATE",
                        (list(tables.PROJECTIONS),))
            start = min(int(r[0]) for r in cur.fetchall())
            head = self.head() if stop is None else stop
            if head <= start:
                return 0, start
            # A window of positions, not only a LIMIT: the planner then scans just that
            # slice of the notification index instead of everything up to the head.
            upper = min(head, start + 2 * limit)
            cur.execute(
                f"SELECT notification_id, originator_id::text, originator_version, topic, state "
                f"FROM {self.events}.profiles_events WHERE notification_id > %s AND notification_id <= %s "
                "AND topic = ANY(%s) ORDER BY notification_id LIMIT %s", (start, upper, TOPICS, limit), binary=True)
            rows = cur.fetchall()
            # A short page means everything up to ``upper`` was seen (the store commits
            # notification ids in order), including events no projection reads.
            end = rows[-1][0] if len(rows) == limit else upper
            facts = [decode(*row) for row in rows]
            apply_facts(cur, self.view, self.events, facts)
            cur.execute(f"UPDATE {self.view}.projection_tracking SET position = %s WHERE name = ANY(%s)",
                        (end, list(tables.PROJECTIONS)))
            if self.before_commit is not None:
                self.before_commit()
            return len(facts), end


def connect(database_url: str) -> Connection[Any]:
    conn = psycopg.connect(database_url, autocommit=True)
    conn.execute("SET TIME ZONE 'UTC'")
    # A projection's rows and its tracking position commit together, so a commit lost in
    # a crash is simply applied again from the log: no need to wait for the WAL flush.
    conn.execute("SET synchronous_commit = off")
    # Back-fills hash and sort a domain's worth of contacts: keep that in memory.
    conn.execute("SET work_mem = '64MB'")
    # A batch's statements are short; JIT-compiling one whose estimate crossed the
    # threshold (the per-batch activity look-up on an unanalysed feed) cost ~0.2 s each.
    conn.execute("SET jit = off")
    # Every batch reads back the documents it evolves, parsed as the API reads them.
    parse_json_fast(conn)
    return conn


def maintain(conn: Connection[Any], view: str) -> None:
    """``VACUUM (ANALYZE)`` every projection table after a large catch-up. Without it the
    first set-based read (a segment back-fill) pays for setting the hint bits of every
    row just written, and plans with the row estimates of empty tables; autovacuum gets
    there too, but minutes later. Needs an autocommit connection (``connect``)."""
    started = time.perf_counter()
    for table in tables.TABLES:
        conn.execute(f"VACUUM (ANALYZE) {view}.{table}")
    log.info("vacuumed and analysed projection tables seconds=%.1f", time.perf_counter() - started)


class ProjectionRunner(ThreadWorker):
    """Runs the projections in a thread: ``start()`` / ``stop()`` (a Runtime worker)."""

    thread_name = "projections"

    def __init__(self, database_url: str, events_schema: str, *, view_schema: str | None = None,
                 batch_size: int = 1000, idle_timeout: float = 0.25, maintain_after: int = MAINTAIN_AFTER,
                 bulk_start_after: int | None = BULK_START_AFTER, progress: bool = False) -> None:
        self.database_url = database_url
        self.events_schema = events_schema
        self.view_schema = view_schema or events_schema
        self.batch_size = batch_size
        self.idle_timeout = idle_timeout
        self.maintain_after = maintain_after
        self.bulk_start_after = bulk_start_after  # None: always batch by batch
        self.progress = progress  # a progress bar for the bulk first start (a terminal's `profiles project`)
        self.before_commit: Callable[[], None] | None = None
        super().__init__()
        self.error: BaseException | None = None
        self._maintenance: threading.Thread | None = None

    def ensure_tables(self) -> None:
        with connect(self.database_url) as conn:
            tables.create(conn, self.view_schema, self.events_schema)

    def step(self, conn: Connection[Any]) -> Step:
        step = Step(conn, self.view_schema, self.events_schema)
        step.before_commit = self.before_commit
        return step

    def catch_up(self, stop: int | None = None, progress: Callable[[int, int], None] | None = None) -> int:
        """Apply everything up to ``stop`` (the head when None); returns events applied.
        A large catch-up ends with ``maintain``, so the tables are ready for reads."""
        total = 0
        with connect(self.database_url) as conn:
            step = self.step(conn)
            target = step.head() if stop is None else stop
            while True:
                applied, position = step.run(self.batch_size, target)
                total += applied
                if progress:
                    progress(applied, position)
                if position >= target:
                    if total >= self.maintain_after:
                        maintain(conn, step.view)
                    return total

    def start(self) -> None:
        self.ensure_tables()
        super().start()

    def run_forever(self) -> None:
        self.ensure_tables()
        self._loop()

    def _maintain_in_background(self, view: str) -> None:
        """On its own connection, so live events keep being applied meanwhile."""
        if self._maintenance is not None and self._maintenance.is_alive():
            return

        def run() -> None:
            try:
                with connect(self.database_url) as conn:
                    maintain(conn, view)
            except Exception:  # autovacuum will get there too
                log.exception("projection table maintenance failed")

        self._maintenance = threading.Thread(target=run, name="projections-maintenance", daemon=True)
        self._maintenance.start()

    def _first_start(self) -> None:
        """Projections that never ran over a long log (a new deployment, a restored store)
        are built in bulk first: about 4x faster than batch by batch (bench B3), and a
        crash or stop meanwhile leaves the live tables as they were (``replay``)."""
        from projections.replay import ReplayBusy, ReplayStopped, bulk_fits, replay  # replay builds on this module

        if self.bulk_start_after is None or self.view_schema != self.events_schema:
            return
        try:
            with connect(self.database_url) as conn:
                step = Step(conn, self.view_schema, self.events_schema)
                head = step.head()
                if head < self.bulk_start_after or step.position() > 0:
                    return
                if not bulk_fits(conn, self.events_schema, None)[0]:
                    return  # batch by batch in constant memory is what replay would do too
            log.info("projections never ran over %d stored events: building them in bulk first", head)
            result = replay(self.database_url, self.events_schema, batch_size=self.batch_size,
                            progress=self.progress, stopping=self._stopping)
        except ReplayBusy:
            log.info("another process is building the projections in bulk; projecting batch by batch meanwhile")
        except ReplayStopped:
            log.info("bulk build stopped; the projections start from position 0 next time")
        except Exception:  # the database away, say: the live loop below retries
            log.exception("bulk build failed; projecting batch by batch instead")
        else:
            log.info("built projections in bulk events=%d position=%d", result.events, result.position)

    def _loop(self) -> None:
        self._first_start()
        backoff = 0.1
        while not self._stopping.is_set():
            try:
                with connect(self.database_url) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    step = self.step(conn)
                    backlog = 0
                    while not self._stopping.is_set():
                        if step.head() > step.position():
                            applied, position = step.run(self.batch_size)
                            log.debug("projected events=%d position=%d", applied, position)
                            backoff = 0.1
                            backlog += applied
                            continue
                        if backlog >= self.maintain_after:  # a backlog was just worked off
                            self._maintain_in_background(step.view)
                        backlog = 0
                        # Caught up: sleep until the store NOTIFYs an insert (a NOTIFY sent
                        # while we were busy is already queued, so none is missed).
                        for _ in conn.notifies(timeout=self.idle_timeout, stop_after=1):
                            pass
            except Exception as error:  # a lost connection or a failing batch: retry from tracking
                self.error = error
                log.exception("projection batch failed; retrying from the tracking position")
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, 5.0)
