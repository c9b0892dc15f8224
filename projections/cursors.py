"""Opaque keyset cursors: the sort key of the last item of a page, base64-encoded."""

from __future__ import annotations

import base64
from typing import Any

import orjson

from domain.errors import InvalidInput


def encode(*key: Any) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([str(k) for k in key])).decode().rstrip("=")


def decode(cursor: str, size: int) -> list[str]:
    try:
        key = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, orjson.JSONDecodeError):
        raise InvalidInput("invalid cursor") from None
    if not isinstance(key, list) or len(key) != size or not all(isinstance(k, str) for k in key):
        raise InvalidInput("invalid cursor")
    return key


def iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()
