"""Bulk writes: rows go to PostgreSQL with COPY, the fastest path psycopg has."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from psycopg import Cursor


def copy_rows(cur: Cursor[Any], table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def temp_table(cur: Cursor[Any], name: str, like: str) -> str:
    """A per-connection staging table emptied at each commit."""
    cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS {name} (LIKE {like}) ON COMMIT DELETE ROWS")
    return name
