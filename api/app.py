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
from api.inbound import Inbound
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

log = logging.getLogger(__name__)

ROUTERS = (ops, contacts, variables, subscriptions, blacklist, templates, messages, activity, notes, segments, events)
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
    app.add_middleware(Inbound)
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
