"""Where note texts' keys live, so that deleting a note destroys its text for good.

A note's text is stored in the (append-only) event store only as ciphertext: the text
XOR-ed with a one-time pad of random bytes. The pad is kept in a mutable key table;
deleting the note shreds the pad, after which nothing in the database can yield the
text again (DESIGN §2 rule 5). A one-time pad needs no crypto library and cannot be
brute-forced once the pad is gone.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterable
from typing import Protocol

from domain.errors import IdempotencyKeyReused

KEY_REUSED = "this Idempotency-Key was used for another note; use a new key per note"


def seal(text: str, pad: bytes | None = None) -> tuple[bytes, str]:
    """Return (pad, ciphertext as base64), with a fresh pad or the note's ``pad`` already
    kept: two attempts at one keyed note must not replace each other's pad, else the
    one whose event is stored could no longer be read."""
    plain = text.encode()
    if pad is None:
        pad = secrets.token_bytes(len(plain))
    elif len(pad) != len(plain):
        raise IdempotencyKeyReused(KEY_REUSED)
    return pad, base64.b64encode(bytes(a ^ b for a, b in zip(plain, pad, strict=True))).decode()


def unseal(pad: bytes, sealed: str) -> str:
    cipher = base64.b64decode(sealed)
    return bytes(a ^ b for a, b in zip(cipher, pad, strict=True)).decode()


class NoteVault(Protocol):
    def seal(self, note_id: str, text: str) -> str:
        """Return the ciphertext, with the note's pad if it has one, else with a fresh
        pad stored first."""

    def unseal(self, note_id: str, sealed: str) -> str | None:
        """The text, or None when the pad was shredded."""

    def shred(self, note_ids: Iterable[str]) -> None:
        """Destroy the pads: the texts are gone for good."""


class InMemoryVault:
    def __init__(self) -> None:
        self._pads: dict[str, bytes] = {}

    def seal(self, note_id: str, text: str) -> str:
        pad, sealed = seal(text, self._pads.get(note_id))
        self._pads.setdefault(note_id, pad)
        return sealed

    def unseal(self, note_id: str, sealed: str) -> str | None:
        pad = self._pads.get(note_id)
        return None if pad is None else unseal(pad, sealed)

    def shred(self, note_ids: Iterable[str]) -> None:
        for note_id in note_ids:
            self._pads.pop(note_id, None)
