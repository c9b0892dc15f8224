"""Bulk rebuild: every projection from position 0 into fresh tables, as fast as the box allows.

The live runner pays, per batch, for reading the documents and memberships it evolves
and for rewriting them through indexes; from position 0 that is most of the work. A
rebuild owns its tables until it is done, so it can do better with the same per-event
logic (``projections.memory``):

- documents, memberships, definitions, templates and notes are held in memory and
  written once at the end; feed, consent and segment history rows are streamed, each
  table through one long ``COPY`` on its own connection while Python goes on;
- the tables are loaded without their indexes and constraints (captured from the
  created tables, dropped, and re-created after the load, two tables at a time); rows
  are written frozen (``COPY … FREEZE``) and every table is ``VACUUM (ANALYZE)``-ed, so
  the first reader finds hint bits, a visibility map and row estimates instead of
  paying for them;
- the log is read in position windows by a second thread, ahead of the decoding; the
  feed, which needs nothing from the other projections, is written by a second process
  (``projections.activity.bulk``), so Python work runs on both cores, and the main
  process skips the activities no segment counts without decoding them.

The tracking rows move to the log head in the transaction that held them locked for the
whole rebuild, so a live runner pointed at the same tables waits rather than interleaves.
"""

from __future__ import annotations

import gc
import json
import logging
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

import orjson
from psycopg import Connection, sql

from projections import indexes
from projections import schema as tables
from projections.activity import projection as activity
from projections.activity.bulk import FeedProcess
from projections.batch import Batch
from projections.events import Fact, decode, topics
from projections.logstream import frozen_copy, windows
from projections.memory import MemoryTables
from projections.profile import projection as profile
from projections.runner import TOPICS, connect
from projections.segments import evaluate
from projections.segments import projection as segments

log = logging.getLogger(__name__)
# Every table is loaded bare and indexed after: on two busy cores, building an index
# once by sorting costs less CPU than maintaining it row by row during the load.
_INDEXED_AFTER = tuple(t for t in tables.TABLES if t != "projection_tracking")
_DEFINITIONS = list(topics("Segment.Defined", "Segment.Redefined"))
_ACTIVITY = topics("Activity.Recorded")[0]
# What the main process reads when the feed has a process of its own.
_MAIN_TOPICS = sorted(set(profile.TOPICS) | set(segments.TOPICS))


@dataclass
class RebuildResult:
    events: int
    position: int
    load_seconds: float = 0.0  # reading, applying and streaming the log
    finish_seconds: float = 0.0  # writing the in-memory tables, indexes, VACUUM (ANALYZE)


def rebuild(database_url: str, events_schema: str, view_schema: str, *,
            progress: Callable[[int, int], None] | None = None, feed_process: bool = True) -> RebuildResult:
    """Build every projection in ``view_schema`` (its tables empty or absent) from the log
    of ``events_schema`` up to its current head; the tables end as the live path's.

    A failed rebuild drops the half-built tables (the next ``schema.create`` makes them
    anew, indexes included); the tracking rows go with them, at 0. ``feed_process``: the
    feed is written by a second process (``projections.activity.bulk``)."""
    with connect(database_url) as conn, connect(database_url) as lock:
        tables.create(conn, view_schema, events_schema)
        view = sql.Identifier(view_schema).as_string(conn)
        events = sql.Identifier(events_schema).as_string(conn)
        _require_empty(conn, view)
        failure: BaseException | None = None
        with lock.transaction():  # held, on its own connection, until the tracking rows move
            lock.execute(f"LOCK TABLE {view}.projection_tracking IN EXCLUSIVE MODE")
            row = lock.execute(f"SELECT max(position) FROM {view}.projection_tracking").fetchone()
            if row and row[0]:
                raise RuntimeError(f"a rebuild needs fresh tables; {view} has been projected meanwhile")
            row = lock.execute(f"SELECT max(notification_id) FROM {events}.profiles_events").fetchone()
            head = int(row[0] or 0) if row else 0
            keys = indexes.capture(conn, view_schema, list(_INDEXED_AFTER))
            feed: FeedProcess | None = None
            try:
                indexes.drop(conn, keys)
                with _collecting_later():
                    started = time.perf_counter()
                    feed = FeedProcess(database_url, view, events, head) if feed_process else None
                    state, applied = _load(conn, database_url, view, events, head, progress, feed)
                    loaded = time.perf_counter()
                    applied += _finish(database_url, view, events, state, keys, feed)
                    finished = time.perf_counter()
                lock.execute(f"UPDATE {view}.projection_tracking SET position = %s", (head,))
            except BaseException as error:
                failure = error
                if feed is not None:
                    feed.stop()  # its transaction rolls back: now every other connection of ours is closed
                for table in tables.TABLES:
                    lock.execute(f"DROP TABLE IF EXISTS {view}.{table}")
        if failure is not None:
            raise failure
    log.info("rebuilt projections schema=%s events=%d position=%d load_s=%.2f finish_s=%.2f", view_schema, applied,
             head, loaded - started, finished - loaded)
    return RebuildResult(events=applied, position=head, load_seconds=loaded - started,
                         finish_seconds=finished - loaded)


def _require_empty(conn: Connection[Any], view: str) -> None:
    filled = [t for t in tables.TABLES if t != "projection_tracking"
              and conn.execute(f"SELECT EXISTS (SELECT 1 FROM {view}.{t})").fetchone() != (False,)]
    row = conn.execute(f"SELECT max(position) FROM {view}.projection_tracking").fetchone()
    if filled or (row and row[0]):
        raise RuntimeError(f"a rebuild needs fresh tables; {view} already has rows in {filled or 'tracking'}")


@contextmanager
def _collecting_later() -> Iterator[None]:
    """Millions of long-lived dicts and tuples make each full collection walk them all;
    nothing built here is cyclic, so collection waits until the rebuild is done."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _counted(conn: Connection[Any], events: str, head: int) -> set[str]:
    """Activity names that any segment of the log counts: only their rows are kept."""
    rows = conn.execute(f"SELECT state FROM {events}.profiles_events WHERE topic = ANY(%s) "
                        "AND notification_id <= %s", (_DEFINITIONS, head)).fetchall()
    names: set[str] = set()
    for (state,) in rows:
        names |= {name for name, _ in evaluate.activity_rules(orjson.loads(state)["conditions"])}
    return names


def _load(conn: Connection[Any], url: str, view: str, events: str, head: int,
          progress: Callable[[int, int], None] | None, feed: FeedProcess | None) -> tuple[MemoryTables, int]:
    applied = 0
    with ExitStack() as stack:
        def stream(table: str, columns: tuple[str, ...]) -> Callable[[tuple[Any, ...]], None]:
            writer = stack.enter_context(connect(url))
            stack.enter_context(writer.transaction())
            copy = stack.enter_context(frozen_copy(writer, f"{view}.{table}", columns))
            return copy.write_row

        state = MemoryTables(feed=None if feed else stream("activity_feed", activity.COLUMNS),
                             consents=stream("profile_consents", profile.CONSENT_COLUMNS),
                             history=stream("segment_history", segments.HISTORY_COLUMNS),
                             counted=_counted(conn, events, head))
        uncounted = _uncounted(state.counted) if feed else None
        for position, rows in windows(url, events, head, _MAIN_TOPICS if feed else TOPICS):
            if uncounted is None:
                facts = [decode(*row) for row in rows]
            else:
                facts = [decode(*row) for row in rows if row[3] != _ACTIVITY or not uncounted(row[4])]
            _apply(state, facts, view, events)
            applied += len(rows)
            if feed:
                feed.check()
            if progress:
                progress(len(rows), position)
    return state, applied


def _uncounted(counted: set[str]) -> Callable[[bytes], bool]:
    """Whether an activity's stored state surely names no activity a segment counts.

    With the feed in its own process, such an activity changes nothing here (the live
    path evaluates it against no segment and counts it nowhere), so it is not even
    decoded: half of all events. The test is on the raw JSON: a counted name appears in
    it exactly as the store's encoder wrote it (both ``ensure_ascii`` forms are tried); a
    false alarm (the name in a property) only costs a decode."""
    forms = {json.dumps(name, ensure_ascii=ascii_only).encode() for name in counted for ascii_only in (False, True)}
    forms |= {orjson.dumps(name) for name in counted}
    return lambda state: not any(form in state for form in forms)


def _apply(state: MemoryTables, facts: list[Fact], view: str, events: str) -> None:
    """Runs of events, with barriers (definitions, clock ticks) alone, as the live runner."""
    run: list[Fact] = []
    for fact in facts:
        if fact.kind in segments.BARRIERS:
            if run:
                state.apply(Batch(facts=run, view=view, events=events))
                run = []
            state.apply(Batch(facts=[fact], view=view, events=events))
        else:
            run.append(fact)
    if run:
        state.apply(Batch(facts=run, view=view, events=events))


# -- the end: the in-memory tables, then indexes and statistics, two tables at a time --

def _finish(url: str, view: str, events: str, state: MemoryTables, keys: indexes.Keys,
            feed: FeedProcess | None) -> int:
    """Returns how many events only the feed process read (0 without one)."""
    messages = 0
    loads: dict[str, tuple[tuple[str, ...], Callable[[], Any]]] = {
        "profile_contacts": (profile.CONTACT_COLUMNS, state.contact_rows),
        "profile_domains": (("domain", "contacts"), state.domain_rows),
        "profile_templates": (("id", "domain", "channel", "name", "subject", "body", "bodies", "status",
                               "created_at", "updated_at", "position"), state.template_rows),
        "profile_notes": (("note_id", "contact_id", "domain", "author", "created_at", "sealed_text", "position"),
                          state.note_rows),
        "segment_definitions": (("id", "domain", "name", "conditions", "time_relative", "members", "created_at",
                                 "updated_at", "position"), state.definition_rows),
        "segment_members": (("segment_id", "contact_id", "domain", "since"), state.member_rows),
    }

    def finish(table: str) -> None:
        nonlocal messages
        if table == "activity_feed" and feed is not None:  # it may still be writing
            messages = feed.wait()
        started = time.perf_counter()
        with connect(url) as conn:
            conn.execute("SET maintenance_work_mem = '256MB'")
            conn.execute("SET max_parallel_maintenance_workers = 0")  # two tables at a time use the two cores
            if table in loads:
                columns, rows = loads[table]
                with conn.transaction(), frozen_copy(conn, f"{view}.{table}", columns) as copy:
                    for row in rows():
                        copy.write_row(row)
            loaded = time.perf_counter()
            indexes.restore(conn, keys, table)
            indexed = time.perf_counter()
            conn.execute(f"VACUUM (ANALYZE) {view}.{table}")
        log.debug("rebuilt table=%s load_s=%.2f index_s=%.2f vacuum_s=%.2f", table, loaded - started,
                  indexed - loaded, time.perf_counter() - indexed)

    # Largest first, so the two workers end together; the contacts before the feed, which
    # its own process may still be writing.
    order = ["profile_contacts", "activity_feed", "segment_history", "profile_consents", "segment_members",
             *[t for t in tables.TABLES if t not in ("projection_tracking", "activity_feed", "profile_contacts",
                                                     "segment_history", "profile_consents", "segment_members")]]
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="rebuild-finish") as pool:
        futures = [pool.submit(finish, table) for table in order]
        try:
            for done in futures:
                done.result()
        except BaseException:
            pool.shutdown(cancel_futures=True)
            raise
    if state.shredded:  # what the live path does per batch: heal a crash between NoteDeleted and the shred
        with connect(url) as conn:
            conn.execute(f"DELETE FROM {events}.profiles_note_pads WHERE note_id = ANY(%s)", (state.shredded,))
    return messages
