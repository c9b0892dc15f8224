"""The FastAPI application factory (built by the composition root, never at import)."""

from __future__ import annotations

import importlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, APIRouter

from api import errors, metrics
from api.deps import KeyRing
from api.fast_reads import FastReads
from api.routes import (
    activity,
    blacklist,
    contacts,
    events,
    messages,
    notes,
    ops,
    segments,
    subscriptions,
    templates,
    variables,
)
from domain import values

log = logging.getLogger(__name__)

ROUTERS = (ops, contacts, variables, subscriptions, blacklist, templates, messages, activity, notes, segments, events)
MAX_BODY = 1 << 20  # 1 MiB; a batch of 1 000 events may take more
MAX_EVENTS_BODY = 16 << 20
DESCRIPTION = """Contact profiles of a marketing platform: identifiers, consent per channel, variables,
notes, a 30-day activity feed, segments and one-off sends.

Authenticate with `Authorization: Bearer <key>`. Every write answers `Profiles-Position`;
pass it back as `?minPosition=` on a GET to read your own write. Errors are RFC 9457
problem details with a machine `code`."""


def create_app(container: Any, runtime: Any = None) -> FastAPI:
    app = FastAPI(title="Contact Profiles", version="0.1.0", description=DESCRIPTION,
                  docs_url="/docs", openapi_url="/openapi.json", lifespan=_lifespan)
    app.state.async_reads = None
    app.state.container = container
    app.state.runtime = runtime
    app.state.keys = KeyRing(container.settings.key_map())
    if app.state.keys.open:
        log.warning("PROFILES_API_KEYS is not set: the API is open to anyone who can reach it")

    errors.install(app)
    for module in ROUTERS:
        app.include_router(module.router)
    # Innermost: the hottest reads' plain form skips routing and dependency solving.
    app.add_middleware(FastReads, app_state=app.state, routes={
        "contact": _route(contacts.router, contacts.read_contact),
        "search": _route(contacts.router, contacts.find_contacts)})
    app.add_middleware(BodyLimit)
    app.add_middleware(metrics.Observe, latency=metrics.install(container))  # outermost: times everything
    _include_page(app)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Opens the read model's asyncio twin on the server's event loop for the hottest
    reads (``api.deps.get_profile_reads``); without it they take the threadpool."""
    read_model = getattr(app.state.container, "read_model", None)
    twin = read_model.async_twin() if hasattr(read_model, "async_twin") else None
    if twin is not None:
        await twin.open()
        app.state.async_reads = (read_model, twin)
    try:
        yield
    finally:
        app.state.async_reads = None
        if twin is not None:
            await twin.close()


def _route(router: APIRouter, endpoint: Any) -> APIRoute:
    return next(r for r in router.routes if isinstance(r, APIRoute) and r.endpoint is endpoint)


def _include_page(app: FastAPI) -> None:
    # The profile page is another area's module; the API stands without it.
    try:
        page = importlib.import_module("api.page")
    except ModuleNotFoundError as e:
        if e.name != "api.page":
            raise
        return
    app.include_router(page.router)


class BodyLimit:
    """Refuses a body larger than its route may take (pure ASGI): by its Content-Length
    before it is read, or, sent chunked without one, as soon as it grows past the limit.
    A body within the limit is read here and handed on whole, after one more check: no
    string in it may carry U+0000 (``values.carries_nul``: the database cannot store it)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
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
                if values.carries_nul(body):
                    await errors.problem(422, "validation_error", "Invalid input", values.NUL_REFUSAL,
                                         scope["path"])(scope, receive, send)
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


def _openapi(app: FastAPI) -> dict[str, Any]:
    """Refusals are documented as ``application/problem+json``, as they are sent."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    schema["components"].setdefault("securitySchemes", {})["bearer"] = {"type": "http", "scheme": "bearer"}
    for path, item in schema.get("paths", {}).items():
        for operation in item.values():
            if path.startswith("/v1/"):
                operation["security"] = [{"bearer": []}]
            for code, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if code[0] in "45" and "application/json" in content and path != "/readyz":
                    content[errors.MEDIA_TYPE] = content.pop("application/json")
            if "204" in operation.get("responses", {}):
                operation["responses"]["204"].pop("content", None)
    app.openapi_schema = schema
    return schema
