"""The full event log as NDJSON for analysts, streamed in constant memory.

Each line: ``{"position", "id", "version", "type", "occurredAt", "domain", "data"}``.
Events of an aggregate carry its domain only in their first event, so the domain is
looked up by primary key per row. Note ciphertexts are left out: analysts never need
them and a deleted note's text must not outlive its key anywhere.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import datetime
from typing import IO, Any

import orjson
from psycopg import sql
from tqdm import tqdm

from projections.events import decode
from projections.runner import connect

_DROP = {"sealed_text", "originator_topic"}


def events(database_url: str, schema: str, *, domain: str | None = None, since: datetime | None = None,
           until: datetime | None = None, progress: Any = None) -> Iterator[dict[str, Any]]:
    s = sql.Identifier(schema)
    query = sql.SQL(
        # ``occurred`` filters and is not read back: a year-0 time (1 BC to PostgreSQL) is
        # one no client can load.
        "SELECT notification_id, originator_id, originator_version, topic, state, domain "
        "FROM (SELECT e.notification_id, e.originator_id, e.originator_version, e.topic, e.state, "
        "(SELECT {f_doc} ->> 'domain' FROM {s}.profiles_events f "
        " WHERE f.originator_id = e.originator_id AND f.originator_version = 1) AS domain, "
        "({e_doc} #>> '{{timestamp,_data_}}')::timestamptz AS occurred "
        "FROM {s}.profiles_events e) x "
        "WHERE (%(domain)s::text IS NULL OR domain = %(domain)s) "
        "AND (%(since)s::timestamptz IS NULL OR occurred >= %(since)s) "
        "AND (%(until)s::timestamptz IS NULL OR occurred < %(until)s) "
        "ORDER BY notification_id").format(s=s, f_doc=_document("f"), e_doc=_document("e"))
    with connect(database_url) as conn, conn.transaction(), conn.cursor(name="export_events") as cur:
        cur.itersize = 1000
        cur.execute(query, {"domain": domain, "since": since, "until": until})
        for position, originator_id, version, topic, state, event_domain in cur:
            fact = decode(position, originator_id, version, topic, bytes(state))
            if progress is not None:
                progress(position)
            yield {"position": position, "id": str(originator_id), "version": version, "type": fact.kind,
                   "occurredAt": fact.at, "domain": event_domain,
                   "data": {k: v for k, v in fact.data.items() if k not in _DROP}}


def _document(alias: str) -> sql.Composable:
    """The event's state as jsonb, for the filters. A NUL escape (``\\u0000``), refused on
    the way in but kept by stores written before, would fail the cast and the whole export:
    it is spelt U+FFFD first, as ``decode`` reads it. Replaced as plain text, an escaped
    backslash before ``u0000`` stays valid JSON too (and the domain and time never hold one)."""
    return sql.SQL("replace(convert_from({}.state, 'UTF8'), '\\u0000', '\\ufffd')::jsonb").format(
        sql.Identifier(alias))


def write(database_url: str, schema: str, out: IO[bytes], *, domain: str | None = None,
          since: datetime | None = None, until: datetime | None = None, show_progress: bool = True) -> int:
    with connect(database_url) as conn:
        row = conn.execute(sql.SQL("SELECT coalesce(max(notification_id), 0) FROM {}.profiles_events").format(
            sql.Identifier(schema))).fetchone()
    head = int(row[0]) if row else 0
    count = 0
    with tqdm(total=head, unit="pos", unit_scale=True, file=sys.stderr, disable=not show_progress,
              desc="export", dynamic_ncols=True) as bar:
        def progress(position: int) -> None:
            if position - bar.n >= 1000:
                bar.update(position - bar.n)
        for item in events(database_url, schema, domain=domain, since=since, until=until, progress=progress):
            out.write(orjson.dumps(item, default=str) + b"\n")
            count += 1
        bar.update(head - bar.n)
    return count
