"""Bulk writes: rows go to PostgreSQL with COPY, the fastest path psycopg has."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from psycopg import Connection, Cursor


def copy_rows(cur: Cursor[Any], table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def create_staging(conn: Connection[Any], view: str) -> None:
    """Per-connection staging tables, emptied at each commit. Created once, outside any
    batch transaction, so a rolled-back batch cannot take them away."""
    conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS {STAGING_CONTACTS} (LIKE {view}.profile_contacts) "
                 "ON COMMIT DELETE ROWS")


STAGING_CONTACTS = "staging_profile_contacts"
