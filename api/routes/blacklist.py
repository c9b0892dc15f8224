"""Suppression of a channel: blacklist and un-blacklist."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from api import deps
from api.routes import PREFIX, problems
from api.routes.subscriptions import ChannelPath
from api.schemas.contacts import ContactPublic
from api.schemas.profile_parts import BlacklistRemoval, BlacklistUpdate

router = APIRouter(prefix=PREFIX, tags=["blacklist"], responses=problems(404))


@router.put("/contacts/{contactId}/blacklist/{channel}", response_model=ContactPublic,
            summary="Blacklist a channel")
def blacklist(contact_id: deps.ContactId, channel: ChannelPath, domain: deps.Domain, app: deps.App,
              meta: deps.Provenance, read_model: deps.WriteReader, response: Response,
              body: BlacklistUpdate | None = None) -> dict[str, Any]:
    contact, position = app.blacklist(domain, contact_id, channel, (body or BlacklistUpdate()).reason, meta)
    deps.written(response, position)
    return deps.contact_after_write(read_model, domain, contact.id, position)


@router.delete("/contacts/{contactId}/blacklist/{channel}", status_code=204, summary="Remove from the blacklist")
def unblacklist(contact_id: deps.ContactId, channel: ChannelPath, domain: deps.Domain, app: deps.App,
                meta: deps.Provenance, body: BlacklistRemoval | None = None) -> Response:
    _, position = app.unblacklist(domain, contact_id, channel, body.reason if body else None, meta)
    return Response(status_code=204, headers={"Profiles-Position": str(position)})
