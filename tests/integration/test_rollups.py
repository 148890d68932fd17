"""Issue 24: per-meter monthly rollups kept by the pricing worker. They equal a direct aggregation of the daily
table (and stay equal when priced again), the peer comparison built on them gives the answers the scan of the daily
table gave on a crafted population, and the summary reads the year's earlier months from them while giving the
figures the day-by-day computation gives."""
from __future__ import annotations

import datetime as dt
import random
import uuid

import sqlalchemy as sa

from consumption import euros, peers, repository, summary, totals
from consumption.comparison import compare_homes
from consumption.models import contracts, meters, monthly_rollups, price_queue, profiles, readings
from consumption.comparison import comparison_profile
from consumption.peers import MIN_PEER_COVERAGE, PeerCache

JANUARY = (dt.date(2025, 1, 1), dt.date(2025, 2, 1))


def days(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range((end - start).days)]


async def add_home(session, energy: str, profile: dict | None, values: dict[dt.date, int],
                   estimated: set[dt.date] = frozenset(), contract: tuple | None = None) -> tuple[uuid.UUID, uuid.UUID]:
    meter_id, account_id = uuid.uuid4(), uuid.uuid4()
    await session.execute(sa.insert(meters).values(meter_id=meter_id, account_id=account_id, energy=energy,
                                                   dso="enedis"))
    if profile is not None:
        await session.execute(sa.insert(profiles).values(account_id=account_id, profile=profile))
    if contract is not None:
        option, kva = contract
        await session.execute(sa.insert(contracts).values(meter_id=meter_id, origin="resident", tariff_option=option,
                                                          subscribed_kva=kva))
    if values:
        await session.execute(sa.insert(readings), [
            {"meter_id": meter_id, "day": d, "wh": wh, "source": "test",
             "quality": "estimated" if d in estimated else "measured"} for d, wh in values.items()])
    return meter_id, account_id


async def price(db, meter_ids) -> None:
    """The pricing worker's transaction over these meters (worker.price_pending without the queue)."""
    async with db.session() as session, session.begin():
        months: set = set()
        for meter_id in sorted(meter_ids):
            await euros.price_meter(session, meter_id, months)
        await repository.roll_up(session, months)


DIRECT = sa.text("""
    SELECT date_trunc('month', day)::date AS month, sum(wh) AS wh, count(*) AS present,
           count(*) FILTER (WHERE quality <> 'measured') AS estimated
    FROM consumption.readings WHERE meter_id = :meter GROUP BY 1 ORDER BY 1
""")


async def test_rollups_equal_the_daily_table_and_a_second_pricing_changes_nothing(db):
    rng = random.Random(24)
    span = days(dt.date(2024, 11, 20), dt.date(2025, 3, 5))
    values = {d: rng.randrange(2_000, 30_000) for d in span if d.day != 13}
    async with db.session() as session, session.begin():
        meter_id, _ = await add_home(session, "electricity", None, values, estimated={dt.date(2025, 1, 2)},
                                     contract=("BASE", 6))
    await price(db, [meter_id])
    async with db.session() as session:
        direct = (await session.execute(DIRECT, {"meter": meter_id})).all()
        rolled = (await session.execute(sa.select(monthly_rollups).where(monthly_rollups.c.meter_id == meter_id)
                                        .order_by(monthly_rollups.c.month))).all()
        eur = (await session.execute(sa.text(
            "SELECT date_trunc('month', day)::date, sum(eur) FROM consumption.priced_days WHERE meter_id = :m "
            "GROUP BY 1 ORDER BY 1"), {"m": meter_id})).all()
    assert [(r.month, r.wh, r.days_present, r.days_estimated) for r in rolled] == \
        [(d.month, d.wh, d.present, d.estimated) for d in direct]
    assert [r.eur for r in rolled] == [e[1] for e in eur] and all(r.eur for r in rolled)
    assert [r.days for r in rolled] == [30, 31, 31, 28, 31] and rolled[2].days_estimated == 1
    assert {r.energy for r in rolled} == {"electricity"} and all(r.days_priced == r.days_present for r in rolled)

    # The one-pass rebuild (bulk loads, repairs) writes the same figures as the worker's statement.
    async with db.session() as session, session.begin():
        await repository.rebuild_rollups(session)
    async with db.session() as session:
        rebuilt = (await session.execute(sa.select(monthly_rollups).where(monthly_rollups.c.meter_id == meter_id)
                                         .order_by(monthly_rollups.c.month))).all()
    assert [r[:-1] for r in rebuilt] == [r[:-1] for r in rolled]

    await price(db, [meter_id])  # nothing new: the same rows
    async with db.session() as session:
        again = (await session.execute(sa.select(monthly_rollups).where(monthly_rollups.c.meter_id == meter_id)
                                       .order_by(monthly_rollups.c.month))).all()
    assert [r[:-1] for r in again] == [r[:-1] for r in rolled]

    # A late correction of a past day rolls its month up again, and only it.
    async with db.session() as session, session.begin():
        await session.execute(sa.update(readings).where(readings.c.meter_id == meter_id,
                                                        readings.c.day == dt.date(2024, 12, 24)).values(wh=99_999))
    await price(db, [meter_id])
    async with db.session() as session:
        direct = (await session.execute(DIRECT, {"meter": meter_id})).all()
        after = (await session.execute(sa.select(monthly_rollups).where(monthly_rollups.c.meter_id == meter_id)
                                       .order_by(monthly_rollups.c.month))).all()
    assert [r.wh for r in after] == [d.wh for d in direct]
    assert [r.updated_at == b.updated_at for r, b in zip(after, again)] == [True, False, True, True, True]


# The comparison as it was computed before the rollups: every home's readings of the period, summed from the
# daily table.
SCAN = sa.text("""
    SELECT m.meter_id, p.profile, t.wh, coalesce(t.days, 0) AS days
    FROM consumption.meters m JOIN consumption.profiles p ON p.account_id = m.account_id
    LEFT JOIN (SELECT meter_id, sum(wh) AS wh, count(*) AS days FROM consumption.readings
               WHERE day >= :start AND day < :end GROUP BY meter_id) t ON t.meter_id = m.meter_id
    WHERE m.energy = :energy AND m.erased_at IS NULL
""")


async def scanned(session, energy: str, start: dt.date, end: dt.date) -> dict:
    n = (end - start).days
    homes = [(r.meter_id, comparison_profile(r.profile),
              int(r.wh) / 1000 * n / r.days if r.wh is not None and r.days >= n * MIN_PEER_COVERAGE else None)
             for r in await session.execute(SCAN, {"energy": energy, "start": start, "end": end})]
    return {uuid.UUID(k): v for k, v in compare_homes(homes, energy=energy).items()}


async def test_the_comparison_from_rollups_gives_the_answers_of_the_daily_scan(db, monkeypatch):
    rng = random.Random(2024)
    energy = f"electricity-{uuid.uuid4().hex[:6]}"  # this test's population only
    homes = []
    async with db.session() as session, session.begin():
        for i in range(240):
            profile = {"insee_code": rng.choice(("38185", "38421", "38057")),
                       "surface_m2": rng.choice((35.0, 55.0, 85.0, 120.0, None)),
                       "occupants": rng.choice((1, 2, 3, 5, None)),
                       "dwelling_type": rng.choice(("apartment", "house")),
                       "heating_energy": rng.choice(("electricity", "gas", None)), "heating_mode": "individual",
                       "hot_water_energy": "electricity"}
            # Some homes miss a day or two (scaled), some a week (left out), some the whole period.
            gaps = set(rng.sample(days(*JANUARY), rng.choice((0, 0, 0, 2, 7, 31))))
            values = {d: rng.randrange(3_000, 40_000) for d in days(dt.date(2024, 12, 25), dt.date(2025, 2, 6))
                      if d not in gaps}
            homes.append(await add_home(session, energy, profile if i % 17 else None, values))
    await price(db, [m for m, _ in homes])
    cache = PeerCache()
    monkeypatch.setattr(peers, "PEERS", cache)

    async def answers() -> dict:
        async with db.session() as session:
            return {m: await peers.compare(session, await repository.meter_info(session, m), *JANUARY)
                    for m, _ in homes}

    async with db.session() as session:
        expected = await scanned(session, energy, *JANUARY)
    got = await answers()
    shown = 0
    for meter_id, _ in homes:
        c, e = got[meter_id], expected.get(meter_id)
        if e is None:
            assert c.reason == "dwelling_not_described"
            continue
        assert (c.level, tuple(c.criteria), c.group_size) == ((e.level, e.criteria, e.group_size) if e.kwh
                                                              else (None, (), 0))
        for name, metric in (("kwh", e.kwh), ("kwh_per_m2", e.per_m2), ("kwh_per_occupant", e.per_occupant)):
            mine = getattr(c, name)
            assert (mine is None) == (metric is None), (meter_id, name)
            if metric is not None:
                shown += 1
                assert (mine.rank, mine.group_size) == (metric.rank, metric.group_size)
                assert mine.median == round(metric.median, 3) and mine.efficient == round(metric.efficient, 3)
                assert mine.value == round(metric.value, 3) and mine.percentile == round(metric.percentile, 1)
    assert shown > 200

    # The daily table is not read at request time: without the peers' days, the answers stay (a new computation).
    async with db.session() as session, session.begin():
        await session.execute(sa.delete(readings).where(readings.c.meter_id.in_([m for m, _ in homes[1:]])))
    cache.invalidate()
    assert await answers() == got

    # A window that is not whole months is compared over the month holding its middle, and says so.
    async with db.session() as session:
        c = await peers.compare(session, await repository.meter_info(session, homes[1][0]),
                                dt.date(2024, 12, 20), dt.date(2025, 1, 19))
    assert (c.start, c.end) == JANUARY and c.kwh == got[homes[1][0]].kwh


async def test_the_summary_reads_earlier_months_from_rollups_with_the_day_by_day_figures(db):
    rng = random.Random(7)
    as_of = dt.date(2025, 10, 17)
    values = {d: rng.randrange(4_000, 20_000) for d in days(dt.date(2024, 8, 1), as_of + dt.timedelta(days=1))
              if d not in (dt.date(2025, 3, 3), dt.date(2025, 10, 2))}
    async with db.session() as session, session.begin():
        meter_id, account_id = await add_home(session, "electricity", None, values,
                                              estimated={dt.date(2025, 6, 6)}, contract=("HPHC", 9))
    await price(db, [meter_id])

    async def both() -> tuple[dict, dict]:
        async with db.session() as session:
            meter = await repository.meter_info(session, meter_id)
            day_by_day = totals.to_date(await totals.load_meter_year(session, meter)).model_dump()
            [shown] = (await summary.summary(session, account_id))["meters"]
        return shown["totals"], day_by_day

    fast, expected = await both()
    assert fast == expected and fast["as_of"] == as_of and fast["year_days_missing"] == 1 + 1
    assert fast["forecast_method"].startswith("same period last year")

    # The earlier months are read from the rollups: one Wh more in June's shows in the year to date.
    async with db.session() as session, session.begin():
        await session.execute(sa.update(monthly_rollups).where(monthly_rollups.c.meter_id == meter_id,
                                                               monthly_rollups.c.month == dt.date(2025, 6, 1))
                              .values(wh=monthly_rollups.c.wh + 1))
    fast, expected = await both()
    assert fast["year_wh"] == expected["year_wh"] + 1
    assert {k: v for k, v in fast.items() if k != "year_wh"} == {k: v for k, v in expected.items() if k != "year_wh"}

    # New readings not yet priced: the day-by-day figures are served until the worker has caught up.
    async with db.session() as session, session.begin():
        await session.execute(sa.update(readings).where(readings.c.meter_id == meter_id,
                                                        readings.c.day == dt.date(2025, 6, 7)).values(wh=77_777))
        await repository.queue_pricing(session, [meter_id])
    fast, expected = await both()
    assert fast == expected
    await price(db, [meter_id])
    async with db.session() as session, session.begin():
        await session.execute(sa.delete(price_queue).where(price_queue.c.meter_id == meter_id))
    fast, expected = await both()
    assert fast == expected
