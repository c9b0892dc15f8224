"""Rebuild every projection from position 0 into fresh tables, then switch reads over.

1. build into schema ``<schema>__rebuild`` with a progress bar, in bulk
   (``projections.rebuild``: state in memory, ``COPY``, indexes after) — or, when the
   contacts' state would not fit in the memory given to it, batch by batch as the live
   runner does (slower, in constant memory);
2. in ONE transaction: hold the live tracking table (live runners pause at their next
   batch; readers go on), bring live and rebuilt tables to the same log position,
   checksum both (unless the live ones were never projected: empty, nothing to
   compare), and swap them by moving tables between schemas (names, indexes and
   constraints move with them, so readers see the new tables at commit);
3. the replaced tables are dropped when the checksums agree, kept in
   ``<schema>__replaced`` for inspection when they do not.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import Connection, errors, sql
from tqdm import tqdm

from projections import schema as tables
from projections.rebuild import rebuild as bulk_rebuild
from projections.runner import Step, connect, maintain

log = logging.getLogger(__name__)
SWITCH_ATTEMPTS = 5
# The bulk rebuild holds every contact's document, memberships and notes in memory:
# about 5 KB per contact (bench B3), with a margin here.
BULK_BYTES_PER_CONTACT = 6_000
CONTACT_CREATED = "domain.contact:Contact.Created"


class ReplayBusy(RuntimeError):
    """Another replay of the same schema is running (it would drop this one's tables)."""


class ReplayStopped(RuntimeError):
    """``stopping`` was set: the half-built tables were dropped, the live ones untouched."""


@dataclass
class ReplayResult:
    events: int
    position: int
    mismatched: list[str] = field(default_factory=list)
    compared: bool = True  # False: the live tables had never been projected


def checksums(conn: Connection[Any], view_schema: str) -> dict[str, tuple[int, str]]:
    """(rows, order-independent sum of row hashes) per projection table."""
    out = {}
    for table in tables.TABLES:
        name = sql.SQL("{}.{}").format(sql.Identifier(view_schema), sql.Identifier(table)).as_string(conn)
        row = conn.execute(f"SELECT count(*), coalesce(sum(hashtextextended(t::text, 0)::numeric), 0)::text "
                           f"FROM {name} AS t").fetchone()
        assert row is not None
        out[table] = (int(row[0]), row[1])
    return out


def _drop(conn: Connection[Any], schema: str) -> None:
    conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def _rebuild_in_batches(conn: Connection[Any], schema: str, rebuild: str, head: int, batch_size: int,
                        progress: Callable[[int, int], None]) -> int:
    """The live runner's path into the fresh tables: constant memory, whatever the store."""
    tables.create(conn, rebuild, schema)
    step = Step(conn, rebuild, schema)
    applied = _catch_up(step, head, batch_size, progress)
    maintain(conn, step.view)
    return applied


def _catch_up(step: Step, target: int, batch_size: int, progress: Callable[[int, int], None] | None = None) -> int:
    applied = 0
    while step.position() < target:
        n, position = step.run(batch_size, target)
        applied += n
        if progress is not None:
            progress(applied, position)
    return applied


def _switch(conn: Connection[Any], schema: str, rebuild: str, replaced: str, live: Step, step: Step,
            batch_size: int) -> tuple[int, list[str], int, bool]:
    """One transaction: pause live runners, align both sides, compare, swap."""
    with conn.transaction():
        conn.execute("SET LOCAL lock_timeout = '5s'")
        conn.execute(f"LOCK TABLE {live.view}.projection_tracking IN EXCLUSIVE MODE")
        target = max(live.position(), step.position())
        # Live tables never projected (a new deployment, a restored store) are empty:
        # there is nothing to compare, and catching them up here would be the slow
        # batch-by-batch build the bulk one replaces.
        compared = live.position() > 0
        if compared:
            _catch_up(live, target, batch_size)
        caught_up = _catch_up(step, target, batch_size)
        mismatched = []
        if compared:
            before, after = checksums(conn, schema), checksums(conn, rebuild)
            mismatched = [t for t in tables.TABLES if before[t] != after[t]]
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(replaced)))
        for table in tables.TABLES:
            conn.execute(sql.SQL("ALTER TABLE {}.{} SET SCHEMA {}").format(
                sql.Identifier(schema), sql.Identifier(table), sql.Identifier(replaced)))
            conn.execute(sql.SQL("ALTER TABLE {}.{} SET SCHEMA {}").format(
                sql.Identifier(rebuild), sql.Identifier(table), sql.Identifier(schema)))
    return target, mismatched, caught_up, compared


def memory_available() -> int | None:
    """Bytes the machine can give without swapping (Linux), None where unknown."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def bulk_fits(conn: Connection[Any], schema: str, memory_budget: int | None) -> tuple[bool, int]:
    """(whether the bulk rebuild's state fits ``memory_budget`` bytes, contacts counted).
    Without a budget: half of what the machine has available."""
    if memory_budget is None:
        available = memory_available()
        memory_budget = available // 2 if available is not None else None
    contacts = conn.execute(sql.SQL("SELECT count(*) FROM {}.profiles_events WHERE topic = %s").format(
        sql.Identifier(schema)), (CONTACT_CREATED,)).fetchone()[0]
    return memory_budget is None or contacts * BULK_BYTES_PER_CONTACT <= memory_budget, contacts


def try_lock(conn: Connection[Any], schema: str) -> bool:
    """One replay per schema at a time: each starts by dropping ``<schema>__rebuild``,
    which would be another one's work in progress. Held until ``conn`` closes."""
    row = conn.execute("SELECT pg_try_advisory_lock(hashtextextended(%s, 0))", (f"profiles replay {schema}",)).fetchone()
    return bool(row and row[0])


def replay(database_url: str, schema: str, *, batch_size: int = 1000, progress: bool = True,
           memory_budget: int | None = None, stopping: threading.Event | None = None) -> ReplayResult:
    """Raises ``ReplayBusy`` while another replay of ``schema`` runs, and ``ReplayStopped``
    when ``stopping`` is set before the switch-over."""
    rebuild, replaced = f"{schema}__rebuild", f"{schema}__replaced"
    with connect(database_url) as conn:
        if not try_lock(conn, schema):
            raise ReplayBusy(f"another replay of schema {schema} is running")
        _drop(conn, rebuild)
        _drop(conn, replaced)
        tables.create(conn, schema, schema)
        row = conn.execute(sql.SQL("SELECT max(notification_id) FROM {}.profiles_events").format(
            sql.Identifier(schema))).fetchone()
        head = int(row[0] or 0) if row else 0
        in_bulk, contacts = bulk_fits(conn, schema, memory_budget)
        try:
            with tqdm(total=head, unit="pos", unit_scale=True, file=sys.stderr, disable=not progress,
                      desc="replay" if in_bulk else "replay (batch by batch)", dynamic_ncols=True) as bar:
                def advance(applied: int, position: int) -> None:
                    if stopping is not None and stopping.is_set():
                        raise ReplayStopped("replay stopped before the switch-over")
                    bar.update(position - bar.n)

                if in_bulk:
                    events = bulk_rebuild(database_url, schema, rebuild, progress=advance).events
                else:
                    log.warning("replaying batch by batch: the bulk rebuild would hold %d contacts in memory (~%d MB), "
                                "more than it may use", contacts, contacts * BULK_BYTES_PER_CONTACT >> 20)
                    events = _rebuild_in_batches(conn, schema, rebuild, head, batch_size, advance)
        except BaseException:
            with suppress(psycopg.Error):  # the connection may be what failed
                _drop(conn, rebuild)  # nothing half-built stays behind
            raise
        step = Step(conn, rebuild, schema)
        live = Step(conn, schema, schema)
        for attempt in range(SWITCH_ATTEMPTS):
            try:
                target, mismatched, caught_up, compared = _switch(conn, schema, rebuild, replaced, live, step,
                                                                  batch_size)
                events += caught_up
                break
            except errors.LockNotAvailable:
                # A long reader (an export holds its tables for its duration) kept a table:
                # give up the switch rather than stall every reader queued behind it, retry.
                log.warning("switch-over waited too long for a lock; retrying attempt=%d", attempt + 1)
        else:
            raise RuntimeError("could not switch the rebuilt tables in: tables stayed locked by readers")
        _drop(conn, rebuild)
        if not mismatched:
            _drop(conn, replaced)
        else:
            log.warning("rebuilt tables differ from the live ones tables=%s kept_in=%s", mismatched, replaced)
        return ReplayResult(events=events, position=target, mismatched=mismatched, compared=compared)

