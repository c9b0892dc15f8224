"""The FastAPI application factory (built by the composition root, never at import)."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.openapi.utils import get_openapi

from api import errors, metrics
from api.deps import KeyRing
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
MAX_BODY = 1 << 20  # 1 MiB; a batch of 1 000 events may take more
MAX_EVENTS_BODY = 16 << 20
DESCRIPTION = """Contact profiles of a marketing platform: identifiers, consent per channel, variables,
notes, a 30-day activity feed, segments and one-off sends.

Authenticate with `Authorization: Bearer <key>`. Every write answers `Profiles-Position`;
pass it back as `?minPosition=` on a GET to read your own write. Errors are RFC 9457
problem details with a machine `code`."""


def create_app(container: Any, runtime: Any = None) -> FastAPI:
    app = FastAPI(title="Contact Profiles", version="0.1.0", description=DESCRIPTION,
                  docs_url="/docs", openapi_url="/openapi.json")
    app.state.container = container
    app.state.runtime = runtime
    app.state.keys = KeyRing(container.settings.key_map())
    if app.state.keys.open:
        log.warning("PROFILES_API_KEYS is not set: the API is open to anyone who can reach it")

    errors.install(app)
    app.middleware("http")(_limit_body)
    app.middleware("http")(metrics.middleware(metrics.install(container)))
    for module in ROUTERS:
        app.include_router(module.router)
    _include_page(app)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _include_page(app: FastAPI) -> None:
    # The profile page is another area's module; the API stands without it.
    try:
        page = importlib.import_module("api.page")
    except ModuleNotFoundError as e:
        if e.name != "api.page":
            raise
        return
    app.include_router(page.router)


async def _limit_body(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    limit = MAX_EVENTS_BODY if request.url.path.endswith("/events") else MAX_BODY
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > limit):
        return errors.problem(413, "payload_too_large", "Request body too large",
                              f"the body may be at most {limit} bytes", request.url.path)
    return await call_next(request)


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
