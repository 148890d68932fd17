"""Direct reads of the test database, for assertions about what is stored (never to set up the system
under test, except where a test says why)."""
from __future__ import annotations

import asyncpg


def raw_dsn(database_url: str) -> str:
    return database_url.replace("postgresql+asyncpg", "postgresql")


async def fetch(database_url: str, query: str, *args):
    conn = await asyncpg.connect(raw_dsn(database_url))
    try:
        return await conn.fetch(query, *args)
    finally:
        await conn.close()


async def fetchval(database_url: str, query: str, *args):
    conn = await asyncpg.connect(raw_dsn(database_url))
    try:
        return await conn.fetchval(query, *args)
    finally:
        await conn.close()


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
    conn = await asyncpg.connect(raw_dsn(database_url))
    try:
        for schema, table in await user_tables(database_url):
            if table == "alembic_version":
                continue
            n = await conn.fetchval(
                f'SELECT count(*) FROM "{schema}"."{table}" t WHERE ' +
                " OR ".join(f"t::text ILIKE ${i + 1}" for i in range(len(needles))),
                *[f"%{x}%" for x in needles])
            if n:
                found[f"{schema}.{table}"] = n
    finally:
        await conn.close()
    return found
