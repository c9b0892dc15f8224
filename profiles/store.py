"""The PostgreSQL event store, extended with two small tables the write model needs.

- ``profiles_receipts``: upstream ``eventId``s already applied, written in the same
  transaction as the events they produced, so a redelivered envelope is applied once.
- ``profiles_note_pads``: the one-time pads of live notes (see ``domain.vault``); the
  only mutable table of the write side, because deleting a note must destroy its text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError, ProgrammingError, StoredEvent, Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresProcessRecorder
from eventsourcing.utils import retry
from psycopg import Connection, Cursor
from psycopg.rows import DictRow, tuple_row
from psycopg.sql import SQL, Composable, Identifier

from domain import vault
from profiles import arrays

# The batch look-ups (by a list of ids or receipt keys) must probe the primary key:
# without fresh statistics on a fast-growing table the planner estimated thousands of
# rows per id and chose sequential scans of the whole event and receipt tables (tens of
# ms per batch at 100 000 events, growing with the store), and JIT-compiled them (10 ms
# more). An index probe is right for these queries whatever the statistics say.
_INDEX_ONLY = (b"SET LOCAL enable_seqscan = off", b"SET LOCAL jit = off")


def _rendered(statement: Composable) -> bytes:
    """A statement of the write path as bytes, rendered once: psycopg renders a composed
    statement again at every execute (~28 µs; a write transaction runs six or seven)."""
    return statement.as_bytes(None)


@contextmanager
def _one_round_trip(conn: Connection[DictRow]) -> Iterator[None]:
    """The block's statements in one transaction, sent as one pipeline: the client waits
    for the server once, at the end. A refused statement makes the server skip the rest,
    COMMIT included, and the pool's connection block rolls back as the error leaves it."""
    with conn.pipeline():
        conn.execute(b"BEGIN")
        yield
        conn.execute(b"COMMIT")


class ProfilesRecorder(PostgresProcessRecorder):
    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "profiles_events",
                 tracking_table_name: str = "profiles_tracking") -> None:
        super().__init__(datastore, events_table_name=events_table_name, tracking_table_name=tracking_table_name)
        schema = Identifier(datastore.schema)
        self.receipts_table = SQL("{}.{}").format(schema, Identifier("profiles_receipts"))
        self.pads_table = SQL("{}.{}").format(schema, Identifier("profiles_note_pads"))
        self.sql_create_statements.extend([
            SQL("CREATE TABLE IF NOT EXISTS {} (key text PRIMARY KEY)").format(self.receipts_table),
            SQL("CREATE TABLE IF NOT EXISTS {} (note_id text PRIMARY KEY, pad bytea NOT NULL)").format(self.pads_table),
        ])
        # Ids go as a binary uuid[] built at once (``profiles.arrays``) when they are UUIDs.
        self._ids: Callable[[list[Any]], Any] = arrays.uuids if datastore.originator_id_type == "uuid" else list
        names = {"schema": schema, "table": Identifier(self.events_table_name),
                 "id_type": Identifier(datastore.originator_id_type)}
        # One array per column, sent in binary and built at once (``profiles.arrays``),
        # where the library's array of composites is dumped as text, row by row, in
        # Python (bench B1: ~2x cheaper per row). Same table, same RETURNING, same errors.
        self.insert_columns_statement = _rendered(SQL(
            "INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state) "
            "SELECT * FROM unnest(%b::{id_type}[], %b::bigint[], %b::text[], %b::bytea[]) "
            "RETURNING notification_id"
        ).format(**names))
        # Look-ups by a list of ids run under `_INDEX_ONLY` (see there).
        self.select_many_statement = _rendered(SQL(
            "SELECT originator_id, originator_version, topic, state FROM {schema}.{table} "
            "WHERE originator_id = ANY(%b::{id_type}[]) ORDER BY originator_id, originator_version"
        ).format(**names))
        # With snapshots (long contact histories, bench B7) a prefetch reads the latest
        # snapshot of each aggregate that has one and only the events after it (a range
        # scan per snapshot), and every event of the others.
        snapshots_table = self.events_table_name.removesuffix("events") + "snapshots"
        snapshots = Identifier(snapshots_table)
        self.snapshots_regclass = f"{datastore.schema}.{snapshots_table}"
        self.select_many_from_snapshots_statement = _rendered(SQL(
            "WITH snap AS (SELECT DISTINCT ON (originator_id) originator_id, originator_version, topic, state "
            "FROM {schema}.{snapshots} WHERE originator_id = ANY(%(ids)b::{id_type}[]) "
            "ORDER BY originator_id, originator_version DESC) "
            "SELECT originator_id, originator_version, topic, state FROM snap UNION ALL "
            "SELECT e.originator_id, e.originator_version, e.topic, e.state FROM snap s CROSS JOIN LATERAL "
            "(SELECT originator_id, originator_version, topic, state FROM {schema}.{table} "
            "WHERE originator_id = s.originator_id AND originator_version > s.originator_version OFFSET 0) e "
            "UNION ALL SELECT originator_id, originator_version, topic, state FROM {schema}.{table} "
            "WHERE originator_id = ANY(%(ids)b::{id_type}[]) AND originator_id NOT IN (SELECT originator_id FROM snap) "
            "ORDER BY originator_id, originator_version"
        ).format(**names, snapshots=snapshots))
        self._has_snapshots = False
        self.max_versions_statement = _rendered(SQL(
            # A subquery per id: max() of a primary-key range, whatever the statistics.
            "SELECT * FROM (SELECT i.id AS originator_id, (SELECT max(originator_version) FROM {schema}.{table} "
            "WHERE originator_id = i.id) AS version FROM unnest(%b::{id_type}[]) AS i(id)) v "
            "WHERE version IS NOT NULL"
        ).format(**names))
        self.select_receipts_statement = _rendered(SQL(
            "SELECT key FROM {} WHERE key = ANY(%b::text[])").format(self.receipts_table))
        self.insert_receipts_statement = _rendered(SQL("INSERT INTO {} (key) SELECT unnest(%b::text[])").format(
            self.receipts_table))
        # The library's, rendered once too.
        self.lock_table_statements = [_rendered(statement) for statement in self.lock_table_statements]
        self.notify_statement = _rendered(SQL("NOTIFY {}").format(Identifier(self.channel_name)))
        # The library's single-row tracking upsert, refusing a position that does not
        # advance by itself: where nothing was advanced, the second INSERT meets the
        # existing row's key, so the server stops the pipeline there (COMMIT included).
        # The library instead reads the upsert's answer mid-pipeline, one more wait for
        # the server in every tracked write.
        tracking = SQL("{}.{}").format(schema, Identifier(self.tracking_table_name))
        self.advance_tracking_statement = _rendered(SQL(
            "WITH advanced AS (INSERT INTO {t} VALUES (%(application_name)s, %(notification_id)s) "
            "ON CONFLICT (application_name) DO UPDATE SET notification_id = %(notification_id)s "
            "WHERE {t}.notification_id < %(notification_id)s RETURNING 1) "
            "INSERT INTO {t} SELECT %(application_name)s, %(notification_id)s WHERE NOT EXISTS (SELECT FROM advanced)"
        ).format(t=tracking))

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)  # as the library's
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        """The library's insert (tracking record, receipts, table lock, events, COMMIT) in
        one round trip. The library waits for the server three times: after the insert, as
        its transaction's nested pipeline ends, and at COMMIT; the table stays locked
        across the last two, while the other writers wait (bench B1, two processes)."""
        with self.datastore.get_connection() as conn:
            with _one_round_trip(conn):
                with conn.cursor() as curs:
                    self._insert_events(curs, stored_events, **kwargs)
                inserted = conn.cursor()
                if stored_events:
                    self._insert_stored_events(inserted, stored_events, **kwargs)
            return self._fetch_ids_after_insert_events(inserted, stored_events, **kwargs) if stored_events else None

    def _insert_stored_events(self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        # The table lock keeps notification ids in commit order (DESIGN §8); NOTIFY wakes
        # live subscribers. Both exactly as the library's insert path does them.
        self._lock_table(curs)
        self._notify_channel(curs)
        arrays.use(curs)
        curs.execute(self.insert_columns_statement, (
            self._ids([e.originator_id for e in stored_events]),
            arrays.int8s([e.originator_version for e in stored_events]),
            arrays.texts([e.topic for e in stored_events]),
            arrays.byteas([e.state for e in stored_events]),
        ), prepare=True)

    def _fetch_ids_after_insert_events(self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent],
                                       **kwargs: Any) -> Sequence[int] | None:
        # The library's, with the ids read as tuples: a dict per inserted row was ~1 % of
        # the write path (bench B1).
        curs.row_factory = tuple_row  # type: ignore[assignment]
        ids = [row[0] for row in curs.fetchall()]
        if len(ids) != len(stored_events):
            msg = f"Couldn't get all notification IDs (got {len(ids)}, expected {len(stored_events)})"
            raise ProgrammingError(msg)
        return ids

    def _notify_channel(self, curs: Cursor[DictRow]) -> None:
        curs.execute(self.notify_statement)

    def _insert_tracking(self, curs: Cursor[DictRow], tracking: Tracking) -> None:
        if not self.datastore.single_row_tracking:
            super()._insert_tracking(curs, tracking)
            return
        curs.execute(self.advance_tracking_statement, {"application_name": tracking.application_name,
                                                        "notification_id": tracking.notification_id}, prepare=True)

    def _insert_events(self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        super()._insert_events(curs, stored_events, **kwargs)
        receipts = kwargs.get("receipts")
        if receipts:
            # A duplicate key here is a concurrent redelivery: the whole batch conflicts
            # and is retried, when the pre-check finds the receipt and skips it.
            arrays.use(curs)
            curs.execute(self.insert_receipts_statement, (arrays.texts(list(receipts)),), prepare=True)

    def _lookup(self, statement: Any, params: Any) -> list[DictRow]:
        """The rows of a batch look-up by a list (binary arrays, index probes), in one
        round trip: BEGIN, the settings, the query and COMMIT go as one pipeline.

        Committed, though it only reads: at every rollback psycopg forgets the
        connection's prepared statements (it sends DEALLOCATE ALL), so with a rolled-back
        look-up before each batch every statement was parsed and planned again, and each
        look-up took five round trips (bench B1: ~10 % of a batch's wall time)."""
        with self.datastore.get_connection() as conn:
            with _one_round_trip(conn):
                for setting in _INDEX_ONLY:
                    conn.execute(setting)
                curs = conn.cursor()
                arrays.use(curs)
                curs.execute(statement, params, prepare=True)
            return curs.fetchall()

    def select_events_many(self, originator_ids: Sequence[Any]) -> dict[Any, list[StoredEvent]]:
        """The stored events of many aggregates in one round trip (a batch's cache misses).
        Ids with no events are absent from the answer."""
        found: dict[Any, list[StoredEvent]] = {}
        if not originator_ids:
            return found
        ids = self._ids(list(dict.fromkeys(originator_ids)))
        if not self._has_snapshots:
            with self.datastore.get_connection() as conn:
                present = conn.execute("SELECT to_regclass(%s) IS NOT NULL AS present", (self.snapshots_regclass,))
                self._has_snapshots = bool(present.fetchone()["present"])  # type: ignore[index]
        if self._has_snapshots:
            rows = self._lookup(self.select_many_from_snapshots_statement, {"ids": ids})
        else:
            rows = self._lookup(self.select_many_statement, (ids,))
        for row in rows:
            found.setdefault(row["originator_id"], []).append(StoredEvent(
                originator_id=row["originator_id"], originator_version=row["originator_version"],
                topic=row["topic"], state=bytes(row["state"])))
        return found

    def max_versions(self, originator_ids: Sequence[Any]) -> dict[Any, int]:
        """Each aggregate's stored version, in one round trip (a batch's staleness check)."""
        rows = self._lookup(self.max_versions_statement, (self._ids(list(dict.fromkeys(originator_ids))),))
        return {row["originator_id"]: row["version"] for row in rows}

    def forget_tracking(self, application_name: str) -> int:
        """Delete every position stored under ``application_name`` (an operator resetting
        a Kafka partition whose log was recreated); returns how many there were."""
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(SQL("DELETE FROM {}.{} WHERE application_name = %s").format(
                Identifier(self.datastore.schema), Identifier(self.tracking_table_name)), (application_name,))
            return curs.rowcount

    def select_receipts(self, keys: list[str]) -> list[str]:
        return [row["key"] for row in self._lookup(self.select_receipts_statement, (arrays.texts(keys),))]


class PostgresVault:
    """Note pads in PostgreSQL. Shredding deletes the row: a ``pg_dump`` afterwards
    holds only ciphertext that no key can open any more."""

    def __init__(self, recorder: ProfilesRecorder) -> None:
        self._datastore = recorder.datastore
        self._table = recorder.pads_table

    def seal(self, note_id: str, text: str) -> str:
        pad, sealed = vault.seal(text)
        with self._datastore.transaction(commit=True) as curs:
            # Never replaced: another attempt at the same keyed note may have stored its
            # event sealed with the pad already here (see ``vault.seal``).
            curs.execute(SQL("INSERT INTO {} (note_id, pad) VALUES (%s, %s) ON CONFLICT (note_id) DO NOTHING "
                             "RETURNING note_id").format(self._table), (note_id, pad))
            if curs.fetchone() is not None:
                return sealed
            curs.execute(SQL("SELECT pad FROM {} WHERE note_id = %s").format(self._table), (note_id,))
            kept = curs.fetchone()
        if kept is None:  # shredded in between (the note was deleted): a fresh pad will do
            return self.seal(note_id, text)
        return vault.seal(text, bytes(kept["pad"]))[1]

    def unseal(self, note_id: str, sealed: str) -> str | None:
        with self._datastore.transaction(commit=False) as curs:
            curs.execute(SQL("SELECT pad FROM {} WHERE note_id = %s").format(self._table), (note_id,))
            row = curs.fetchone()
        return None if row is None else vault.unseal(bytes(row["pad"]), sealed)

    def shred(self, note_ids: Iterable[str]) -> None:
        ids = list(note_ids)
        if ids:
            with self._datastore.transaction(commit=True) as curs:
                curs.execute(SQL("DELETE FROM {} WHERE note_id = ANY(%s)").format(self._table), (ids,))
