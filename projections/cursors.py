"""Opaque keyset cursors: the sort key of the last item of a page, base64-encoded."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson

from domain.errors import InvalidInput


def encode(*key: Any) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([str(k) for k in key])).decode().rstrip("=")


def decode(cursor: str, *kinds: Callable[[str], Any]) -> list[Any]:
    """The key's values, each read by its kind (``instant``, ``UUID``). A cursor no page
    handed out is refused here as "invalid cursor": left to the query's casts, it was a
    database error, answered as the database being unavailable."""
    try:
        key = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, orjson.JSONDecodeError):
        raise InvalidInput("invalid cursor") from None
    if not isinstance(key, list) or len(key) != len(kinds) or not all(isinstance(k, str) for k in key):
        raise InvalidInput("invalid cursor")
    try:
        return [kind(k) for kind, k in zip(kinds, key, strict=True)]
    except ValueError:
        raise InvalidInput("invalid cursor") from None


def instant(value: str) -> datetime:
    """A cursor's time, as ``iso`` spelt it: with its offset (a naive one would be read in
    the session's time zone)."""
    at = datetime.fromisoformat(value)
    if at.tzinfo is None:
        raise ValueError("a time without its offset")
    return at


def iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()
