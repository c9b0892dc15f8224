"""The event store's JSON transcoder, written by orjson.

It stores exactly what the library's ``JSONTranscoder`` stores — plain JSON, with each
UUID, datetime or Decimal as a ``{"_type_": …, "_data_": …}`` object — so events written
by either read back the same through either. Encoding every new event and snapshot with
the standard library's encoder, calling back into Python for each UUID and datetime, was
about a tenth of the write path (bench B1).
"""

from __future__ import annotations

import math
from typing import Any

import orjson
from eventsourcing.persistence import JSONTranscoder

_PLAIN = (str, int, bool, type(None))


class _Unplain(Exception):
    """A value orjson would write differently (NaN, a subclass): the library's encoder writes it."""


class Transcoder(JSONTranscoder):
    def encode(self, obj: Any) -> bytes:
        try:
            return orjson.dumps(self._plain(obj))
        except (_Unplain, orjson.JSONEncodeError):
            # Integers beyond 64 bits, NaN, dict keys that are not strings, str or int
            # subclasses …: the standard library's encoder writes (or refuses) those.
            return super().encode(obj)

    def _plain(self, value: Any) -> Any:
        """``value`` with every UUID, datetime … turned into its ``_type_`` object, as the
        library's encoder would on meeting it; containers without any are not copied."""
        kind = type(value)
        if kind in _PLAIN:
            return value
        if kind is dict:
            copy = None
            for key, item in value.items():
                if type(item) in _PLAIN:
                    continue
                plain = self._plain(item)
                if plain is not item:
                    if copy is None:
                        copy = dict(value)
                    copy[key] = plain
            return value if copy is None else copy
        if kind is list or kind is tuple:
            return [self._plain(item) for item in value]
        if kind is float:
            if not math.isfinite(value):
                raise _Unplain  # the library writes NaN/Infinity; orjson would write null
            return value
        if isinstance(value, (str, int, float, dict, list, tuple)):
            raise _Unplain  # a subclass: the standard library writes it as its base type
        # A UUID, a datetime … as its registered transcoding, or the library's refusal.
        return self._encode_obj(value)
