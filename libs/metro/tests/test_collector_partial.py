"""A DSO that answers a period in part: the Collector commits the good days, asks the failing sub-period
again on its own, records what keeps failing as a gap with its reason, and fills it once the DSO serves it.
Against the real PostgreSQL, with a fake DSO on the far side."""
from __future__ import annotations

import datetime as dt
import os
import uuid
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from devstack.db import scratch_database
from metro.collection import (PARIS, Answer, CollectionStore, Collector, Range, clear_gaps, collected_ranges_table,
                              cursors_table, cycles_table, ended_consents_table, gaps_table, raw_payloads_table,
                              record_gap, served_ranges)
from metro.db import Database, make_metadata
from metro.dso import Capabilities, Transient

SLOT = int(os.environ.get("METRO_TEST_SLOT", "0"))
DATABASE = f"metroenergies_partial_{SLOT}"
D = dt.date
DAY = dt.timedelta(days=1)
metadata = make_metadata("partialtest")
STORE = CollectionStore("fake", cursors=cursors_table(metadata), collected_ranges=collected_ranges_table(metadata),
                        cycles=cycles_table(metadata), raw_payloads=raw_payloads_table(metadata),
                        ended_consents=ended_consents_table(metadata), gaps=gaps_table(metadata))
RETRY_MESSAGE = "Veuillez retenter votre appel sur la période mentionnée ci-dessus."


class FakeDso:
    """Serves every day of any period, except ``failing`` days, answered by one retry line each."""

    def __init__(self):
        self.failing: dict[dt.date, int | None] = {}  # day -> calls still failing (None: always)
        self.asked: list[Range] = []

    def answer(self, period: Range) -> Answer:
        self.asked.append(period)
        readings, retry = [], []
        day = period[0]
        while day < period[1]:
            left = self.failing.get(day, 0)
            if left is None or left > 0:
                if left is not None:
                    self.failing[day] = left - 1
                retry.append(((day, day + DAY), Transient(RETRY_MESSAGE, code="2000100", status=200)))
            else:
                readings.append((day, 1000 + day.toordinal() % 97))
            day += DAY
        if not readings:
            raise retry[0][1]
        return Answer(readings, retry)


class FakeCollector(Collector):
    capabilities = Capabilities(dso="fake", channel="fake", energies=("gas",), granularities=("day",),
                                history_days=90, publication_time=dt.time(0, 0), lag_days_min=1, lag_days_max=1)
    store = STORE
    raw_kind = "days"

    def last_published_day(self, now):
        return now.astimezone(PARIS).date() - DAY

    def history_start(self, cursor, contract, today):
        return today - dt.timedelta(days=60)

    def windows(self, gap, today):
        start, end = gap
        out = []
        while start < end:
            out.append((start, min(end, start + dt.timedelta(days=30))))
            start = out[-1][1]
        return out

    async def fetch_window(self, cursor, window, raw):
        answer = self.client.answer(window)
        raw.append([str(d) for d, _ in answer.readings])
        return answer

    def last_day(self, readings):
        return readings[-1][0] if readings else None

    def readings_events(self, cursor, readings):
        return list(readings)

    async def fetch_contract(self, cursor, stats):
        return None


class Outbox:
    def __init__(self):
        self.days: list[dt.date] = []

    async def add_many(self, session, events):
        self.days += [day for day, _ in events]


class Bucket:
    async def take(self, n: float = 1.0) -> float:
        return 0.0


@pytest.fixture(scope="module")
async def database_url():
    async with scratch_database(DATABASE, metadata) as url:
        yield url


@pytest.fixture
async def meter(database_url):
    db = Database(database_url, pool_size=2)
    settings = SimpleNamespace(transient_attempts=3, retry_base_s=0.001, backoff_base_s=60.0, lease_seconds=60.0,
                               raw_retention_days=1, contract_refresh_days=7, cycle_time=dt.time(12, 0),
                               cycle_jitter_minutes=0)
    rt = SimpleNamespace(db=db, settings=settings, outbox=Outbox())
    dso = FakeDso()
    collector = FakeCollector(rt, dso, Bucket(), "replica-1")
    meter_id = uuid.uuid4()
    async with db.session() as session, session.begin():
        await session.execute(sa.insert(STORE.cursors).values(
            meter_id=meter_id, consent_id=uuid.uuid4(), identifier="X", contract={},
            contract_checked_at=sa.func.now()))

    async def collect():
        async with db.session() as session, session.begin():
            row = (await session.execute(
                sa.update(STORE.cursors).where(STORE.cursors.c.meter_id == meter_id)
                .values(lease_owner="replica-1", lease_until=sa.func.now() + dt.timedelta(minutes=1))
                .returning(*STORE.cursors.c))).one()
        dso.asked.clear()
        await collector.collect(row)

    async def query(table: sa.Table):
        async with db.session() as session:
            return list(await session.execute(sa.select(table).where(table.c.meter_id == meter_id)))

    yield SimpleNamespace(dso=dso, outbox=rt.outbox, collect=collect, query=query)
    await db.dispose()


def wanted() -> Range:
    today = dt.datetime.now(PARIS).date()
    return today - dt.timedelta(days=60), today


async def test_a_day_that_keeps_failing_is_a_gap_with_its_reason_and_the_rest_is_committed(meter):
    first, end = wanted()
    bad = first + dt.timedelta(days=20)
    meter.dso.failing[bad] = None
    await meter.collect()

    every_day = [first + i * DAY for i in range((end - first).days)]
    assert sorted(meter.outbox.days) == [d for d in every_day if d != bad]
    # Two windows, then the failing day alone, retried in place, and never its window again.
    assert meter.dso.asked.count((bad, bad + DAY)) == 3 and len(meter.dso.asked) == 5
    assert sorted((r.first_day, r.end_day) for r in await meter.query(STORE.collected_ranges)) == [
        (first, bad), (bad + DAY, end)]
    [gap] = await meter.query(STORE.gaps)
    assert (gap.first_day, gap.end_day, gap.code, gap.attempts) == (bad, bad + DAY, "2000100", 1)
    assert RETRY_MESSAGE in gap.reason
    [cursor] = await meter.query(STORE.cursors)
    assert cursor.last_outcome == "ok" and cursor.attempts == 0

    await meter.collect()
    assert meter.dso.asked == [(bad, bad + DAY)] * 3
    [gap] = await meter.query(STORE.gaps)
    assert gap.attempts == 2

    meter.dso.failing.clear()
    await meter.collect()
    assert meter.dso.asked == [(bad, bad + DAY)]
    assert sorted(meter.outbox.days) == every_day
    assert [(r.first_day, r.end_day) for r in await meter.query(STORE.collected_ranges)] == [(first, end)]
    assert await meter.query(STORE.gaps) == []


async def test_a_period_failing_for_one_call_is_filled_in_the_same_collection(meter):
    first, end = wanted()
    for offset in (3, 4, 40):
        meter.dso.failing[first + dt.timedelta(days=offset)] = 1
    await meter.collect()
    assert len(meter.outbox.days) == len(set(meter.outbox.days)) == (end - first).days
    assert await meter.query(STORE.gaps) == []
    assert [(r.first_day, r.end_day) for r in await meter.query(STORE.collected_ranges)] == [(first, end)]


async def test_a_gap_served_in_part_keeps_its_other_days_and_its_count(database_url):
    db = Database(database_url, pool_size=1)
    meter_id, t = uuid.uuid4(), STORE.gaps
    try:
        async with db.session() as session, session.begin():
            await record_gap(session, t, meter_id, (D(2025, 1, 1), D(2025, 1, 4)), "2000100", "2000100 retry")
            await clear_gaps(session, t, meter_id, (D(2025, 1, 2), D(2025, 1, 3)))
            rows = list(await session.execute(sa.select(t).where(t.c.meter_id == meter_id).order_by(t.c.first_day)))
            assert [(r.first_day, r.end_day, r.code, r.attempts) for r in rows] == [
                (D(2025, 1, 1), D(2025, 1, 2), "2000100", 1), (D(2025, 1, 3), D(2025, 1, 4), "2000100", 1)]
            await record_gap(session, t, meter_id, (D(2025, 1, 1), D(2025, 1, 4)), "2000000", "2000000 again")
            rows = list(await session.execute(sa.select(t).where(t.c.meter_id == meter_id)))
            assert [(r.first_day, r.end_day, r.code, r.attempts) for r in rows] == [
                (D(2025, 1, 1), D(2025, 1, 4), "2000000", 2)]
    finally:
        await db.dispose()


def test_served_ranges_leave_out_the_days_to_ask_again_and_the_late_days_not_returned():
    period = (D(2024, 6, 1), D(2024, 6, 11))
    retry = [(D(2024, 6, 3), D(2024, 6, 4)), (D(2024, 6, 4), D(2024, 6, 5))]
    assert served_ranges(period, retry, D(2024, 6, 10), late_from=D(2024, 7, 1)) == [
        (D(2024, 6, 1), D(2024, 6, 3)), (D(2024, 6, 5), D(2024, 6, 11))]
    # Days GRDF may still publish count only up to the last one returned.
    assert served_ranges(period, retry, D(2024, 6, 8), late_from=D(2024, 6, 7)) == [
        (D(2024, 6, 1), D(2024, 6, 3)), (D(2024, 6, 5), D(2024, 6, 9))]
    assert served_ranges(period, [period], None, late_from=D(2024, 7, 1)) == []
