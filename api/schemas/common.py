"""Shapes shared by every resource: problems, pages, positions, bounded JSON values."""

from __future__ import annotations

import math
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema
from pydantic.alias_generators import to_camel

T = TypeVar("T")

# Bounded so a number a client sends always round-trips the event store's JSON.
def _variable_value(value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        if not -(2**63) <= value < 2**63:
            raise ValueError("integers must fit in 64 bits")
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("numbers must be finite")
        return value
    if isinstance(value, str):
        if len(value) > 4096:
            raise ValueError("strings hold at most 4096 characters")
        return value
    raise ValueError("a variable is a string, number, boolean or date (YYYY-MM-DD string)")


# Checked by hand rather than as a union: "123" stays a string, 10**30 and NaN are refused.
VariableValue = Annotated[
    Any,
    AfterValidator(_variable_value),
    WithJsonSchema({"anyOf": [{"type": "string", "maxLength": 4096}, {"type": "number"}, {"type": "boolean"},
                              {"type": "null"}], "examples": ["Tallinn", 42, True, "1990-05-01"]}),
]
Channel = Annotated[str, Field(pattern="^(email|sms|webPush|telegram|viber)$", examples=["email"])]


class Request(BaseModel):
    """A request body: camelCase on the wire, unknown members refused."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid",
                              str_max_length=100_000, ser_json_inf_nan="null")


class Public(BaseModel):
    """A response body: documented members, any further read-model members passed on."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")


class Problem(BaseModel):
    """RFC 9457 problem details with the contract's machine ``code``."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{
        "type": "https://contact-profiles.dev/problems/notes_limit", "title": "A contact has at most five notes",
        "status": 409, "detail": "a contact has at most 5 notes; delete one first", "code": "notes_limit"}]})

    type: str
    title: str
    status: int
    detail: str
    code: str
    instance: str | None = None


class Written(Public):
    position: int = Field(description="Log position of the write; pass as ?minPosition= to read it back")


class Page(Public, Generic[T]):
    """Lists are ``{"items": [...], "nextCursor": "…" | null}``; pass the cursor back to page on."""

    items: list[T]
    next_cursor: str | None = None


def check_finite(value: Any, depth: int = 0) -> Any:
    """JSON a client sends may say NaN, Infinity or 10**400: none of them survives the
    projections' JSONB, so they are refused at the door (raises ValueError)."""
    if depth > 32:
        raise ValueError("nested too deeply")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("numbers must be finite")
    if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63:
        raise ValueError("integers must fit in 64 bits")
    if isinstance(value, dict):
        for item in value.values():
            check_finite(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            check_finite(item, depth + 1)
    return value


FiniteObject = Annotated[dict[str, Any], AfterValidator(check_finite)]
