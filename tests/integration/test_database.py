"""metro.db: reads outside any transaction, connections warmed at start, rows as named tuples."""
from __future__ import annotations

import asyncio

import sqlalchemy as sa

from metro.db import Database, named_rows

NOW = sa.text("SELECT now()")
PID = sa.text("SELECT pg_backend_pid()")


async def test_the_reader_runs_each_statement_in_its_own_transaction(database_url):
    db = Database(database_url, pool_size=1)
    try:
        async with db.reader() as session:
            first = await session.scalar(NOW)
            await asyncio.sleep(0.01)
            assert await session.scalar(NOW) > first, "now() is the start of each statement's own transaction"
        async with db.session() as session, session.begin():
            first = await session.scalar(NOW)
            await asyncio.sleep(0.01)
            assert await session.scalar(NOW) == first, "one transaction: one now()"
    finally:
        await db.dispose()


async def test_warm_up_opens_the_pool_and_runs_the_reads_on_each_connection(database_url):
    db = Database(database_url, pool_size=3, application_name="warm-up-test")
    warmed: list[int] = []

    async def reads(session) -> None:
        warmed.append(await session.scalar(PID))

    try:
        await db.warm_up(5, reads)  # at most the pool's size
        assert len(warmed) == len(set(warmed)) == 3
        async with db.reader() as session:
            open_now = await session.scalar(sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'warm-up-test'"))
            assert open_now == 3
            assert await session.scalar(PID) in warmed, "a request then takes a warmed connection"
    finally:
        await db.dispose()


async def test_named_rows_read_like_rows(database_url):
    db = Database(database_url, pool_size=1)
    try:
        async with db.reader() as session:
            result = await session.execute(sa.text("SELECT g AS day, g * 2 AS wh FROM generate_series(1, 3) g"))
            rows = named_rows(result)
        assert [(r.day, r.wh) for r in rows] == [(1, 2), (2, 4), (3, 6)]
        assert [tuple(r) for r in rows] == [(1, 2), (2, 4), (3, 6)]
    finally:
        await db.dispose()
