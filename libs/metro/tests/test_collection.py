"""The quota bucket shared by every replica, against the real PostgreSQL: the daily window of a DSO that
counts calls per day (GRDF's ADICT), and the room kept for arrival jitter."""
from __future__ import annotations

import asyncio
import datetime as dt
import os
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from devstack.db import scratch_database
from metro.collection import PARIS, CallFailed, CallStats, DailyQuotaReached, Policy, SpareBucket, TokenBucket, \
    call_dso, rate_buckets_table, reserve
from metro.dso import Outcome
from metro.db import Database, make_metadata

SLOT = int(os.environ.get("METRO_TEST_SLOT", "0"))
DATABASE = f"metroenergies_collection_{SLOT}"
metadata = make_metadata("buckettest")
buckets = rate_buckets_table(metadata)


@pytest.fixture(scope="module")
async def database_url():
    async with scratch_database(DATABASE, metadata) as url:
        yield url


@pytest.fixture
async def replicas(database_url):
    """Two engines, as two replicas of a connector would hold."""
    dbs = [Database(database_url, pool_size=4), Database(database_url, pool_size=4)]
    yield dbs
    for db in dbs:
        await db.dispose()


def paris_today() -> dt.date:
    return dt.datetime.now(PARIS).date()


def next_paris_midnight() -> dt.datetime:
    return dt.datetime.combine(paris_today() + dt.timedelta(days=1), dt.time(0), PARIS)


async def test_the_days_calls_stop_at_the_cap_until_midnight_in_paris(replicas):
    bucket = TokenBucket(replicas[0], buckets, "cap", per_second=1000, per_day=3)
    await bucket.ensure()
    for _ in range(3):
        await bucket.take()
    with pytest.raises(DailyQuotaReached) as spent:
        await bucket.take()
    assert spent.value.until == next_paris_midnight()
    assert 0 < spent.value.retry_after <= 25 * 3600
    usage = await bucket.usage()
    assert usage["today"] == 3 and usage["total"] == 3 and usage["per_day"] == 3


async def test_a_new_paris_day_gives_the_quota_back(replicas):
    bucket = TokenBucket(replicas[0], buckets, "new-day", per_second=1000, per_day=2)
    await bucket.ensure()
    # The database's clock cannot be moved: yesterday's spent quota is written as it would have been left.
    async with replicas[0].session() as session, session.begin():
        await session.execute(sa.update(buckets).where(buckets.c.name == "new-day").values(
            day_start=paris_today() - dt.timedelta(days=1), day_taken=2))
    await bucket.take()
    await bucket.take()
    with pytest.raises(DailyQuotaReached):
        await bucket.take()
    async with replicas[0].session() as session:
        row = (await session.execute(sa.select(buckets).where(buckets.c.name == "new-day"))).one()
    assert (row.day_start, row.day_taken) == (paris_today(), 2)


async def test_replicas_taking_at_once_never_pass_the_daily_quota_together(replicas):
    pair = [TokenBucket(db, buckets, "shared", per_second=1000, per_day=10) for db in replicas]
    await pair[0].ensure()
    results = await asyncio.gather(*(pair[i % 2].take() for i in range(30)), return_exceptions=True)
    assert sum(not isinstance(r, BaseException) for r in results) == 10
    assert all(isinstance(r, DailyQuotaReached) for r in results if isinstance(r, BaseException))
    assert (await pair[1].usage())["today"] == 10


async def test_calls_queued_by_several_replicas_are_spaced_at_the_rate_with_room_for_jitter(replicas):
    pair = [TokenBucket(db, buckets, "spaced", per_second=20, per_hour=1_000_000, arrival_jitter_s=0.1)
            for db in replicas]
    await pair[0].ensure()
    assert pair[0].capacity + pair[0].rate * 1.1 <= 20
    start = asyncio.get_running_loop().time()
    await asyncio.gather(*(pair[i % 2].take() for i in range(12)))
    # One call at once (the capacity), then eleven at 1 / rate each: never faster than the quota allows.
    assert asyncio.get_running_loop().time() - start >= 11 / pair[0].rate - 0.05


def row(**values) -> SimpleNamespace:
    now = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)
    base = dict(name="b", tokens=1.0, capacity=1.0, rate=10.0, updated_at=now, per_day=None, day_start=None,
                day_taken=0, hour_start=now, hour_taken=0)
    return SimpleNamespace(**{**base, **values})


def test_a_call_queued_past_midnight_counts_in_the_next_day():
    before_midnight = dt.datetime(2026, 3, 10, 23, 59, 58, tzinfo=PARIS)
    full = row(tokens=-5.0, rate=1.0, updated_at=before_midnight, per_day=100, day_start=dt.date(2026, 3, 10),
               day_taken=100)
    taken = reserve(full, before_midnight)
    assert taken.wait == pytest.approx(6.0)
    assert (taken.day, taken.day_taken) == (dt.date(2026, 3, 11), 1)


def test_a_slot_given_up_by_a_caller_woken_too_late_is_not_counted_twice():
    # The day's last call was reserved, then its caller woke too late to make it and takes a new slot: the DSO
    # never saw the first, so the day still has it (under load the suite once lost a call of ten this way).
    now = dt.datetime(2026, 3, 10, 12, 0, 30, tzinfo=dt.UTC)
    full = row(tokens=0.0, rate=1.0, per_day=10, day_start=dt.date(2026, 3, 10), day_taken=10, hour_taken=10)
    first = reserve(row(tokens=0.0, rate=1.0, per_day=10, day_start=dt.date(2026, 3, 10), day_taken=9,
                        hour_taken=9), now)
    with pytest.raises(DailyQuotaReached):
        reserve(full, now)
    again = reserve(full, now, given_up=first)
    assert (again.day_taken, again.hour_taken) == (10, 10)


def test_the_day_ends_at_midnight_in_paris_also_when_the_clocks_go_back():
    evening = dt.datetime(2026, 10, 25, 21, 0, tzinfo=dt.UTC)  # 22:00 in Paris, winter time since 03:00
    with pytest.raises(DailyQuotaReached) as spent:
        reserve(row(per_day=5, day_start=dt.date(2026, 10, 25), day_taken=5, updated_at=evening), evening)
    assert spent.value.until == dt.datetime(2026, 10, 25, 23, 0, tzinfo=dt.UTC)
    assert spent.value.retry_after == 7200


def test_the_last_call_of_the_day_passes_and_the_next_is_refused():
    now = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)
    with pytest.raises(DailyQuotaReached):
        reserve(row(per_day=1, day_start=dt.date(2026, 3, 10), day_taken=1), now)
    taken = reserve(row(per_day=2, day_start=dt.date(2026, 3, 10), day_taken=1), now)
    assert taken.tokens == 0.0 and taken.wait == 0.0 and taken.day_taken == 2


async def test_a_spent_day_holds_the_meter_until_midnight_without_calling_the_dso():
    class SpentBucket:
        async def take(self, n: float = 1.0) -> float:
            raise DailyQuotaReached("b", 6000, next_paris_midnight(), dt.datetime.now(dt.UTC))

    async def never():
        raise AssertionError("no call once the day is spent")

    stats = CallStats()
    with pytest.raises(CallFailed) as failed:
        await call_dso("grdf", SpentBucket(), Policy(), stats, never)  # type: ignore[arg-type]
    assert failed.value.error.outcome is Outcome.quota_exceeded and failed.value.error.retry_after > 0
    assert stats.calls == 0


async def _run_takers(buckets_of, seconds: float, daily: int, spare: bool) -> tuple[int, int]:
    """``daily`` callers queued on the bucket for ``seconds``, with a spare taker beside them or not: the calls
    each side got."""
    counts = {"daily": 0, "spare": 0}
    loop = asyncio.get_running_loop()
    stop_at = loop.time() + seconds

    async def taker(bucket, kind, take):
        while loop.time() < stop_at:
            await take(bucket)
            if loop.time() <= stop_at:
                counts[kind] += 1

    tasks = [taker(buckets_of[i % 2], "daily", lambda b: b.take()) for i in range(daily)]
    if spare:
        tasks += [taker(buckets_of[i % 2], "spare", lambda b: SpareBucket(b).take()) for i in range(2)]
    await asyncio.gather(*tasks)
    return counts["daily"], counts["spare"]


async def test_a_backfill_on_the_spare_quota_leaves_the_daily_callers_their_pace(replicas):
    pair = [TokenBucket(db, buckets, "priority", per_second=20, per_hour=1_000_000) for db in replicas]
    await pair[0].ensure()
    alone, _ = await _run_takers(pair, 3.0, daily=4, spare=False)
    print(f"daily callers alone: {alone} calls in 3 s")
    beside, spare_during = await _run_takers(pair, 3.0, daily=4, spare=True)
    # The daily callers keep their pace (measured alone in the same run) and the backfill gets crumbs at most.
    print(f"beside a backfill: {beside} daily, {spare_during} backfill calls")
    assert beside >= 0.9 * alone, (alone, beside, spare_during)
    assert spare_during <= 0.1 * beside
    # Once the daily callers are done, the backfill has the whole quota.
    _, spare_alone = await _run_takers(pair, 2.0, daily=0, spare=True)
    assert spare_alone >= 0.5 * pair[0].rate * 2.0, spare_alone
