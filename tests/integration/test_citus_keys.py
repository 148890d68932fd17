"""Issue 24: every large table can be distributed by Citus on `meter_id` and co-located with the others
(docs/scale.md). The rule is read from the catalog of every service's migrated schema, so that a table added later
is held to it: a per-meter time series (a date or time column in its primary key, or a table partitioned) is
partitioned, and each of its primary and unique keys includes meter_id. A small table of that shape says why here."""
from __future__ import annotations

import importlib

import asyncpg
import pytest

from metro.migrations import upgrade_async
from metro.services import SERVICES

# A few rows per meter, whatever the history's length: reference-sized, co-located on meter_id without partitions.
SMALL = {
    "ingest_enedis.collected_ranges": "the meter's collected days merged into ranges",
    "ingest_grdf.collected_ranges": "the meter's collected days merged into ranges",
    "ingest_enedis.gaps": "the ranges whose collection failed, until collected",
    "ingest_grdf.gaps": "the ranges whose collection failed, until collected",
    "ingest_enedis.curve_collected_ranges": "the meter's load-curve days merged into ranges",
    "ingest_enedis.curve_gaps": "the load-curve ranges whose collection failed, until collected",
}
TIME_TYPES = ("date", "timestamp with time zone", "timestamp without time zone")

TABLES = """
    SELECT c.oid, n.nspname || '.' || c.relname AS name, c.relkind = 'p' AS partitioned,
           array(SELECT a.attname FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0
                 AND NOT a.attisdropped AND format_type(a.atttypid, a.atttypmod) = ANY($1)) AS time_columns
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND n.nspname = ANY($2)
      AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'meter_id'
                  AND NOT a.attisdropped)
"""
KEYS = """
    SELECT i.indexrelid::regclass::text AS name, i.indisprimary AS primary_key,
           array(SELECT a.attname FROM unnest(i.indkey) k JOIN pg_attribute a
                 ON a.attrelid = i.indrelid AND a.attnum = k) AS columns
    FROM pg_index i WHERE i.indrelid = $1 AND i.indisunique
"""


def raw(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


@pytest.fixture
async def catalog(database_url):
    for service in SERVICES:
        await upgrade_async(importlib.import_module(f"{service.name}.app").spec().package_dir, database_url)
    conn = await asyncpg.connect(raw(database_url))
    yield conn
    await conn.close()


async def test_every_large_table_is_partitioned_and_keyed_on_meter_id(catalog):
    schemas = [s.name for s in SERVICES]
    large, wrong = [], []
    for t in await catalog.fetch(TABLES, list(TIME_TYPES), schemas):
        keys = await catalog.fetch(KEYS, t["oid"])
        primary = next((k["columns"] for k in keys if k["primary_key"]), [])
        if not (t["partitioned"] or set(primary) & set(t["time_columns"])):
            continue
        large.append(t["name"])
        if not t["partitioned"] and t["name"] not in SMALL:
            wrong.append(f"{t['name']}: not partitioned")
        wrong += [f"{t['name']}: key {k['name']} {k['columns']} lacks meter_id" for k in keys
                  if "meter_id" not in k["columns"]]
    assert not wrong, wrong
    assert {"consumption.readings", "consumption.priced_days", "consumption.monthly_rollups"} <= set(large)
