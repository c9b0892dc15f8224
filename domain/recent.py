"""The application's cache of recently used aggregates.

The library's ``LRUCache`` keeps its recency order as a linked list of Python lists,
relinked in Python on every hit; a batch looks up several aggregates per envelope (about
4 % of the write path, bench B1). An ``OrderedDict`` keeps the same order in C.
"""

from __future__ import annotations

from collections import OrderedDict
from threading import Lock
from typing import Any
from uuid import UUID

from eventsourcing.application import Cache


class RecentAggregates(Cache[UUID, Any]):
    """``LRUCache``'s contract: ``get`` raises KeyError on a miss and makes a hit the most
    recent (or removes it, with ``evict``); ``put`` returns what it pushed out, if anything."""

    def __init__(self, maxsize: int) -> None:
        super().__init__()
        self.cache: OrderedDict[UUID, Any] = OrderedDict()
        self.maxsize = maxsize
        self._lock = Lock()  # a hit is two dict operations; API threads share the cache

    def get(self, key: UUID, *, evict: bool = False) -> Any:
        with self._lock:
            if evict:
                return self.cache.pop(key)
            self.cache.move_to_end(key)
            return self.cache[key]

    def put(self, key: UUID, value: Any) -> tuple[UUID | None, Any]:
        with self._lock:
            self.cache[key] = value
            self.cache.move_to_end(key)
            if len(self.cache) > self.maxsize:
                return self.cache.popitem(last=False)
        return None, None
