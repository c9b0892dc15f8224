"""One-off sends from an approved template."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response, status

from api import deps
from api.routes import PREFIX, problems
from api.schemas.messaging import MessageAccepted, MessageCreate

router = APIRouter(prefix=PREFIX, tags=["messages"], responses=problems(404, 409))


@router.post("/contacts/{contactId}/messages", status_code=status.HTTP_202_ACCEPTED, response_model=MessageAccepted,
             summary="Send a message from an approved template")
def send_message(contact_id: deps.ContactId, body: MessageCreate, domain: deps.Domain, app: deps.App,
                 meta: deps.Provenance, response: Response,
                 idempotency_key: deps.IdempotencyKey = None) -> dict[str, Any]:
    """Checked in this order, first failure wins: 422 `channel_not_sendable`, 422
    `template_channel_mismatch`, 404 `template_not_found` / `contact_not_found`, 409
    `template_not_approved`, 409 `blacklisted`, 409 `not_subscribed`. With an
    `Idempotency-Key`, a retried request sends nothing again."""
    message, position = app.send_message(domain, contact_id, body.channel, body.template_id, meta,
                                         idempotency_key=idempotency_key)
    deps.sent(response, message, meta, position)
    return {"messageId": str(message.id), "position": position}
