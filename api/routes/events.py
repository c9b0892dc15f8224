"""``POST /events``: the Kafka envelope over HTTP, for clients without Kafka."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response, status

from api import deps
from api.routes import PREFIX, problems
from api.schemas.common import check_finite
from api.schemas.feed import EventBatch, EventsAccepted
from domain import ingest
from domain.errors import DomainError, InvalidDomain
from domain.meta import Meta

router = APIRouter(prefix=PREFIX, tags=["events"], responses=problems())


@router.post("/events", status_code=status.HTTP_202_ACCEPTED, response_model=EventsAccepted,
             summary="Apply a batch of contact events (≤ 1000)")
def post_events(body: EventBatch, domain: deps.Domain, app: deps.App, meta: deps.Provenance,
                response: Response) -> dict[str, Any]:
    """Each envelope is validated on its own exactly as the Kafka consumer does; the valid
    ones are applied together in one transaction, the others reported by index with the
    consumer's DLQ code. An `eventId` applied before is accepted and does nothing."""
    rejected: list[dict[str, Any]] = []
    valid: list[tuple[int, ingest.Envelope]] = []
    for index, raw in enumerate(body.events):
        try:
            valid.append((index, ingest.parse(_scoped(raw, domain))))
        except DomainError as error:
            rejected.append({"index": index, "code": error.code, "message": error.detail})
    accepted = 0
    if valid:
        result = app.ingest([e for _, e in valid],
                            lambda e: Meta(method="api", actor=meta.actor).at(e.occurredAt))
        for (index, _), outcome in zip(valid, result.results, strict=True):
            if isinstance(outcome, DomainError):
                rejected.append({"index": index, "code": outcome.code, "message": outcome.detail})
            else:
                accepted += 1
        position = result.position or 0
    else:
        position = app.recorder.max_notification_id() or 0
    deps.written(response, position)
    rejected.sort(key=lambda r: r["index"])
    return {"accepted": accepted, "rejected": rejected, "position": position}


def _scoped(raw: Any, domain: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ingest.errors.InvalidInput("an event is a JSON object")
    if "domain" in raw and raw["domain"] != domain:
        raise InvalidDomain("the domain comes from the path; leave it out of the event")
    try:
        check_finite(raw)
    except ValueError as e:
        raise ingest.errors.InvalidInput(str(e)) from None
    return {**raw, "domain": domain}
