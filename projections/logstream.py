"""The event log for a bulk rebuild: read in windows of positions by a thread one window
ahead of the caller, and tables filled with ``COPY … FREEZE``."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from psycopg import Connection

from projections.runner import connect

WINDOW = 20_000  # log positions per read


def windows(url: str, events: str, head: int, topics: Sequence[str]) -> Iterator[tuple[int, list[tuple[Any, ...]]]]:
    """(window end, rows) in log order, up to ``head``, fetched one window ahead."""
    ahead: queue.Queue[Any] = queue.Queue(maxsize=2)
    stop = threading.Event()

    def put(item: Any) -> None:
        while not stop.is_set():
            try:
                ahead.put(item, timeout=0.2)
                return
            except queue.Full:
                continue

    def fetch() -> None:
        try:
            with connect(url) as conn:
                cur, start = conn.cursor(), 0
                while start < head and not stop.is_set():
                    upper = min(head, start + WINDOW)
                    cur.execute(f"SELECT notification_id, originator_id::text, originator_version, topic, state "
                                f"FROM {events}.profiles_events WHERE notification_id > %s AND notification_id <= %s "
                                "AND topic = ANY(%s) ORDER BY notification_id", (start, upper, list(topics)),
                                binary=True)
                    put((upper, cur.fetchall()))
                    start = upper
            put(None)
        except BaseException as error:  # handed to the consumer, raised there
            put(error)

    thread = threading.Thread(target=fetch, name="rebuild-reader", daemon=True)
    thread.start()
    try:
        while True:
            item = ahead.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join(timeout=10)


def frozen_copy(conn: Connection[Any], table: str, columns: Sequence[str]) -> Any:
    """``COPY … FREEZE`` into a table emptied in the same transaction: rows are written
    frozen, with hint bits and the visibility map set, so neither the first reader nor
    VACUUM has to rewrite every page (the table is fresh: TRUNCATE loses nothing)."""
    conn.execute(f"TRUNCATE {table}")  # type: ignore[arg-type]
    return conn.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FREEZE)")  # type: ignore[arg-type]
