"""Per-meter monthly rollups, kept by the pricing worker: the peers' period totals, the summary's data, the portfolios' cells."""
from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from typing import Any

import sqlalchemy as sa
from metro.db import named_rows
from sqlalchemy.ext.asyncio import AsyncSession

from consumption.models import monthly_rollups

PROFILED_METERS = sa.text("""
    SELECT m.meter_id, p.profile::text AS profile
    FROM consumption.meters m JOIN consumption.profiles p ON p.account_id = m.account_id
    WHERE m.energy = :energy AND m.erased_at IS NULL
""")


# The period's whole months from the rollups (a few rows per home, never the daily table). Kept apart from the
# join above: right after a bulk load the planner's row estimates are stale and a combined query can fall into a
# nested loop over every home.
PERIOD_TOTALS = sa.text("""
    SELECT meter_id, sum(wh) AS wh, sum(days_present) AS days
    FROM consumption.monthly_rollups
    WHERE month >= :start AND month < :end AND energy = :energy
    GROUP BY meter_id
""")


async def period_totals(session: AsyncSession, energy: str, start: dt.date,
                        end: dt.date) -> list[tuple[uuid.UUID, str, int | None, int]]:
    """Every profiled home of one energy with its dwelling profile (as its JSON text: the peer statistics decode
    it in a process of their own), its total over the whole months [start, end) and its days with a reading."""
    return [home async for home in stream_period_totals(session, energy, start, end)]


async def stream_period_totals(session: AsyncSession, energy: str, start: dt.date,
                               end: dt.date) -> AsyncIterator[tuple[uuid.UUID, str, int | None, int]]:
    """period_totals' homes one at a time: the profiles are read by a server-side cursor (inside a transaction), so
    that the peer statistics' grouping process never holds the population's rows at once (at 269 000 homes they
    were 300 MB beside its groups)."""
    # Every row is read: planned as a whole (a hash join), not for a cursor's first tenth (a merge join over two
    # indexes). For this transaction's cursors only.
    await session.execute(sa.text("SET LOCAL cursor_tuple_fraction = 1"))
    totals = {meter_id: (int(wh), int(days)) async for meter_id, wh, days in _streamed(
        session, PERIOD_TOTALS, {"start": start, "end": end, "energy": energy}) if days}
    async for meter_id, profile in _streamed(session, PROFILED_METERS, {"energy": energy}):
        yield (meter_id, profile, *totals.pop(meter_id, (None, 0)))


async def _streamed(session: AsyncSession, statement: sa.TextClause, params: dict[str, Any]) -> AsyncIterator[sa.Row]:
    result = await session.stream(statement, params, execution_options={"yield_per": 5000})
    async for rows in result.partitions():  # a chunk at a time: one hop into SQLAlchemy's greenlet each, not a row
        for row in rows:
            yield row


# How a rollup row is written: every column, the row of (meter, month) replaced.
_INSERT = """
    INSERT INTO consumption.monthly_rollups AS r
      (meter_id, month, energy, wh, eur, days, days_present, days_estimated, days_priced, flags, priced_key,
       updated_at)
"""
_UPSERT = """
    ON CONFLICT (meter_id, month) DO UPDATE
      SET energy = excluded.energy, wh = excluded.wh, eur = excluded.eur, days = excluded.days,
          days_present = excluded.days_present, days_estimated = excluded.days_estimated,
          days_priced = excluded.days_priced, flags = excluded.flags, priced_key = excluded.priced_key,
          updated_at = excluded.updated_at
"""


# Whole months of the given (meter, month) pairs, recomputed from the readings and the priced days current for them
# (the same day and Wh and split): idempotent, a replay writes the same row.
ROLLUP_MONTHS = sa.text(_INSERT + """
    SELECT t.meter_id, t.month, m.energy, a.wh, a.eur, (t.month + interval '1 month')::date - t.month,
           a.days_present, a.days_estimated, a.days_priced, a.flags, m.priced_key, now()
    FROM unnest(CAST(:meters AS uuid[]), CAST(:months AS date[])) AS t(meter_id, month)
    JOIN consumption.meters m ON m.meter_id = t.meter_id
    -- Each (meter, month) by its own index range: whatever the row estimates (stale right after a bulk load), the
    -- plan can never become a sort of the whole readings table, as a join over every pair did at 370 000 meters.
    CROSS JOIN LATERAL (
        SELECT coalesce(sum(d.wh), 0) AS wh, sum(p.eur) AS eur, count(d.day) AS days_present,
               count(d.day) FILTER (WHERE d.quality <> 'measured') AS days_estimated, count(p.eur) AS days_priced,
               coalesce(bit_or(p.flags), 0) AS flags
        FROM consumption.readings d
        LEFT JOIN consumption.priced_days p
          ON p.meter_id = t.meter_id AND p.day >= t.month AND p.day < (t.month + interval '1 month')::date
             AND p.day = d.day AND p.wh = d.wh AND p.extra IS NOT DISTINCT FROM d.extra
        WHERE d.meter_id = t.meter_id AND d.day >= t.month AND d.day < (t.month + interval '1 month')::date
    ) a
""" + _UPSERT)


# Every rollup rebuilt from the daily tables in one pass (a bulk load, a repair): the figures of ROLLUP_MONTHS for
# every month holding a reading, by a scan rather than a probe per (meter, month).
ROLLUP_ALL = sa.text(_INSERT + """
    SELECT d.meter_id, a.month, m.energy, sum(d.wh), sum(p.eur), (a.month + interval '1 month')::date - a.month,
           count(d.day), count(d.day) FILTER (WHERE d.quality <> 'measured'), count(p.eur),
           coalesce(bit_or(p.flags), 0), m.priced_key, now()
    FROM consumption.readings d
    JOIN consumption.meters m ON m.meter_id = d.meter_id
    CROSS JOIN LATERAL (SELECT date_trunc('month', d.day)::date AS month) a
    LEFT JOIN consumption.priced_days p
      ON p.meter_id = d.meter_id AND p.day = d.day AND p.wh = d.wh AND p.extra IS NOT DISTINCT FROM d.extra
    GROUP BY d.meter_id, a.month, m.energy, m.priced_key
""" + _UPSERT)


async def rebuild_rollups(session: AsyncSession) -> None:
    """Every meter's rollups recomputed from its readings and priced days, in one statement."""
    await session.execute(ROLLUP_ALL)


async def roll_up(session: AsyncSession, months: set[tuple[uuid.UUID, dt.date]]) -> None:
    """Recomputes these (meter, first day of month) rollups, in meter order."""
    if months:
        pairs = sorted(months)
        await session.execute(ROLLUP_MONTHS, {"meters": [m for m, _ in pairs], "months": [d for _, d in pairs]})


# What the summary reads of one meter in one statement: its last day (as_of), whether its pricing is current and
# it waits for no pricing, the days of as_of's month and of the same month last year (with their priced days), and
# the rollups of the year's earlier months.
SUMMARY_DATA = sa.text("""
    WITH w AS (
        SELECT as_of, date_trunc('month', as_of)::date AS month_start, date_trunc('year', as_of)::date AS year_start,
               (date_trunc('month', as_of) - interval '1 year')::date AS ly_start,
               (date_trunc('month', as_of) - interval '11 months')::date AS ly_end
        FROM (SELECT max(day) AS as_of FROM consumption.readings WHERE meter_id = :meter) a
        WHERE as_of IS NOT NULL
    ),
    days AS (
        SELECT r.day, r.wh, r.quality, pd.eur, pd.flags,
               pd.day IS NOT NULL AND pd.wh = r.wh AND pd.extra IS NOT DISTINCT FROM r.extra AS current
        FROM w JOIN consumption.readings r
          ON r.meter_id = :meter AND ((r.day >= w.month_start AND r.day <= w.as_of)
                                      OR (r.day >= w.ly_start AND r.day < w.ly_end))
        LEFT JOIN consumption.priced_days pd ON pd.meter_id = r.meter_id AND pd.day = r.day
    )
    SELECT 'as_of' AS kind, w.as_of AS day, NULL::bigint AS wh, NULL::text AS quality, NULL::numeric AS eur,
           NULL::smallint AS flags,
           coalesce((SELECT priced_key = :key FROM consumption.meters WHERE meter_id = :meter), false)
           AND NOT EXISTS (SELECT 1 FROM consumption.price_queue WHERE meter_id = :meter) AS current,
           NULL::smallint AS days, NULL::smallint AS present, NULL::smallint AS priced
    FROM w
    UNION ALL
    SELECT 'day', day, wh, quality, eur, flags, current, NULL, NULL, NULL FROM days
    UNION ALL
    SELECT 'month', m.month, m.wh, NULL, m.eur, m.flags, m.priced_key IS NOT DISTINCT FROM :key, m.days,
           m.days_present, m.days_priced
    FROM w JOIN consumption.monthly_rollups m
      ON m.meter_id = :meter AND m.month >= w.year_start AND m.month < w.month_start
""")


async def summary_data(session: AsyncSession, meter_id: uuid.UUID, key: str) -> list[Any]:
    return named_rows(await session.execute(SUMMARY_DATA, {"meter": meter_id, "key": key}))


async def rollups_of(session: AsyncSession, meter_ids: list[uuid.UUID], start: dt.date,
                     end: dt.date) -> list[sa.Row]:
    """The monthly rollups of these meters for the months in [start, end)."""
    return list((await session.execute(sa.select(
        monthly_rollups.c.meter_id, monthly_rollups.c.month, monthly_rollups.c.wh, monthly_rollups.c.eur,
        monthly_rollups.c.days, monthly_rollups.c.days_present, monthly_rollups.c.days_estimated)
        .where(monthly_rollups.c.meter_id.in_(meter_ids), monthly_rollups.c.month >= start,
               monthly_rollups.c.month < end))).all())
