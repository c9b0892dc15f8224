"""Query parameters that are arrays, built in PostgreSQL's binary array format at once.

Every batch sends its events, receipts and look-up ids as arrays (one parameter per
column). psycopg dumps a Python list element by element, in Python: ~300-400 ns an
element, about 3 % of the write path (bench B1). Here one ``join`` builds the whole array.

    curs.execute("… unnest(%b::uuid[]) …", (arrays.uuids(ids),))   # after arrays.use(curs)
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from psycopg.abc import AdaptContext
from psycopg.adapt import Dumper
from psycopg.pq import Format

# ndim, has-nulls flag, element type oid, length, lower bound: one dimension, no NULLs.
_HEADER = struct.Struct("!iiiii")
_INT8 = struct.Struct("!iq")  # each element: its length (8), then its value
_LENGTH = struct.Struct("!i")
_UUID_LENGTH = _LENGTH.pack(16)


class _Array:
    """An array already in binary form; its subclass names the element and array types."""

    __slots__ = ("data",)
    element_oid = array_oid = 0

    def __init__(self, elements: list[bytes], count: int) -> None:
        self.data = b"".join([_HEADER.pack(1, 0, self.element_oid, count, 1), *elements])


class UUIDArray(_Array):
    __slots__ = ()
    element_oid, array_oid = 2950, 2951


class Int8Array(_Array):
    __slots__ = ()
    element_oid, array_oid = 20, 1016


class TextArray(_Array):
    __slots__ = ()
    element_oid, array_oid = 25, 1009


class ByteaArray(_Array):
    __slots__ = ()
    element_oid, array_oid = 17, 1001


def uuids(values: Sequence[UUID]) -> UUIDArray:
    return UUIDArray([_UUID_LENGTH + v.int.to_bytes(16) for v in values], len(values))


def int8s(values: Sequence[int]) -> Int8Array:
    return Int8Array([_INT8.pack(8, v) for v in values], len(values))


def texts(values: Sequence[str]) -> TextArray:
    return TextArray(_length_prefixed([value.encode() for value in values]), len(values))


def byteas(values: Sequence[bytes]) -> ByteaArray:
    return ByteaArray(_length_prefixed(values), len(values))


def _length_prefixed(values: Sequence[bytes]) -> list[bytes]:
    parts: list[bytes] = []
    for value in values:
        parts.append(_LENGTH.pack(len(value)))
        parts.append(value)
    return parts


class _ArrayDumper(Dumper):
    format = Format.BINARY

    def dump(self, obj: Any) -> bytes:
        return obj.data  # type: ignore[no-any-return]


_DUMPERS: dict[type[_Array], type[Dumper]] = {
    kind: type(f"{kind.__name__}Dumper", (_ArrayDumper,), {"oid": kind.array_oid})
    for kind in (UUIDArray, Int8Array, TextArray, ByteaArray)
}


def use(context: AdaptContext) -> None:
    """Let ``context`` (a cursor, usually: its adapters are its own) send these arrays."""
    for kind, dumper in _DUMPERS.items():
        context.adapters.register_dumper(kind, dumper)
