"""A table's indexes and unique/primary-key constraints, taken off for a bulk load and put
back after it exactly as they were defined (names included), from the catalog: the DDL
in each projection's ``tables.py`` stays the one description of its tables."""

from __future__ import annotations

from typing import Any

from psycopg import Connection, sql

Keys = dict[str, list[tuple[str, str]]]  # table -> [(drop statement, create statement)]


def capture(conn: Connection[Any], schema: str, table_names: list[str]) -> Keys:
    keys: Keys = {name: [] for name in table_names}
    s = sql.Identifier(schema).as_string(conn)
    rows = conn.execute(
        "SELECT t.relname, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
        "JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace "
        "WHERE n.nspname = %s AND t.relname = ANY(%s) AND c.contype IN ('p', 'u') ORDER BY c.contype, c.conname",
        (schema, table_names)).fetchall()
    for table, name, definition in rows:
        t, c = sql.Identifier(table).as_string(conn), sql.Identifier(name).as_string(conn)
        keys[table].append((f"ALTER TABLE {s}.{t} DROP CONSTRAINT {c}", f"ALTER TABLE {s}.{t} ADD CONSTRAINT {c} {definition}"))
    rows = conn.execute(
        "SELECT t.relname, i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
        "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
        "JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = %s AND t.relname = ANY(%s) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) ORDER BY i.relname",
        (schema, table_names)).fetchall()
    for table, name, definition in rows:
        keys[table].append((f"DROP INDEX {s}.{sql.Identifier(name).as_string(conn)}", definition))
    return keys


def drop(conn: Connection[Any], keys: Keys) -> None:
    with conn.transaction():
        for statements in keys.values():
            for drop_statement, _ in reversed(statements):
                conn.execute(drop_statement)  # type: ignore[arg-type]


def restore(conn: Connection[Any], keys: Keys, table: str) -> None:
    for _, create_statement in keys.get(table, []):
        conn.execute(create_statement)  # type: ignore[arg-type]
