"""The Contact List: create, search, read, change and remove contacts."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Response, status

from api import deps
from api.routes import PREFIX, problems
from api.schemas.common import Page
from api.schemas.contacts import AvatarUpdate, ContactCreate, ContactPublic, ContactUpdate
from domain import errors, values

router = APIRouter(prefix=PREFIX, tags=["contacts"], responses=problems(404))


def _writable(sent: dict[str, Any]) -> dict[str, Any]:
    read_only = sorted(set(sent) & values.READ_ONLY_FIELDS)
    if read_only:
        raise errors.ReadOnlyField(f"{', '.join(read_only)} cannot be written", fields=read_only)
    return sent


@router.post("/contacts", status_code=status.HTTP_201_CREATED, response_model=ContactPublic,
             responses=problems(409), summary="Create a contact")
def create_contact(body: ContactCreate, domain: deps.Domain, app: deps.App, meta: deps.Provenance,
                   read_model: deps.WriteReader, response: Response) -> dict[str, Any]:
    """At least one of `userId`, `email`, `phoneNumber`; identifiers are normalised and unique
    in the domain (409 `identifier_taken` names the existing contact in `existingId`)."""
    sent, variables = body.changes()
    fields = {k: v for k, v in _writable(sent).items() if v is not None}
    contact, position = app.create_contact(domain, fields, variables or {}, meta)
    deps.written(response, position)
    return deps.contact_after_write(read_model, domain, contact.id, position)


@router.get("/contacts", response_model=Page[ContactPublic], summary="Search or page the Contact List")
async def find_contacts(
    domain: deps.Domain, reads: deps.AsyncReader,
    email: Annotated[str | None, Query(max_length=values.MAX_EMAIL, examples=["ANN@Example.com "])] = None,
    phone_number: Annotated[str | None, Query(alias="phoneNumber", max_length=values.MAX_PHONE, examples=["+372 555 12345"])] = None,
    user_id: Annotated[str | None, Query(alias="userId", max_length=values.MAX_USER_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
) -> Any:
    """Search by any identifier, written however the client has it (it is normalised the
    same way as on write); without one, page through the Contact List."""
    # async like read_contact: searching by email is the other hot read (bench B4).
    try:
        query = {
            "email": values.email(email) if email else None,
            "phone": values.phone(phone_number) if phone_number else None,
            "user_id": values.user_id(user_id) if user_id else None,
        }
    except errors.InvalidInput:
        return {"items": [], "nextCursor": None}  # no contact can hold an invalid identifier
    with deps.client_cursor():
        items, next_cursor = await reads.find_contacts(domain, limit=limit, cursor=cursor, **query)
    # Documents go out as stored, like read_contact: no second validation of each.
    return Response(orjson.dumps({"items": items, "nextCursor": next_cursor}), media_type="application/json")


@router.get("/contacts/{contactId}", response_model=ContactPublic, summary="Read a profile")
async def read_contact(contact_id: deps.ContactId, domain: deps.Domain, reads: deps.AsyncReader) -> Response:
    # The hottest read (bench B4): awaited on the event loop, no threadpool hop; the
    # projection stores the document in its public shape already, so it is sent as is
    # rather than validated again into ContactPublic.
    document = await reads.contact(domain, contact_id)
    if document is None:
        raise errors.ContactNotFound(f"contact {contact_id} not found")
    return Response(orjson.dumps(document), media_type="application/json")


@router.patch("/contacts/{contactId}", response_model=ContactPublic, responses=problems(404, 409),
              summary="Change general info, identifiers and variables")
def update_contact(contact_id: deps.ContactId, body: ContactUpdate, domain: deps.Domain, app: deps.App,
                   meta: deps.Provenance, read_model: deps.WriteReader, response: Response) -> dict[str, Any]:
    """Members not sent stay as they are; `null` removes a field; `variables` merge
    (`null` removes one). Derived members (`createdAt`, …) are refused: 422 `read_only_field`."""
    sent, variables = body.changes()
    contact, position = app.update_contact(domain, contact_id, _writable(sent), variables, meta)
    deps.written(response, position)
    return deps.contact_after_write(read_model, domain, contact.id, position)


@router.delete("/contacts/{contactId}", status_code=status.HTTP_204_NO_CONTENT,
               summary="Remove from the Default Contact List")
def remove_contact(contact_id: deps.ContactId, domain: deps.Domain, app: deps.App, meta: deps.Provenance) -> Response:
    position = app.remove_contact(domain, contact_id, meta)
    return Response(status_code=204, headers={"Profiles-Position": str(position)})


@router.put("/contacts/{contactId}/avatar", response_model=ContactPublic, summary="Set the avatar link")
def set_avatar(contact_id: deps.ContactId, body: AvatarUpdate, domain: deps.Domain, app: deps.App,
               meta: deps.Provenance, read_model: deps.WriteReader, response: Response) -> dict[str, Any]:
    contact, position = app.set_avatar(domain, contact_id, body.url, meta)
    deps.written(response, position)
    return deps.contact_after_write(read_model, domain, contact.id, position)
