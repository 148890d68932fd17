"""The login throttle against the real PostgreSQL: what it records, clears and prunes."""
from __future__ import annotations

import asyncio
import datetime as dt
import os

import pytest
import sqlalchemy as sa
from devstack.db import scratch_database
from gateway.models import login_failures, metadata
from gateway.throttle import LoginThrottle
from metro.db import Database
from metro.errors import TooManyRequests

SLOT = int(os.environ.get("METRO_TEST_SLOT", "0"))
DATABASE = f"metroenergies_throttle_{SLOT}"


@pytest.fixture(scope="module")
async def database_url():
    async with scratch_database(DATABASE, metadata) as url:
        yield url


@pytest.fixture
async def db(database_url):
    db = Database(database_url, pool_size=4)
    async with db.session() as session, session.begin():
        await session.execute(sa.delete(login_failures))
    yield db
    await db.dispose()


async def keys(db: Database) -> list[str]:
    async with db.session() as session:
        return list((await session.execute(sa.select(login_failures.c.key))).scalars())


async def test_parallel_attempts_on_one_account_are_recorded_one_at_a_time_up_to_the_limit(db):
    throttle = LoginThrottle(db, "k", max_failures=3)
    outcomes = await asyncio.gather(*(throttle.begin("a@example.org", "192.0.2.1") for _ in range(10)),
                                    return_exceptions=True)
    assert sum(isinstance(o, TooManyRequests) for o in outcomes) == 7
    assert len(await keys(db)) == 6


async def test_a_success_clears_its_account_and_its_own_attempt_only(db):
    throttle = LoginThrottle(db, "k")
    await throttle.begin("a@example.org", "192.0.2.1")
    await throttle.begin("b@example.org", "192.0.2.1")
    await throttle.succeeded(await throttle.begin("a@example.org", "192.0.2.1"))
    client = throttle.key("client", "192.0.2.1")
    assert sorted(await keys(db)) == sorted([throttle.key("account", "b@example.org"), client, client])


async def test_failures_older_than_the_window_are_pruned(db):
    throttle = LoginThrottle(db, "k", window=dt.timedelta(minutes=15))
    await throttle.begin("old@example.org", "192.0.2.1")
    async with db.session() as session, session.begin():
        await session.execute(sa.update(login_failures).values(at=sa.func.now() - dt.timedelta(minutes=16)))
    await throttle.begin("new@example.org", "192.0.2.1")
    await throttle.prune()
    assert sorted(await keys(db)) == sorted([throttle.key("account", "new@example.org"),
                                             throttle.key("client", "192.0.2.1")])
