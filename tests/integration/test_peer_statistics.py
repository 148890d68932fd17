"""Issue 24: the peer statistics kept by the worker. Once it computed a period, a request reads the home's groups from
them and answers what the computation over the whole population answers; what changed since (a rollup of one of
the period's months, a dwelling described) makes the period due again; a home described since is placed among the
stored groups; and past `in_request_below` homes a request never computes the population itself."""
from __future__ import annotations

import asyncio
import datetime as dt
import random
import types
import uuid

import pytest
import sqlalchemy as sa

from consumption import peer_statistics, peers, repository
from consumption.models import peer_changes, peer_groups, peer_periods, profiles, readings
from consumption.peers import PeerCache

from tests.integration.test_rollups import JANUARY, add_home, days, price

pytestmark = pytest.mark.timeout(300)


def profile_of(rng: random.Random) -> dict:
    return {"insee_code": rng.choice(("38185", "38421")), "surface_m2": rng.choice((55.0, 85.0)),
            "occupants": rng.choice((1, 2, 3)), "dwelling_type": "apartment", "heating_energy": "gas",
            "heating_mode": "individual", "hot_water_energy": "electricity"}


@pytest.fixture
async def population(db):
    """120 described homes of an energy of this test's own, with January 2025 priced and rolled up."""
    rng = random.Random(42)
    energy = f"electricity-{uuid.uuid4().hex[:6]}"
    homes = []
    async with db.session() as session, session.begin():
        for _ in range(120):
            values = {d: rng.randrange(3_000, 40_000) for d in days(*JANUARY)}
            homes.append(await add_home(session, energy, profile_of(rng), values))
    await price(db, [m for m, _ in homes])
    return energy, homes


def runtime(db, database_url: str) -> types.SimpleNamespace:
    settings = types.SimpleNamespace(degree_day_station=peers.DEFAULT_DEGREE_DAY_STATION, peer_refresh_seconds=0,
                                     peer_max_age_seconds=86_400, database_url=database_url,
                                     db_prepared_statements=True)
    return types.SimpleNamespace(db=db, settings=settings, stop=asyncio.Event())


async def answers(db, meter_ids) -> dict:
    async with db.session() as session, session.begin():
        return {m: (await peers.compare(session, await repository.meter_info(session, m), *JANUARY)).model_dump()
                for m in meter_ids}


class NoComputation(PeerCache):
    async def _compute(self, session, energy, start, end):
        raise AssertionError("the request computed the population itself")


async def period_of(db, energy: str) -> sa.Row | None:
    async with db.session() as session:
        return (await session.execute(sa.text(
            "SELECT p.computed_at, p.homes, EXISTS (SELECT 1 FROM consumption.peer_changes c WHERE c.energy = p.energy "
            "AND c.period_start = p.period_start AND c.period_end = p.period_end) AS changed "
            "FROM consumption.peer_periods p WHERE energy = :energy AND period_start = :start AND period_end = :end"),
            {"energy": energy, "start": JANUARY[0], "end": JANUARY[1]})).one_or_none()


async def due(db, energy: str) -> bool:
    async with db.session() as session:
        return (energy, *JANUARY) in await repository.due_peer_periods(session, every=0, max_age=86_400)


async def test_a_request_reads_the_stored_groups_and_answers_as_the_whole_computation(db, database_url, population,
                                                                                    monkeypatch):
    energy, homes = population
    worker = peer_statistics.PeerWorker()
    try:
        monkeypatch.setattr(peers, "PEERS", PeerCache())
        computed_here = await answers(db, [m for m, _ in homes])
        assert sum(a["available"] for a in computed_here.values()) > 100
        period = await period_of(db, energy)
        assert period is not None and period.computed_at is None, "the first request named the period"
        assert await due(db, energy)

        assert await worker.compute(runtime(db, database_url), energy, *JANUARY)
        period = await period_of(db, energy)
        async with db.session() as session:
            stored = (await session.execute(sa.select(sa.func.count()).select_from(peer_groups)
                                            .where(peer_groups.c.energy == energy))).scalar_one()
        assert period.homes == 120 and not period.changed and stored > 0
        assert not await due(db, energy)

        # Past 100 homes, a request serves the stored statistics even once something changed since.
        monkeypatch.setattr(peers, "PEERS", NoComputation(in_request_below=100))
        assert await answers(db, [m for m, _ in homes]) == computed_here

        # A reading of January changes: the rollup's trigger logs it, the period is due; computed again, it is not.
        changed = homes[0][0]
        async with db.session() as session, session.begin():
            await session.execute(sa.update(readings).where(readings.c.meter_id == changed,
                                                            readings.c.day == JANUARY[0]).values(wh=900_000))
        await price(db, [changed])
        assert await due(db, energy)
        assert await worker.compute(runtime(db, database_url), energy, *JANUARY)
        assert not await due(db, energy)

        # A home described after the computation: placed among the stored groups as if it were in them.
        rng = random.Random(7)
        async with db.session() as session, session.begin():
            newcomer, account = await add_home(session, energy, None, {d: 15_000 for d in days(*JANUARY)})
        await price(db, [newcomer])
        assert await worker.compute(runtime(db, database_url), energy, *JANUARY)
        async with db.session() as session, session.begin():
            await session.execute(sa.insert(profiles).values(account_id=account, profile=profile_of(rng)))
        assert await due(db, energy), "a dwelling described changes every kept period"
        from_store = (await answers(db, [newcomer]))[newcomer]
        monkeypatch.setattr(peers, "PEERS", PeerCache())
        async with db.session() as session, session.begin():
            await session.execute(sa.delete(peer_periods).where(peer_periods.c.energy == energy))
        assert (await answers(db, [newcomer]))[newcomer] == from_store
        assert from_store["available"] and from_store["group_size"] >= 10
    finally:
        worker.close()


async def test_past_the_threshold_a_request_never_computes_the_population(db, database_url, population, monkeypatch):
    energy, homes = population
    cache = NoComputation(in_request_below=100)
    monkeypatch.setattr(peers, "PEERS", cache)
    worker = peer_statistics.PeerWorker()
    try:
        async with db.session() as session, session.begin():
            await repository.request_peer_periods(session, [(energy, dt.date(2024, 12, 1), JANUARY[0])])
        assert await worker.compute(runtime(db, database_url), energy, dt.date(2024, 12, 1), JANUARY[0])  # 120 homes read

        answer = (await answers(db, [homes[3][0]]))[homes[3][0]]
        assert not answer["available"] and answer["reason"] == "peer_statistics_pending"
        assert await due(db, energy), "the period asked for is named for the worker"
        assert await worker.compute(runtime(db, database_url), energy, *JANUARY)
        assert (await answers(db, [homes[3][0]]))[homes[3][0]]["available"]

        # Something changed since: over 100 homes the stored statistics are served until computed again.
        async with db.session() as session, session.begin():
            await session.execute(sa.update(profiles).where(profiles.c.account_id == homes[5][1])
                                  .values(updated_at=sa.func.now()))
            assert (await session.execute(sa.select(sa.func.count()).select_from(peer_changes)
                                          .where(peer_changes.c.energy == energy))).scalar_one() >= 2
        assert (await answers(db, [homes[3][0]]))[homes[3][0]]["available"]
    finally:
        worker.close()
