"""Every refusal as RFC 9457 problem details with the contract's ``code`` (DESIGN §4).

Domain errors carry their own ``code``/``status``/``title``, so one handler maps all of
them; the few refusals that belong to HTTP itself (auth, lag, unknown routes) are
``ApiProblem`` subclasses of the same shape. Nothing a client sends may end in a 500:
malformed JSON and validation failures are 422, unknown paths 404, oversize bodies 413.
"""

from __future__ import annotations

import logging
from typing import Any

import eventsourcing.persistence
import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from domain.errors import DomainError

# A lost or refused connection, from psycopg directly (reads) or as the event store's
# library wraps it (writes). A pool timeout is one of psycopg's.
DATABASE_UNAVAILABLE = (psycopg.OperationalError, eventsourcing.persistence.OperationalError)

log = logging.getLogger(__name__)

PROBLEM_TYPE = "https://contact-profiles.dev/problems/"
MEDIA_TYPE = "application/problem+json"


class ApiProblem(DomainError):
    """A refusal made by the HTTP layer rather than the domain."""


class Unauthorized(ApiProblem):
    code = "unauthorized"
    status = 401
    title = "Missing or unknown API key"


class Forbidden(ApiProblem):
    code = "forbidden"
    status = 403
    title = "API key may not access this domain"


class RouteNotFound(ApiProblem):
    code = "not_found"
    status = 404
    title = "Not found"


class ActivityNotFound(ApiProblem):
    code = "activity_not_found"
    status = 404
    title = "Activity entry not found"


class ProjectionLagging(ApiProblem):
    code = "projection_lagging"
    status = 503
    title = "Projections have not reached the requested position"


class ReadModelUnavailable(ApiProblem):
    code = "read_model_unavailable"
    status = 503
    title = "Read model is not available"


class PayloadTooLarge(ApiProblem):
    code = "payload_too_large"
    status = 413
    title = "Request body too large"


def problem(status: int, code: str, title: str, detail: str, instance: str | None = None,
            headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    body = {"type": PROBLEM_TYPE + code, "title": title, "status": status, "detail": detail, "code": code}
    if instance:
        body["instance"] = instance
    body.update({k: v for k, v in extra.items() if k not in body})
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    position = getattr(exc, "position", None)
    if position is not None:
        headers = {**(headers or {}), "Profiles-Position": str(position)}
    return problem(exc.status, exc.code, exc.title, exc.detail, request.url.path, headers, **exc.extra)


def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
        for e in exc.errors()[:20]
    ]
    detail = "; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in errors[:5]) or "invalid request"
    return problem(422, "validation_error", "Invalid input", detail, request.url.path, errors=errors)


def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else "request refused"
    if exc.status_code == 400:  # an unparsable body is invalid input like any other
        return problem(422, "validation_error", "Invalid input", detail, request.url.path)
    codes = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}
    code = codes.get(exc.status_code, "http_error")
    return problem(exc.status_code, code, detail, detail, request.url.path, getattr(exc, "headers", None))


def _recursion(request: Request, exc: Exception) -> JSONResponse:
    # json.loads of a body nested thousands deep raises RecursionError: client input.
    return problem(422, "validation_error", "Invalid input", "request body nests too deeply", request.url.path)


def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    # The database restarted, failed over or dropped this session: not the client's fault
    # and not a bug. The pool discards the broken session, so a retry usually succeeds.
    log.warning("database unavailable error=%s path=%s", type(exc).__name__, _route(request))
    return problem(503, "database_unavailable", "Database unavailable",
                   "the database did not answer, so the request may or may not have taken effect: retry a read "
                   "freely; check before repeating a write", request.url.path, headers={"Retry-After": "1"})


def _route(request: Request) -> str:
    route = request.scope.get("route")
    return route.path if route is not None else "-"


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error path=%s", _route(request))
    return problem(500, "internal_error", "Internal error", "the server failed; the request may be retried",
                   request.url.path)


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RecursionError, _recursion)
    for unavailable in DATABASE_UNAVAILABLE:
        app.add_exception_handler(unavailable, _database_unavailable)
    app.add_exception_handler(Exception, _unexpected)
