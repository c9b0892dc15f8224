"""The activity feed of a bulk rebuild, streamed by a process of its own.

The feed is a third of a rebuild's Python work and needs nothing from the other
projections but whether a contact exists (created, not yet removed) and its domain, so
a second process reads the log itself and writes the feed while the first applies
profiles and segments: Python work on both cores. Rows are the live path's own
(``entries.entry``)."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson

from projections.activity.entries import entry
from projections.activity.projection import COLUMNS, TOPICS
from projections.events import decode
from projections.logstream import frozen_copy, windows
from projections.runner import connect

_ROOT = Path(__file__).resolve().parents[2]  # where ``projections`` imports from
_JOB = "PROFILES_REBUILD_FEED"


class FeedProcess:
    """Start the feed of positions up to ``head``; ``wait`` for it (raises if it failed),
    or ``stop`` it (its transaction rolls back).

    A fresh interpreter (``python -m projections.activity.bulk``), not ``multiprocessing``:
    the caller has threads and open connections (no fork), and spawn would re-import the
    caller's main module. The arguments, the database URL among them, go through the
    environment, not the command line other users can read."""

    def __init__(self, url: str, view: str, events: str, head: int) -> None:
        job = orjson.dumps({"url": url, "view": view, "events": events, "head": head}).decode()
        self._process = subprocess.Popen(
            [sys.executable, "-m", "projections.activity.bulk"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, cwd=_ROOT, env={**os.environ, _JOB: job})

    def check(self) -> None:
        """Raise now if the process has already failed (the caller need not finish first)."""
        if self._process.poll() not in (None, 0):
            self.wait()

    def wait(self) -> int:
        """The number of messages it read."""
        out, err = self._process.communicate()
        if self._process.returncode != 0:
            detail = err.decode(errors="replace").strip().splitlines()
            raise RuntimeError(f"the feed process failed: {detail[-1] if detail else self._process.returncode}")
        return int(out)

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
        self._process.communicate()


def main() -> int:
    gc.disable()  # nothing cyclic is built; see projections.rebuild
    args = orjson.loads(os.environ[_JOB])
    print(build(args["url"], args["view"], args["events"], int(args["head"])))
    return 0


def build(url: str, view: str, events: str, head: int) -> int:
    """The feed rows of positions up to ``head``, as the live path writes them: an event
    of a contact that does not exist (never created, or removed) has no entry. Returns
    how many messages it read (the events only the feed reads)."""
    domains: dict[str, str] = {}  # existing contact -> its domain
    messages = 0
    with connect(url) as conn, conn.transaction(), frozen_copy(conn, f"{view}.activity_feed", COLUMNS) as copy:
        write = copy.write_row
        for _, rows in windows(url, events, head, TOPICS):
            for row in rows:
                fact = decode(*row)
                kind = fact.kind
                domain: Any = None
                if kind.startswith("Message."):
                    messages += 1
                elif kind.startswith("Contact."):
                    if kind == "Contact.Created":
                        domain = domains[fact.originator_id] = fact.data["domain"]
                    elif kind == "Contact.Removed":
                        domain = domains.pop(fact.originator_id, None)
                    else:
                        domain = domains.get(fact.originator_id)
                feed_row = entry(fact, domain)
                if feed_row is not None:
                    write(feed_row)
    return messages


if __name__ == "__main__":
    sys.exit(main())
