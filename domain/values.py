"""Normalising and validating the values a profile holds.

Every identifier is stored in one canonical form so that uniqueness and search work on
whatever spelling a client sends (``" ANN@Example.com "`` and ``ann@example.com`` are one
contact; ``+372 555 12345`` and ``+37255512345`` are one phone).
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from domain.errors import InvalidDomain, InvalidInput

CHANNELS = ("email", "sms", "webPush", "telegram", "viber")
# Channels whose address the person gave themselves by opting in; a marketer may only
# re-subscribe them when such an opt-in happened before (DESIGN §2 rule 1).
OPT_IN_ONLY_CHANNELS = frozenset({"webPush", "telegram", "viber"})
SENDABLE_CHANNELS = frozenset({"email", "sms", "telegram", "viber"})
STATUSES = ("subscribed", "unsubscribed", "none")
BLACKLIST_REASONS = ("manual", "hardBounce", "complaint", "listUnsubscribe")
METHODS = ("api", "kafka", "import", "ui")
IDENTIFIER_KINDS = ("userId", "email", "phoneNumber")
INFO_FIELDS = ("firstName", "lastName", "language", "timezone", "birthday", "avatarLink")
READ_ONLY_FIELDS = frozenset(
    {"id", "domain", "createdAt", "createdMethod", "updatedAt", "updatedMethod", "version",
     "position", "notesCount", "subscriptions"}
)

_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
_VARIABLE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
_ISO_639_1 = frozenset(
    "aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs "
    "cu cv cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha "
    "he hi ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn "
    "ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb "
    "nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd "
    "se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw "
    "ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu".split()
)
# The identifiers' longest raw values, wherever they are accepted (envelopes, bodies, searches).
MAX_USER_ID = 256
MAX_EMAIL = 320
MAX_PHONE = 40
MAX_AVATAR = 2048
MAX_NOTE = 2000
MAX_STRING_VALUE = 4096


def domain_slug(value: str) -> str:
    if not isinstance(value, str) or not _is_slug(value):
        raise InvalidDomain(f"domain must match [a-z0-9][a-z0-9-]{{0,62}}, got {value!r}")
    return value


@lru_cache(maxsize=1024)  # checked on every envelope; a store holds a few domains
def _is_slug(value: str) -> bool:
    return _SLUG.fullmatch(value) is not None


def channel(value: str) -> str:
    if value not in CHANNELS:
        raise InvalidInput(f"unknown channel {value!r}; one of {', '.join(CHANNELS)}")
    return value


def email(value: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput("email must be a string")
    try:
        return _email(value.strip().lower())
    except EmailNotValidError as e:
        raise InvalidInput(f"invalid email: {e}") from None


# The everyday address (ASCII dot-atoms, an ordinary public domain) is checked by one
# regular expression: email_validator costs ~30 µs a call, a third of an envelope's
# validation. Anything else — quoted or non-ASCII parts, special-use domains, long
# addresses — goes to email_validator, which stays the authority on what is valid.
_ATOM = r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_PLAIN_EMAIL = re.compile(rf"({_ATOM}(?:\.{_ATOM})*)@((?:{_LABEL}\.)+[a-z]{{2,24}})")
_SPECIAL_USE = frozenset({"arpa", "invalid", "local", "localhost", "onion", "test", "example", "home", "lan", "internal",
                          "intranet", "corp", "private", "localdomain"})


def _plain_email(value: str) -> str | None:
    match = _PLAIN_EMAIL.fullmatch(value)
    if match is None or len(value) > 254 or len(match[1]) > 64:
        return None
    if match[2].rsplit(".", 1)[1] in _SPECIAL_USE or "--" in match[2]:  # "--": IDNA, left to the library
        return None
    return value


@lru_cache(maxsize=65536)
def _email(value: str) -> str:
    # Syntax only: deliverability would need DNS, and upstream systems know better.
    return _plain_email(value) or validate_email(value, check_deliverability=False).normalized.lower()


def phone(value: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput("phoneNumber must be a string")
    return _phone(value.strip())


@lru_cache(maxsize=65536)
def _phone(value: str) -> str:
    try:
        parsed = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        raise InvalidInput("phoneNumber must be in international form, e.g. +37255512345") from None
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidInput("phoneNumber is not a possible number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def user_id(value: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_USER_ID:
        raise InvalidInput(f"userId must be a non-empty string of at most {MAX_USER_ID} chars")
    return value.strip()


NORMALISERS = {"userId": user_id, "email": email, "phoneNumber": phone}


def identifier(kind: str, value: str) -> str:
    return _identifier(kind, value) if isinstance(value, str) else NORMALISERS[kind](value)


@lru_cache(maxsize=65536)  # one per envelope and more; contacts recur (bench B1)
def _identifier(kind: str, value: str) -> str:
    return NORMALISERS[kind](value)


def language(value: str) -> str:
    if not isinstance(value, str) or value.strip().lower() not in _ISO_639_1:
        raise InvalidInput(f"language must be an ISO 639-1 code, got {value!r}")
    return value.strip().lower()


def timezone(value: str) -> str:
    if not isinstance(value, str) or not value or value.startswith(("/", ".")):
        raise InvalidInput(f"timezone must be an IANA name, got {value!r}")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown timezone {value!r}") from None
    return value


EARLIEST_BIRTHDAY = date(1900, 1, 1)


def birthday(value: str | date) -> str:
    try:
        if isinstance(value, datetime):
            raise ValueError  # a moment is not a birthday; a time zone would shift the day
        parsed = value if isinstance(value, date) else date.fromisoformat(str(value))
    except ValueError:
        raise InvalidInput(f"birthday must be a date YYYY-MM-DD, got {value!r}") from None
    if not EARLIEST_BIRTHDAY <= parsed or not _not_future(parsed):
        raise InvalidInput(f"birthday must lie between {EARLIEST_BIRTHDAY} and today")
    return parsed.isoformat()


_latest_today = [EARLIEST_BIRTHDAY]  # the latest ``date.today()`` seen so far


def _not_future(day: date) -> bool:
    """``day <= date.today()``, with one day of slack ("today" differs between time zones).
    The clock is read only for a day after the latest today seen: days move forward, so no
    day up to it can lie in the future. Reading it for every birthday was most of a
    birthday's check (bench B1)."""
    if day <= _latest_today[0]:
        return True
    today = date.today()
    _latest_today[0] = today
    return day <= today + timedelta(days=1)


def avatar_link(value: str) -> str:
    if not isinstance(value, str) or len(value) > MAX_AVATAR:
        raise InvalidInput(f"avatarLink must be an http(s) URL of at most {MAX_AVATAR} chars")
    link = value.strip()
    parts = urlsplit(link)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput("avatarLink must be an http or https URL")
    # A URL holds no spaces or invisible characters (an RTL override can make a link read
    # as another), and an avatar needs no credentials: "https://shop.com@evil.example/"
    # is evil.example's. Spaces in a path are written %20.
    if any(c.isspace() or unicodedata.category(c) in ("Cc", "Cf") for c in link):
        raise InvalidInput("avatarLink must not contain spaces or control characters (write a space as %20)")
    if "@" in parts.netloc:
        raise InvalidInput("avatarLink must not carry a user name or password")
    try:
        parts.port  # noqa: B018 - raises on a port that is no number or out of range
    except ValueError:
        raise InvalidInput("avatarLink has an invalid port") from None
    return link


def short_text(name: str, value: Any, limit: int = 256) -> str:
    if not isinstance(value, str) or len(value) > limit:
        raise InvalidInput(f"{name} must be a string of at most {limit} chars")
    return value.strip()


MAX_TEMPLATE = 100_000


def template_text(name: str, value: Any) -> str:
    """A template's subject or body: kept verbatim (whitespace may matter), bounded."""
    if not isinstance(value, str) or len(value) > MAX_TEMPLATE:
        raise InvalidInput(f"{name} must be a string of at most {MAX_TEMPLATE} chars")
    return value


INFO_NORMALISERS = {
    "firstName": lambda v: short_text("firstName", v),
    "lastName": lambda v: short_text("lastName", v),
    "language": language,
    "timezone": timezone,
    "birthday": birthday,
    "avatarLink": avatar_link,
}


def info_field(name: str, value: Any) -> Any:
    """Normalise one general-info field; ``None`` clears it."""
    if value is None:
        return None
    return INFO_NORMALISERS[name](value)


def variable_name(name: str) -> str:
    if not isinstance(name, str) or not _is_variable_name(name):
        raise InvalidInput(f"variable name must match [A-Za-z][A-Za-z0-9_]{{0,63}}, got {name!r}")
    return name


@lru_cache(maxsize=4096)  # a domain uses a few dozen names, on every upsert (bench B1)
def _is_variable_name(name: str) -> bool:
    return _VARIABLE_NAME.fullmatch(name) is not None


def variable_value(name: str, value: Any) -> str | int | float | bool:
    """Variables hold strings, numbers, booleans or dates; dates are kept as ISO strings."""
    if isinstance(value, str):  # the commonest first
        if len(value) > MAX_STRING_VALUE:
            raise InvalidInput(f"variable {name} is longer than {MAX_STRING_VALUE} chars")
        return value
    if isinstance(value, (bool, int, float)):  # a tuple: `bool | int` builds a union per call
        if isinstance(value, float) and not math.isfinite(value):  # NaN/Infinity are not JSON
            raise InvalidInput(f"variable {name} is not a finite number")
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    raise InvalidInput(f"variable {name} must be a string, number, boolean or date")


MAX_PROPERTY_DEPTH = 8

# PostgreSQL stores no U+0000 in text or jsonb. Accepted into the event log, one such
# character stopped every projection at its event, for every domain; so a JSON text that
# carries one (always as the escape \u0000: JSON allows no raw control character) is
# refused before anything is applied. The escape counts when its backslash is not itself
# escaped (an even run of backslashes before it).
_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
NUL_REFUSAL = "text must not contain the NUL character (\\u0000), which the database cannot store"


def carries_nul(json_text: bytes) -> bool:
    """Whether a JSON text has a string with U+0000 in it."""
    return b"\\u0000" in json_text and _NUL_ESCAPE.search(json_text) is not None


def without_nul(json_text: bytes) -> bytes:
    """The JSON text with each U+0000 in its strings as U+FFFD (the replacement character)."""
    if b"\\u0000" not in json_text:
        return json_text
    return _NUL_ESCAPE.sub(lambda m: m[0][:-6] + b"\\ufffd", json_text)


def json_document(name: str, value: Any, depth: int = 0) -> Any:
    """A free-form JSON value (an activity's ``properties``) that every reader of the event
    log can parse back: finite numbers only (NaN is not JSON: a stored NaN would stop
    every projection at that event) and a bounded nesting."""
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidInput(f"{name} is not a finite number")
    if isinstance(value, (dict, list)):
        if depth >= MAX_PROPERTY_DEPTH:
            raise InvalidInput(f"{name} is nested deeper than {MAX_PROPERTY_DEPTH} levels")
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if isinstance(item, (float, dict, list)):  # nothing else can be wrong: no name built
                json_document(f"{name}.{key}", item, depth + 1)
    return value


def variables(values: dict[str, Any]) -> dict[str, Any]:
    """Validate a variables patch; ``None`` values mean "remove"."""
    if not isinstance(values, dict):
        raise InvalidInput("variables must be an object")
    return {
        variable_name(k): (None if v is None else variable_value(k, v)) for k, v in values.items()
    }


def note_text(text: str) -> str:
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_NOTE:
        raise InvalidInput(f"note text must be 1..{MAX_NOTE} chars")
    return text


def blacklist_reason(value: str) -> str:
    if value not in BLACKLIST_REASONS:
        raise InvalidInput(f"blacklist reason must be one of {', '.join(BLACKLIST_REASONS)}")
    return value


def status(value: str) -> str:
    if value not in STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(STATUSES)}")
    return value
