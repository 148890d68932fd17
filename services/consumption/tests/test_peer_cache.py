"""The peer statistics cache: past its time an entry is still served while one task computes its successor, so no
request waits for the periodic recomputation over the whole population."""
from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time

from consumption.peers import PeerCache, PeerPeriod

PERIOD = ("electricity", dt.date(2026, 10, 1), dt.date(2026, 11, 1))


class Recomputed:
    """Counts the computations; each one takes `seconds` and yields a period that says which it was."""

    def __init__(self, cache: PeerCache, seconds: float):
        self.cache, self.seconds, self.count = cache, seconds, 0

    async def __call__(self, session, energy, start, end) -> PeerPeriod:
        self.count += 1
        n = self.count
        await asyncio.sleep(self.seconds)
        return PeerPeriod({"computation": n}, time.monotonic() + self.cache.ttl)


class Database:
    @contextlib.asynccontextmanager
    async def session(self):
        yield None


async def test_an_expired_period_is_served_while_one_task_computes_its_successor():
    cache = PeerCache(ttl=60)
    cache.db = Database()
    cache._compute = compute = Recomputed(cache, 0.2)

    first = await cache.get(None, *PERIOD)  # never computed: waited for
    assert first.results == {"computation": 1}
    assert await cache.get(None, *PERIOD) is first and compute.count == 1, "within its time: as it is"

    first.expires = time.monotonic() - 1  # its time has passed
    started = time.perf_counter()
    served = await asyncio.gather(*(cache.get(None, *PERIOD) for _ in range(10)))
    assert all(s is first for s in served) and time.perf_counter() - started < 0.1, "nobody waits"
    await asyncio.gather(*cache.refreshing.values())
    assert compute.count == 2, "one recomputation for ten requests"
    assert (await cache.get(None, *PERIOD)).results == {"computation": 2}


async def test_a_failed_refresh_keeps_the_previous_statistics():
    cache = PeerCache(ttl=60)
    cache.db = Database()
    cache._compute = Recomputed(cache, 0)
    first = await cache.get(None, *PERIOD)
    first.expires = time.monotonic() - 1

    async def broken(session, energy, start, end):
        raise ConnectionError("database gone")
    cache._compute = broken
    assert await cache.get(None, *PERIOD) is first
    await asyncio.gather(*cache.refreshing.values())
    assert not cache.refreshing, "the failed refresh is over"
    assert await cache.get(None, *PERIOD) is first, "and the previous statistics are still served"


async def test_an_invalidated_cache_computes_again_before_answering():
    cache = PeerCache(ttl=60)
    cache.db = Database()
    cache._compute = compute = Recomputed(cache, 0)
    await cache.get(None, *PERIOD)
    cache.invalidate()  # e.g. new degree days
    assert (await cache.get(None, *PERIOD)).results == {"computation": 2} and compute.count == 2
