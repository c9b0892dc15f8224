"""Identifier claims: uniqueness of userId, email and phone within a domain.

One tiny aggregate per (domain, kind, value) with a deterministic id. A contact and its
claims are saved in one transaction, so of two concurrent creators of the same email
exactly one can write version 1 of the claim; the other gets a conflict, retries and
sees the identifier taken.
"""

from __future__ import annotations

from functools import lru_cache
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.ids import NameIds
from domain.meta import Meta, Recorded, RecordedCreation, created, trigger

_claim_ids = NameIds("https://contact-profiles/identifier-claim")


@lru_cache(maxsize=262_144)  # SHA-1 per lookup was ~10 % of a batch; ids repeat a lot
def claim_id(domain: str, kind: str, value: str) -> UUID:
    return _claim_ids(f"{domain}\x1f{kind}\x1f{value}")


def claim_ids(domain: str, identifiers: dict[str, str]) -> tuple[UUID, ...]:
    """The ids of the claims of ``identifiers`` (kind → normalised value), in their order."""
    return tuple(claim_id(domain, kind, value) for kind, value in identifiers.items())


class IdentifierClaim(Aggregate):
    class Claimed(RecordedCreation):
        domain: str
        kind: str
        value: str
        contact_id: UUID

    def __init__(
        self, domain: str, kind: str, value: str, contact_id: UUID, method: str, actor: str
    ) -> None:
        self.domain = domain
        self.kind = kind
        self.value = value
        self.contact_id: UUID | None = contact_id

    class Reclaimed(Recorded):
        contact_id: UUID

        def apply(self, claim: IdentifierClaim) -> None:  # type: ignore[override]
            claim.contact_id = self.contact_id

    class Released(Recorded):
        def apply(self, claim: IdentifierClaim) -> None:  # type: ignore[override]
            claim.contact_id = None

    @classmethod
    def claim(cls, domain: str, kind: str, value: str, contact_id: UUID, meta: Meta) -> IdentifierClaim:
        return created(cls, cls.Claimed, claim_id(domain, kind, value), meta,
                       domain=domain, kind=kind, value=value, contact_id=contact_id)

    def reclaim(self, contact_id: UUID, meta: Meta) -> None:
        trigger(self, self.Reclaimed, meta, contact_id=contact_id)

    def release(self, meta: Meta) -> None:
        if self.contact_id is not None:
            trigger(self, self.Released, meta)
