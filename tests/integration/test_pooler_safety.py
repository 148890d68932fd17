"""A service behind a pooler without prepared-statement support (db_prepared_statements false) still runs
the same statement many times, on connections other clients used before."""
from __future__ import annotations

import os

import pytest
import sqlalchemy as sa

from devstack.db import scratch_database
from metro.db import Database, make_metadata

SLOT = int(os.environ.get("METRO_TEST_SLOT", "0"))


@pytest.fixture(scope="module")
async def database_url():
    async with scratch_database(f"metroenergies_pooler_{SLOT}", make_metadata("poolertest")) as url:
        yield url


async def _kept(session, statement: str) -> int:
    query = sa.text("select count(*) from pg_prepared_statements where statement = :s")
    return (await session.execute(query, {"s": statement})).scalar()


async def test_without_prepared_statements_nothing_is_left_named_on_the_server(database_url):
    db = Database(database_url, pool_size=1, prepared_statements=False)
    try:
        for i in range(3):
            async with db.session() as session, session.begin():
                assert (await session.execute(sa.text("select :i + 1"), {"i": i})).scalar() == i + 1
                # What a transaction-mode pooler would hand the next client: no statement kept by name.
                assert await _kept(session, "select $1 + 1") == 0
    finally:
        await db.dispose()


async def test_by_default_statements_are_prepared_once_per_connection(database_url):
    db = Database(database_url, pool_size=1)
    try:
        for _ in range(2):
            async with db.session() as session, session.begin():
                await session.execute(sa.text("select 41 + 1"))
                assert await _kept(session, "select 41 + 1") == 1
    finally:
        await db.dispose()
