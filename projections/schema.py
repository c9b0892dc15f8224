"""Creating the projections' tables in a schema (the live one, or a fresh one to rebuild
into) and the tracking rows that say how far each projection has read the log."""

from __future__ import annotations

from psycopg import Connection, sql

from projections.activity import tables as activity_tables
from projections.profile import tables as profile_tables
from projections.segments import tables as segment_tables

PROJECTIONS = ("profile", "activity", "segments")
TRACKING_DDL = """
CREATE TABLE IF NOT EXISTS {s}.projection_tracking (
    name text PRIMARY KEY,
    position bigint NOT NULL
);
"""
# Moved together by a rebuild's switch-over, tracking included.
TABLES = ("projection_tracking", *profile_tables.TABLES, *activity_tables.TABLES, *segment_tables.TABLES)

# Parses the date/time strings segment rules compare (variables may hold any text), to
# NULL when not a date; the Python evaluator applies the same pattern. Plain SQL (no
# exception block, no SET clause) so the planner inlines it: a back-fill calls it once per
# contact. The CASE branches run in order, so no cast ever sees an invalid value. Lives in
# the events schema so live and rebuild tables share it.
TIMESTAMP_FUNCTION = r"""
CREATE OR REPLACE FUNCTION {s}.profiles_ts(value text) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
SELECT CASE
    WHEN value !~ '^[1-9][0-9]{{3}}-[0-9]{{2}}-[0-9]{{2}}(T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{{1,6}})?)?(Z|[+-](0[0-9]|1[0-4]):[0-5][0-9])?)?$' THEN NULL
    WHEN substr(value, 6, 2)::int NOT BETWEEN 1 AND 12 THEN NULL
    WHEN substr(value, 9, 2)::int NOT BETWEEN 1 AND extract(day FROM make_date(substr(value, 1, 4)::int,
        substr(value, 6, 2)::int, 1) + interval '1 month' - interval '1 day')::int THEN NULL
    WHEN right(value, 1) = 'Z' OR substr(value, length(value) - 5, 1) IN ('+', '-') THEN value::timestamptz
    ELSE value::timestamp AT TIME ZONE 'UTC'
END
$$;
"""


def _lock(conn: Connection, key: str) -> None:
    conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (key,))


def exists(conn: Connection, view_schema: str, events_schema: str) -> bool:
    row = conn.execute(
        "SELECT (SELECT count(*) FROM pg_tables WHERE schemaname = %s AND tablename = ANY(%s)) = %s "
        "AND to_regprocedure(%s) IS NOT NULL",
        (view_schema, list(TABLES), len(TABLES), f"{sql.Identifier(events_schema).as_string(conn)}.profiles_ts(text)"),
    ).fetchone()
    return bool(row and row[0])


def create(conn: Connection, view_schema: str, events_schema: str) -> None:
    """Create (if missing) every projection table in ``view_schema`` with tracking at 0.

    Touches nothing when they all exist: even ``CREATE INDEX IF NOT EXISTS`` takes a SHARE
    lock on its table, which would queue behind (and deadlock with) a running batch."""
    with conn.transaction():  # the function is replaced every time: its definition may have changed
        _lock(conn, "profiles-projections-ddl")
        conn.execute(TIMESTAMP_FUNCTION.format(s=sql.Identifier(events_schema).as_string(conn)))  # type: ignore[arg-type]
    if exists(conn, view_schema, events_schema):
        return
    with conn.transaction():
        _lock(conn, "profiles-projections-ddl")
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(view_schema)))
        s = sql.Identifier(view_schema).as_string(conn)
        for ddl in (TRACKING_DDL, profile_tables.DDL, activity_tables.DDL, segment_tables.DDL):
            conn.execute(ddl.format(s=s))  # type: ignore[arg-type]
        for name in PROJECTIONS:
            conn.execute(sql.SQL("INSERT INTO {}.projection_tracking (name, position) VALUES (%s, 0) "
                                 "ON CONFLICT (name) DO NOTHING").format(sql.Identifier(view_schema)), (name,))
