"""The contact document of DESIGN §4, evolved event by event.

Every change builds new dicts instead of mutating (copy-on-write at the level that
changed), so a reference to the document after any event stays valid: the segments
projection evaluates each of those states, in order, after the whole batch is applied.
"""

from __future__ import annotations

from typing import Any

from domain.values import CHANNELS, INFO_FIELDS
from projections.events import Fact

_ADDRESS_CHANNEL = {"email": "email", "phoneNumber": "sms"}


# One object shared by every document's untouched channels: documents are only ever
# copied on write (see above), and a rebuild holds a million of them in memory.
_BLANK_SUBSCRIPTION: dict[str, Any] = {"status": "none", "address": None, "blacklisted": False,
                                       "blacklistReason": None, "blacklistedAt": None, "changedAt": None}


def created(fact: Fact) -> dict[str, Any]:
    data = fact.data
    identifiers, info = data["identifiers"], data["info"]
    subscriptions = dict.fromkeys(CHANNELS, _BLANK_SUBSCRIPTION)
    for kind, channel in _ADDRESS_CHANNEL.items():
        if identifiers.get(kind):
            subscriptions[channel] = {**_BLANK_SUBSCRIPTION, "address": identifiers[kind]}
    return {
        "id": str(fact.originator_id),
        "domain": data["domain"],
        "userId": identifiers.get("userId"),
        "email": identifiers.get("email"),
        "phoneNumber": identifiers.get("phoneNumber"),
        **{name: info.get(name) for name in INFO_FIELDS},
        "variables": {k: v for k, v in data["variables"].items() if v is not None},
        "subscriptions": subscriptions,
        "notesCount": 0,
        "createdAt": fact.at,
        "createdMethod": data["method"],
        "updatedAt": fact.at,
        "updatedMethod": data["method"],
        "version": fact.version,
        "position": fact.position,
    }


def _subscription(doc: dict[str, Any], channel: str, **changes: Any) -> dict[str, Any]:
    subscriptions = dict(doc["subscriptions"])
    subscriptions[channel] = {**subscriptions[channel], **changes}
    return subscriptions


def evolve(doc: dict[str, Any], fact: Fact) -> dict[str, Any]:
    """The document after ``fact`` (a ``Contact.*`` event other than Created)."""
    data = fact.data
    new = {**doc, "updatedAt": fact.at, "updatedMethod": data["method"], "version": fact.version,
           "position": fact.position}
    kind = fact.kind
    if kind == "Contact.Updated":
        for ident, value in data["identifiers"].items():
            new[ident] = value
            channel = _ADDRESS_CHANNEL.get(ident)
            if channel:
                new["subscriptions"] = _subscription(new, channel, address=value)
        for name, value in data["info"].items():
            new[name] = value
    elif kind == "Contact.VariablesChanged":
        variables = dict(doc["variables"])
        for name, value in data["variables"].items():
            if value is None:
                variables.pop(name, None)
            else:
                variables[name] = value
        new["variables"] = variables
    elif kind == "Contact.SubscriptionChanged":
        new["subscriptions"] = _subscription(doc, data["channel"], status=data["status"],
                                             address=data["address"], changedAt=fact.at)
    elif kind == "Contact.Blacklisted":
        new["subscriptions"] = _subscription(doc, data["channel"], blacklisted=True,
                                             blacklistReason=data["reason"], blacklistedAt=fact.at)
    elif kind == "Contact.Unblacklisted":
        new["subscriptions"] = _subscription(doc, data["channel"], blacklisted=False,
                                             blacklistReason=None, blacklistedAt=None)
    elif kind == "Contact.NoteAdded":
        new["notesCount"] = doc["notesCount"] + 1
    elif kind == "Contact.NoteDeleted":
        new["notesCount"] = max(0, doc["notesCount"] - 1)
    return new
