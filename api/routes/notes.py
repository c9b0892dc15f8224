"""Notes on a profile: at most five live ones; deleting one destroys its text for good."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Response, status

from api import deps
from api.routes import PREFIX, problems
from api.schemas.common import Page
from api.schemas.profile_parts import NoteCreate, NotePublic

router = APIRouter(prefix=PREFIX, tags=["notes"], responses=problems(404))


@router.get("/contacts/{contactId}/notes", response_model=Page[NotePublic], summary="Live notes, newest first")
def list_notes(contact_id: deps.ContactId, domain: deps.Domain, read_model: deps.ProfileReader) -> dict[str, Any]:
    deps.existing_contact(read_model, domain, contact_id)
    return {"items": read_model.notes(domain, contact_id), "nextCursor": None}


@router.post("/contacts/{contactId}/notes", status_code=status.HTTP_201_CREATED, response_model=NotePublic,
             responses=problems(404, 409), summary="Add a note (409 notes_limit beyond five)")
def add_note(contact_id: deps.ContactId, body: NoteCreate, domain: deps.Domain, app: deps.App,
             meta: deps.Provenance, read_model: deps.WriteReader, response: Response,
             idempotency_key: deps.NoteIdempotencyKey = None) -> dict[str, Any]:
    """With an `Idempotency-Key`, a retried request adds the note once."""
    author = body.author if body.author and body.author.strip() else meta.actor
    note_id, position = app.add_note(domain, contact_id, body.text, author, meta, idempotency_key)
    deps.written(response, position)
    created = None
    if read_model.wait_for(position, deps.PROFILE, timeout=deps.WAIT_SECONDS):
        created = next((n for n in read_model.notes(domain, contact_id) if n.get("id") == note_id), None)
    created_at = created.get("createdAt") if created else meta.occurred_at.isoformat()
    if datetime.fromisoformat(created_at) != meta.occurred_at:
        # A note is created at its request's time: this is an earlier request's note.
        response.headers["Idempotent-Replayed"] = "true"
    return {"id": note_id, "text": body.text, "author": author.strip(), "createdAt": created_at, "position": position}


@router.delete("/contacts/{contactId}/notes/{noteId}", status_code=status.HTTP_204_NO_CONTENT,
               summary="Delete a note permanently")
def delete_note(contact_id: deps.ContactId, note_id: Annotated[str, Path(alias="noteId", max_length=100)],
                domain: deps.Domain, app: deps.App, meta: deps.Provenance) -> Response:
    position = app.delete_note(domain, contact_id, note_id, meta)
    return Response(status_code=204, headers={"Profiles-Position": str(position)})
