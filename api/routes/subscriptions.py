"""Consent per channel: change it (with explicit confirmation) and read its audit trail."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Response

from api import deps
from api.routes import PREFIX, problems
from api.schemas.common import Page
from api.schemas.contacts import ContactPublic
from api.schemas.profile_parts import ConsentEntry, SubscriptionUpdate

router = APIRouter(prefix=PREFIX, tags=["subscriptions"], responses=problems(404))
ChannelPath = Annotated[Literal["email", "sms", "webPush", "telegram", "viber"], Path(description="Channel")]


@router.put("/contacts/{contactId}/subscriptions/{channel}", response_model=ContactPublic,
            responses=problems(404, 409, 428), summary="Change a subscription (needs confirm: true)")
def change_subscription(contact_id: deps.ContactId, channel: ChannelPath, body: SubscriptionUpdate,
                        domain: deps.Domain, app: deps.App, meta: deps.Provenance, read_model: deps.WriteReader,
                        response: Response) -> dict[str, Any]:
    """428 `confirmation_required` unless `confirm` is true; webPush, telegram and viber are
    re-subscribed only after the person subscribed before (409 `no_prior_subscription`);
    a blacklisted channel is refused (409 `blacklisted`); no address, 409 `no_address`."""
    contact, position = app.change_subscription(
        domain, contact_id, channel, body.status, meta, confirmed=body.confirm is True,
        address=body.address, reason=body.reason,
    )
    deps.written(response, position)
    return deps.contact_after_write(read_model, domain, contact.id, position)


@router.get("/contacts/{contactId}/subscriptions/{channel}/history", response_model=Page[ConsentEntry],
            summary="Consent audit trail of a channel, oldest first")
def subscription_history(contact_id: deps.ContactId, channel: ChannelPath, domain: deps.Domain,
                         read_model: deps.ProfileReader) -> dict[str, Any]:
    deps.existing_contact(read_model, domain, contact_id)
    return {"items": read_model.subscription_history(domain, contact_id, channel), "nextCursor": None}
