"""The application's cache of recently used aggregates.

The library's ``LRUCache`` keeps its recency order as a linked list of Python lists,
relinked in Python on every hit; a batch looks up several aggregates per envelope (about
4 % of the write path, bench B1). An ``OrderedDict`` keeps the same order in C, keyed by
each id's integer: ``UUID.__hash__`` is a Python method, an ``int`` hashes in C.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from threading import Lock
from typing import Any
from uuid import UUID

from eventsourcing.application import Cache


class RecentAggregates(Cache[UUID, Any]):
    """``LRUCache``'s contract: ``get`` raises KeyError on a miss and makes a hit the most
    recent (or removes it, with ``evict``); ``put`` returns what it pushed out, if anything."""

    def __init__(self, maxsize: int | None) -> None:  # None: never pushes out
        super().__init__()
        self.cache: OrderedDict[int, Any] = OrderedDict()  # by ``UUID.int``
        self.maxsize = maxsize
        self._lock = Lock()  # a hit is two dict operations; API threads share the cache

    def __contains__(self, key: UUID) -> bool:
        return key.int in self.cache

    def get(self, key: UUID, *, evict: bool = False) -> Any:
        number = key.int
        with self._lock:
            if evict:
                return self.cache.pop(number)
            self.cache.move_to_end(number)
            return self.cache[number]

    def get_all(self, numbers: Iterable[int]) -> dict[int, Any]:
        """The cached ones of ``numbers`` (``UUID.int``s), each made the most recent, as
        ``get`` makes them one by one (a batch's prefetch)."""
        found = {}
        with self._lock:
            cache = self.cache
            for number in numbers:
                aggregate = cache.get(number)
                if aggregate is not None:
                    cache.move_to_end(number)
                    found[number] = aggregate
        return found

    def put(self, key: UUID, value: Any) -> tuple[UUID | None, Any]:
        number = key.int
        with self._lock:
            self.cache[number] = value
            self.cache.move_to_end(number)
            if self.maxsize is not None and len(self.cache) > self.maxsize:
                pushed_out, aggregate = self.cache.popitem(last=False)
                return UUID(int=pushed_out), aggregate
        return None, None

    def put_all(self, aggregates: dict[int, Any]) -> None:
        """``put`` each of ``aggregates``, keyed by ``UUID.int`` (a batch's saved ones), in
        one go, pushing out as many as needed. One already cached as that very object
        (read from here by the batch, which changed it in place) is left where it is."""
        with self._lock:
            cache = self.cache
            for number, aggregate in aggregates.items():
                if cache.get(number) is not aggregate:
                    cache[number] = aggregate
                    cache.move_to_end(number)
            while self.maxsize is not None and len(cache) > self.maxsize:
                cache.popitem(last=False)
