"""The quota, shared by every replica: a token bucket in one PostgreSQL row."""
from __future__ import annotations

import asyncio
import datetime as dt
import time
from dataclasses import dataclass

import sqlalchemy as sa

from metro.collection import repository
from metro.collection.days import PARIS
from metro.db import Database


class DailyQuotaReached(Exception):
    """The day's calls are all spent: nothing more until ``until`` (midnight, Europe/Paris)."""

    def __init__(self, name: str, per_day: int, until: dt.datetime, now: dt.datetime):
        super().__init__(f"daily quota of {per_day} calls reached for {name} until {until.isoformat()}")
        self.until = until
        self.retry_after = max(1.0, (until - now).total_seconds())


@dataclass(frozen=True)
class Reservation:
    """What one ``take`` leaves in the bucket's row, and how long the caller waits before calling."""
    tokens: float
    wait: float
    day: dt.date
    day_taken: int
    hour_start: dt.datetime
    hour_taken: int


def reserve(row, now: dt.datetime, n: float = 1.0, given_up: Reservation | None = None) -> Reservation:
    """Pure: reserves ``n`` tokens of ``row`` (a rate_buckets row) at ``now`` (the database's clock), or
    raises DailyQuotaReached. A call counts in the day it is scheduled to reach the DSO, not the day it
    was reserved, so a queue that runs over midnight spends the new day's calls. ``given_up``: the caller's
    earlier slot, which it gives up for this one (woken too late to call): the call was counted in its day and
    hour and is not counted twice (the DSO never saw it)."""
    elapsed = max(0.0, (now - row.updated_at).total_seconds())
    tokens = min(row.capacity, row.tokens + row.rate * elapsed) - n
    wait = -tokens / row.rate if tokens < 0 else 0.0
    day = (now + dt.timedelta(seconds=wait)).astimezone(PARIS).date()
    day_taken = row.day_taken if row.day_start is not None and day <= row.day_start else 0
    if given_up is not None and given_up.day == day:
        day_taken = max(0, day_taken - n)
    if row.per_day is not None and day_taken + n > row.per_day:
        midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), PARIS)
        raise DailyQuotaReached(row.name, row.per_day, midnight.astimezone(dt.UTC), now)
    hour = now.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
    hour_taken = row.hour_taken if row.hour_start >= hour else 0
    if given_up is not None and given_up.hour_start == hour:
        hour_taken = max(0, hour_taken - n)
    return Reservation(tokens=tokens, wait=wait, day=max(day, row.day_start or day), day_taken=int(day_taken + n),
                       hour_start=hour, hour_taken=int(hour_taken + n))


# Calls are scheduled in PostgreSQL when they are reserved, but the DSO counts them when they arrive, and
# what lies between (the sleep's wake-up, the event loop, the HTTP client, the DSO gateway's own queue)
# varies from call to call: a call late by j seconds behind its successors squeezes the calls of 1 + j
# seconds into the DSO's one-second window. The rate keeps room for that spread, C + r (1 + j) <= per
# second, rather than aiming at the quota exactly (the Enedis bench at 20/s saw a 429 every ~230 calls
# with no room). 0.1 s is a tenth of the window: it costs 9 % of the per-second rate, and at 20 calls/s
# with C = 1 a call must be 158 ms late against a later one before the DSO sees a 21st call in a second.
DEFAULT_ARRIVAL_JITTER_S = 0.1


class SpareBucket:
    """A bucket's lower-priority side: ``take`` spends only what the bucket's other callers leave."""

    def __init__(self, bucket: "TokenBucket"):
        self.bucket = bucket

    async def take(self, n: float = 1.0) -> float:
        return await self.bucket.take_spare(n)

    async def penalise(self, seconds: float) -> None:
        await self.bucket.penalise(seconds)

    async def usage(self) -> dict:
        return await self.bucket.usage()


class TokenBucket:
    """A token bucket in one PostgreSQL row, shared by every replica.

    ``take`` reserves tokens in one transaction (the row locked, the refill since the last update added);
    a negative balance is a queue position: the caller sleeps balance / rate and then calls. The DSO counts
    calls in sliding windows, where a bucket of capacity C and rate r lets C + r*T calls through in any T
    seconds, so r is chosen so that both the per-second and the hourly quota hold, with room for the
    arrival jitter j: C + r (1 + j) <= per_second and C + r (3600 + j) <= per_hour. A daily quota is a
    count per calendar day instead (see ``reserve``): spreading it over the hours would slow a first
    collection to a crawl, while counting lets the day's calls go at the per-second pace until they are
    spent.
    """

    def __init__(self, db: Database, table: sa.Table, name: str, *, per_second: float, per_hour: int | None = None,
                 per_day: int | None = None, capacity: float = 1.0,
                 arrival_jitter_s: float = DEFAULT_ARRIVAL_JITTER_S):
        if per_second <= capacity or (per_hour is not None and per_hour <= capacity):
            raise ValueError("quotas must exceed the bucket capacity")
        if per_day is not None and per_day < 1:
            raise ValueError("a daily quota allows one call at least")
        if arrival_jitter_s < 0:
            raise ValueError("the arrival jitter is a duration")
        self.db = db
        self.table = table
        self.name = name
        self.per_second = per_second
        self.per_hour = per_hour
        self.per_day = per_day
        self.capacity = capacity
        self.arrival_jitter_s = arrival_jitter_s
        self.rate = (per_second - capacity) / (1.0 + arrival_jitter_s)
        if per_hour is not None:
            self.rate = min(self.rate, (per_hour - capacity) / (3600.0 + arrival_jitter_s))

    async def ensure(self) -> None:
        quotas = {"capacity": self.capacity, "rate": self.rate, "per_second": self.per_second,
                  "per_hour": self.per_hour, "per_day": self.per_day}
        async with self.db.session() as session, session.begin():
            await repository.upsert_bucket(session, self.table, self.name, quotas)

    async def take(self, n: float = 1.0, given_up: Reservation | None = None) -> float:
        """Takes n tokens, sleeping as long as the quota requires; returns the seconds waited. Raises
        DailyQuotaReached, taking nothing, when the day's quota is spent."""
        async with self.db.session() as session, session.begin():
            found = await repository.lock_bucket(session, self.table, self.name)
            # The wait counts from the database's clock reading: the commit's latency, which varies, is
            # taken off the sleep rather than added to the arrival jitter.
            read_at = time.monotonic()
            if found is not None:
                taken = reserve(found, found.now, n, given_up)
                await repository.spend_bucket(session, self.table, self.name, found.now, taken, n)
        if found is None:
            await self.ensure()
            return await self.take(n, given_up)
        due = read_at + taken.wait
        wait = due - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        # Woken later than the room kept for jitter (a busy event loop): calling now would crowd the calls of
        # the next slots into one DSO window. The slot is given up and a new one taken.
        if time.monotonic() - due > self.arrival_jitter_s:
            return max(wait, 0.0) + await self.take(n, given_up=taken)
        return max(wait, 0.0)

    async def take_spare(self, n: float = 1.0) -> float:
        """Takes n tokens only when no caller is queued for them (the balance covers n now), so that work of a
        lower priority spends what the others leave and never delays them by more than one slot; otherwise
        sleeps until the queue it saw is served and looks again. Returns the seconds waited."""
        waited = 0.0
        while True:
            async with self.db.session() as session, session.begin():
                found = await repository.lock_bucket(session, self.table, self.name)
                if found is None:
                    taken = None
                else:
                    taken = reserve(found, found.now, n)
                    if taken.wait <= 0:
                        await repository.spend_bucket(session, self.table, self.name, found.now, taken, n)
                        return waited
            if found is None:
                await self.ensure()
                continue
            pause = max(taken.wait, 0.01)
            await asyncio.sleep(pause)
            waited += pause

    async def penalise(self, seconds: float) -> None:
        """After a 429 every replica pauses: the bucket owes ``seconds`` of refill before the next call."""
        async with self.db.session() as session, session.begin():
            await repository.penalise_bucket(session, self.table, self.name, seconds)

    async def usage(self) -> dict:
        async with self.db.session() as session:
            row = await repository.bucket(session, self.table, self.name)
        if row is None:
            return {"per_second": self.per_second, "per_hour": self.per_hour, "per_day": self.per_day,
                    "this_hour": 0, "today": 0, "total": 0}
        now = dt.datetime.now(dt.UTC)
        this_hour = row.hour_taken if row.hour_start >= now.replace(minute=0, second=0, microsecond=0) else 0
        today = row.day_taken if row.day_start is not None and row.day_start >= now.astimezone(PARIS).date() else 0
        return {"per_second": row.per_second, "per_hour": row.per_hour, "per_day": row.per_day,
                "rate_used": round(row.rate, 4), "this_hour": this_hour, "today": today, "total": row.taken_total}
