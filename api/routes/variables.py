"""A contact's custom variables, one at a time."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response, status

from api import deps
from api.routes import PREFIX, problems
from api.schemas.common import Page
from api.schemas.profile_parts import VariablePublic, VariableSet, VariableUpdate

router = APIRouter(prefix=PREFIX, tags=["variables"], responses=problems(404))
NamePath = Annotated[str, Path(max_length=64, examples=["city"])]


@router.get("/contacts/{contactId}/variables", response_model=Page[VariablePublic], summary="List or search variables")
def list_variables(contact_id: deps.ContactId, domain: deps.Domain, read_model: deps.ProfileReader,
                   search: Annotated[str | None, Query(max_length=256)] = None) -> dict[str, Any]:
    """`search` matches the name or the value, case-insensitively."""
    contact = deps.existing_contact(read_model, domain, contact_id)
    needle = (search or "").strip().lower()
    items = [{"name": name, "value": value} for name, value in sorted((contact.get("variables") or {}).items())
             if not needle or needle in name.lower() or needle in str(value).lower()]
    return {"items": items, "nextCursor": None}


@router.put("/contacts/{contactId}/variables/{name}", response_model=VariableSet, summary="Set a variable")
def set_variable(contact_id: deps.ContactId, name: NamePath, body: VariableUpdate, domain: deps.Domain,
                 app: deps.App, meta: deps.Provenance, response: Response) -> dict[str, Any]:
    """The value is a string, number, boolean or date (as `YYYY-MM-DD`); `null` removes it."""
    contact, position = app.set_variables(domain, contact_id, {name: body.value}, meta)
    deps.written(response, position)
    return {"name": name, "value": contact.variables.get(name), "position": position}


@router.delete("/contacts/{contactId}/variables/{name}", status_code=status.HTTP_204_NO_CONTENT,
               summary="Remove a variable")
def delete_variable(contact_id: deps.ContactId, name: NamePath, domain: deps.Domain, app: deps.App,
                    meta: deps.Provenance) -> Response:
    _, position = app.set_variables(domain, contact_id, {name: None}, meta)
    return Response(status_code=204, headers={"Profiles-Position": str(position)})
