"""Issue 23 item 8: the Métropole's aggregates are computed by the aggregates worker after the rollups change, stored
with secrecy applied, and served as stored with the time they were computed. New readings, priced and rolled up by
the pricing worker, mark the year stale (the answer says so, and still gives the stored figures without computing
them again); the aggregates worker's next run serves the new figures. Replicas take turns; a year never computed is
computed on demand; nothing stored or served gives a withheld cell's figures."""
from __future__ import annotations

import datetime as dt
import types
import uuid

import pytest
import sqlalchemy as sa

from consumption import catalogues, publication, repository, worker
from consumption.models import aggregate_results, aggregate_runs, meters, profiles, readings

YEAR = 2017  # no other integration test writes readings or rollups for 2016-2018
BRESSON, BRIE, CLAIX = "38057", "38059", "38111"


@pytest.fixture
async def rt(db):
    async with db.session() as session, session.begin():
        await catalogues.seed_tariffs(session)
    settings = types.SimpleNamespace(aggregates_settle_seconds=0.0, aggregates_every_seconds=0.0)
    return types.SimpleNamespace(db=db, settings=settings)


async def add_homes(rt, insee: str, n: int, kwh_a_day: float) -> None:
    """Gas homes heated by gas with a year of daily readings, priced and rolled up by the pricing worker."""
    ids = []
    async with rt.db.session() as session, session.begin():
        for _ in range(n):
            meter_id, account_id = uuid.uuid4(), uuid.uuid4()
            ids.append(meter_id)
            await session.execute(sa.insert(meters).values(meter_id=meter_id, account_id=account_id, energy="gas",
                                                           dso="grdf"))
            await session.execute(sa.insert(profiles).values(account_id=account_id, profile={
                "insee_code": insee, "surface_m2": 50, "dwelling_type": "apartment", "heating_energy": "gas",
                "construction_year": 1980}))
            days = [dt.date(YEAR, 1, 1) + dt.timedelta(days=i) for i in range(365)]
            await session.execute(sa.insert(readings), [
                {"meter_id": meter_id, "day": d, "wh": round(kwh_a_day * 1000), "source": "test"} for d in days])
        await repository.queue_pricing(session, ids)
    while await worker.price_pending(rt):
        pass


def bresson(body: dict) -> dict:
    [cell] = [c for c in body["cells"] if c["area"] == BRESSON]
    return cell


async def test_new_rollups_are_recomputed_by_the_worker_and_served_as_stored(rt):
    await add_homes(rt, BRESSON, 12, 10)
    await add_homes(rt, BRIE, 3, 10)
    await add_homes(rt, CLAIX, 10, 10)  # withheld with Brié, which the Métropole's total would give away
    assert await publication.recompute_due(rt) >= 1
    first = await publication.serve(rt.db, "municipality", YEAR, "gas")
    assert not first["stale"] and first["computed_at"] is not None
    assert bresson(first)["homes"] == 12 and bresson(first)["total_kwh"] == 12 * 3650
    assert {c["area"]: c["secret"] for c in first["cells"]} == {BRESSON: None, BRIE: "too_few_homes",
                                                                CLAIX: "secondary"}

    # New readings: the rollups change, the year is stale; the stored figures are served, not computed again.
    await add_homes(rt, BRESSON, 3, 20)
    stale = await publication.serve(rt.db, "municipality", YEAR, "gas")
    assert stale["stale"] and stale["computed_at"] == first["computed_at"]
    assert bresson(stale)["homes"] == 12

    # Another replica computing: this one leaves the year alone.
    async with rt.db.session() as other, other.begin():
        assert await repository.try_lock_aggregates(other)
        assert await publication.recompute_due(rt) == 0
    assert (await publication.serve(rt.db, "municipality", YEAR, "gas"))["stale"]

    assert await publication.recompute_due(rt) >= 1
    fresh = await publication.serve(rt.db, "municipality", YEAR, "gas")
    assert not fresh["stale"] and fresh["computed_at"] > first["computed_at"]
    assert bresson(fresh)["homes"] == 15 and bresson(fresh)["total_kwh"] == 12 * 3650 + 3 * 7300
    assert await publication.recompute_due(rt) == 0  # nothing left to do

    # One municipality: its cells and breakdowns, with the Métropole's totals.
    one = await publication.serve(rt.db, "municipality", YEAR, None, BRESSON)
    assert {c["area"] for c in one["cells"] + one["breakdowns"]} == {BRESSON}
    assert [t["energy"] for t in one["totals"]] == ["gas"] and one["totals"][0]["homes"] >= 15

    # Nothing stored gives a withheld cell's figures.
    async with rt.db.reader() as session:
        leaks = (await session.execute(sa.select(aggregate_results.c.cell).where(
            aggregate_results.c.cell["secret"].astext.is_not(None),
            sa.or_(aggregate_results.c.cell["homes"].astext.is_not(None),
                   aggregate_results.c.cell["total_kwh"].astext.is_not(None))))).all()
    assert leaks == []


async def test_a_run_missing_or_under_other_secrecy_rules_is_computed_on_demand(rt):
    await add_homes(rt, BRESSON, 10, 5)
    async with rt.db.session() as session, session.begin():
        await session.execute(sa.delete(aggregate_runs).where(aggregate_runs.c.year == YEAR))
    body = await publication.serve(rt.db, "municipality", YEAR, "gas")
    assert bresson(body)["homes"] >= 10 and body["stale"]  # its logged changes still wait for the worker

    async with rt.db.session() as session, session.begin():
        await session.execute(sa.update(aggregate_runs).where(aggregate_runs.c.year == YEAR).values(min_homes=5))
    again = await publication.serve(rt.db, "municipality", YEAR, "gas")
    assert again["computed_at"] > body["computed_at"] and again["min_homes"] == 10
    async with rt.db.reader() as session:
        assert (await session.execute(sa.select(aggregate_runs.c.min_homes).where(
            aggregate_runs.c.year == YEAR, aggregate_runs.c.level == "municipality"))).scalar() == 10
