"""Liveness, readiness, metrics, and the domains a key may see."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from api import deps
from api.routes import problems
from api.schemas.common import Page
from api.schemas.feed import DomainCount, Readiness

log = logging.getLogger(__name__)
router = APIRouter(tags=["ops"])
MAX_LAG = 10_000


@router.get("/healthz", summary="Liveness")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", response_model=Readiness, summary="Readiness: database and projection lag",
            responses={503: {"model": Readiness, "description": "Database down or a projection lags"}})
def readyz(request: Request) -> JSONResponse:
    """200 when the database answers and every projection is within 10 000 events of the head."""
    container = request.app.state.container
    read_model = getattr(container, "read_model", None)
    try:
        head = container.app.recorder.max_notification_id() or 0
        projections = read_model.positions() if read_model is not None else {}
    except Exception:
        log.warning("readyz: database not reachable")
        return JSONResponse({"position": None, "projections": {}}, status_code=503)
    ready = read_model is not None and all(head - p <= MAX_LAG for p in projections.values())
    return JSONResponse({"position": head, "projections": projections}, status_code=200 if ready else 503)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response,
            responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}})
def metrics() -> Response:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


@router.get("/v1/domains", response_model=Page[DomainCount], responses=problems(),
            summary="Domains this key may see, with contact counts")
def domains(principal: deps.Auth, read_model: deps.AnyReader) -> dict[str, Any]:
    items = read_model.domains(principal.allowed())
    if principal.domain is not None and not any(d.get("domain") == principal.domain for d in items):
        # A key's own domain belongs in the page's drop-down even before its first contact.
        items = [*items, {"domain": principal.domain, "contacts": 0}]
    return {"items": items, "nextCursor": None}
