"""The Métropole's aggregates, grouped by PostgreSQL from the per-meter monthly rollups: one row per cell, never
one per home (370 000 homes would cost seconds of Python per request)."""
from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

# A home: a profiled meter of the energy with at least :min_present days of the year, scaled to the whole year;
# kWh/m² with the heating share weather-normalised (× :factor) when the energy is the home's heating energy.
# Ordered-set aggregates ignore NULLs: the quartiles are those of the homes that give a surface.
# percentile_cont interpolates linearly, as statistics.quantiles(method="inclusive").
CELLS = sa.text("""
    WITH totals AS (
      SELECT meter_id, sum(wh) AS wh, sum(days_present) AS present
      FROM consumption.monthly_rollups
      WHERE energy = :energy AND month >= :start AND month < :end
      GROUP BY meter_id
      HAVING sum(days_present) >= :min_present
    ), homes AS (
      SELECT t.wh, t.present, p.profile
      FROM totals t
      JOIN consumption.meters m ON m.meter_id = t.meter_id AND m.erased_at IS NULL
      JOIN consumption.profiles p ON p.account_id = m.account_id
    ), years AS (
      SELECT profile->>:area_key AS area,
             wh / 1000.0 * :days / present AS kwh,
             nullif((profile->>'surface_m2')::float8, 0) AS surface,
             profile->>'heating_energy' = :energy AS heats,
             coalesce(profile->>'dwelling_type', 'unknown') AS dwelling_type,
             coalesce(profile->>'heating_energy', 'unknown') AS heating_energy,
             CASE WHEN profile->>'construction_year' IS NULL THEN 'unknown'
                  WHEN (profile->>'construction_year')::int <= 1948 THEN 'before_1949'
                  WHEN (profile->>'construction_year')::int <= 1974 THEN '1949_1974'
                  WHEN (profile->>'construction_year')::int <= 2000 THEN '1975_2000'
                  WHEN (profile->>'construction_year')::int <= 2012 THEN '2001_2012'
                  ELSE 'after_2012' END AS construction_period
      FROM homes
      WHERE profile->>:area_key IS NOT NULL AND (CAST(:areas AS text[]) IS NULL
                                                  OR profile->>:area_key = ANY(CAST(:areas AS text[])))
    ), normalised AS (
      SELECT *, kwh * CASE WHEN heats THEN :factor ELSE 1 END / surface AS kwh_m2 FROM years
    )
    SELECT area, dwelling_type, heating_energy, construction_period,
           GROUPING(area) AS all_areas, GROUPING(dwelling_type) AS no_type, GROUPING(heating_energy) AS no_heating,
           GROUPING(construction_period) AS no_period,
           count(*) AS homes, sum(kwh) AS total, max(kwh) AS largest, count(kwh_m2) AS homes_m2,
           percentile_cont(ARRAY[0.25, 0.5, 0.75]) WITHIN GROUP (ORDER BY kwh_m2) AS quartiles
    FROM normalised
    GROUP BY GROUPING SETS ((area), (area, dwelling_type), (area, heating_energy), (area, construction_period), ())
""")


async def aggregate_cells(session: AsyncSession, energy: str, start: dt.date, end: dt.date, *, area_key: str,
                areas: list[str] | None, min_present: float, factor: float) -> list[Any]:
    """One row per cell of [start, end): per area, per area and one dimension, and the total (all_areas = 1)."""
    return list(await session.execute(CELLS, {
        "energy": energy, "start": start, "end": end, "days": (end - start).days, "min_present": min_present,
        "area_key": area_key, "areas": areas, "factor": factor}))
