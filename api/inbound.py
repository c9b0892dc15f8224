"""What a request must be before any route reads it: a body within its size limit, and
only text the database can hold, in the body and in the query string."""

from __future__ import annotations

import re
from typing import Any

import orjson

from api import errors
from domain import values

MAX_BODY = 1 << 20  # 1 MiB; a batch of 1 000 events may take more
MAX_EVENTS_BODY = 16 << 20
# JSON may spell half of a surrogate pair (\ud800) where it means a character. Python's
# json module, which parses bodies for the routes, takes it into a str that UTF-8 (and so
# the event store) cannot encode: the write failed with a 500. orjson pairs such escapes
# strictly, so it judges a body that has any.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def unstorable(body: bytes) -> str | None:
    """Why the store could not hold the text of this JSON body, or None."""
    if values.carries_nul(body):
        return values.NUL_REFUSAL
    if _SURROGATE_ESCAPE.search(body):
        try:
            orjson.loads(body)
        except orjson.JSONDecodeError as e:
            return f"body is not valid JSON text: {e}"
    return None


class Inbound:
    """Pure ASGI, before any route. Refuses a query string that spells a NUL (``%00``:
    the database cannot take it even as a search term), and a body larger than its route
    may take: by its Content-Length before it is read, or, sent chunked without one, as
    soon as it grows past the limit. A body within the limit is read here, checked for
    text the store cannot hold (``unstorable``) and handed on whole."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            if b"%00" in scope.get("query_string", b""):
                await _invalid(scope, receive, send, values.NUL_REFUSAL)
                return
            limit = MAX_EVENTS_BODY if scope["path"].endswith("/events") else MAX_BODY
            length = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"content-length"), None)
            if length is not None and (not length.isdigit() or int(length) > limit):
                await _too_large(scope, receive, send, limit)
                return
            if scope["method"] in ("POST", "PUT", "PATCH"):
                body = await _read_at_most(receive, limit)
                if body is None:
                    await _too_large(scope, receive, send, limit)
                    return
                problem = unstorable(body)
                if problem is not None:
                    await _invalid(scope, receive, send, problem)
                    return
                receive = _replaying(body, receive)
        await self.app(scope, receive, send)


async def _read_at_most(receive: Any, limit: int) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks)  # the client went away; the app sees an empty body
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replaying(body: bytes, receive: Any) -> Any:
    sent = False

    async def replay() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return await receive()  # after the body: wait for the disconnect, as usual
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


async def _too_large(scope: dict[str, Any], receive: Any, send: Any, limit: int) -> None:
    response = errors.problem(413, "payload_too_large", "Request body too large",
                              f"the body may be at most {limit} bytes", scope["path"])
    await response(scope, receive, send)


async def _invalid(scope: dict[str, Any], receive: Any, send: Any, detail: str) -> None:
    await errors.problem(422, "validation_error", "Invalid input", detail, scope["path"])(scope, receive, send)
