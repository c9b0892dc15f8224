"""One router per resource (mounted by ``api.app.ROUTERS``) and what they share."""

from __future__ import annotations

from typing import Any

from api.schemas.common import Problem

PREFIX = "/v1/domains/{domain}"


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the refusals a route may answer (auth, lag and outage on every one)."""
    described = {400: "Bad request", 401: "Missing or unknown API key", 403: "Key of another domain",
                 404: "Not found", 409: "Refused by a domain rule", 413: "Body too large",
                 422: "Invalid input", 428: "Confirmation required",
                 503: "Projection lagging, or the database unavailable (retry after Retry-After)"}
    wanted = sorted({401, 403, 422, 503, *statuses})
    return {s: {"model": Problem, "description": described.get(s, "Problem")} for s in wanted}
