"""Direct reads of the test database, for assertions about what is stored (never to set up the system
under test, except where a test says why), and the scratch databases of the library's own tests."""
from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import sqlalchemy as sa

from devstack.stack import reset_database
from metro.db import Database


def raw_dsn(database_url: str) -> str:
    return database_url.replace("postgresql+asyncpg", "postgresql")


@asynccontextmanager
async def connection(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(raw_dsn(database_url))
    try:
        yield conn
    finally:
        await conn.close()


async def fetch(database_url: str, query: str, *args):
    async with connection(database_url) as conn:
        return await conn.fetch(query, *args)


async def fetchval(database_url: str, query: str, *args):
    async with connection(database_url) as conn:
        return await conn.fetchval(query, *args)


async def fresh_schema(db: Database, metadata: sa.MetaData) -> None:
    """The metadata's schema dropped and created again with its tables: an integration test starts empty."""
    async with db.engine.begin() as conn:
        await conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {metadata.schema} CASCADE"))
        await conn.execute(sa.text(f"CREATE SCHEMA {metadata.schema}"))
        await conn.run_sync(metadata.create_all)


async def user_tables(database_url: str) -> list[tuple[str, str]]:
    """Every table of the project's schemas, partitions excluded (their parent is listed)."""
    rows = await fetch(database_url, """
        SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
          AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'public') AND n.nspname NOT LIKE 'pg_%'
        ORDER BY 1, 2""")
    return [(r[0], r[1]) for r in rows]


async def rows_mentioning(database_url: str, needles: list[str]) -> dict[str, int]:
    """Per table, how many rows contain any of the needles anywhere in their text form."""
    found: dict[str, int] = {}
    async with connection(database_url) as conn:
        for schema, table in await user_tables(database_url):
            if table == "alembic_version":
                continue
            n = await conn.fetchval(
                f'SELECT count(*) FROM "{schema}"."{table}" t WHERE ' +
                " OR ".join(f"t::text ILIKE ${i + 1}" for i in range(len(needles))),
                *[f"%{x}%" for x in needles])
            if n:
                found[f"{schema}.{table}"] = n
    return found


@asynccontextmanager
async def scratch_database(name: str, metadata: sa.MetaData) -> AsyncIterator[str]:
    """A database of a test module's own, with ``metadata``'s schema and tables; dropped afterwards."""
    url = reset_database(name)
    db = Database(url, pool_size=1)
    async with db.engine.begin() as conn:
        await conn.execute(sa.text(f"CREATE SCHEMA {metadata.schema}"))
        await conn.run_sync(metadata.create_all)
    await db.dispose()
    try:
        yield url
    finally:
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-q", "-c",
                        f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'], capture_output=True)
