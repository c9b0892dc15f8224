"""The aggregate cache keeps the library LRU cache's contract."""

from __future__ import annotations

from uuid import uuid4

import pytest
from eventsourcing.application import LRUCache

from domain.recent import RecentAggregates


@pytest.mark.parametrize("make", [RecentAggregates, LRUCache])
def test_the_least_recently_used_aggregate_is_pushed_out(make):
    cache = make(2)
    a, b, c = uuid4(), uuid4(), uuid4()
    assert cache
    cache.put(a, "A")
    cache.put(b, "B")
    assert cache.get(a) == "A"  # a is now the most recent
    assert cache.put(c, "C") == (b, "B")
    with pytest.raises(KeyError):
        cache.get(b)
    assert (cache.get(a), cache.get(c)) == ("A", "C")
    cache.put(a, "A2")  # a new value for a cached id: nothing pushed out
    assert cache.get(a) == "A2" and cache.get(c) == "C"
    assert cache.get(c, evict=True) == "C"
    with pytest.raises(KeyError):
        cache.get(c)


def test_it_answers_whether_it_holds_an_id():
    cache = RecentAggregates(2)
    a, b = uuid4(), uuid4()
    cache.put(a, "A")
    assert a in cache and b not in cache
    cache.get(a, evict=True)
    assert a not in cache


def test_a_batch_takes_the_cached_ones_of_many_ids_at_once():
    cache = RecentAggregates(2)
    a, b, c = uuid4(), uuid4(), uuid4()
    cache.put(a, "A")
    cache.put(b, "B")
    assert cache.get_all([a.int, c.int]) == {a.int: "A"}  # c is not cached
    cache.put_all({c.int: "C"})  # a was made the most recent: b is pushed out
    assert b not in cache and cache.get(a) == "A" and cache.get(c) == "C"


def test_the_application_uses_it(memory_app):
    assert isinstance(memory_app.repository.cache, RecentAggregates)
