"""The Métropole's aggregates, grouped by PostgreSQL from the per-meter monthly rollups: one row per cell, never
one per home (370 000 homes would cost seconds of Python per request)."""
from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from consumption.models import aggregate_changes, aggregate_results, aggregate_runs

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


# The aggregates as published (consumption.publication): one statement, so the run and its cells are one snapshot.
# COLLATE "C": the order the cells were computed in (Python's), whatever the database's collation.
PUBLISHED = sa.text("""
    SELECT r.computed_at, r.min_homes, r.max_share,
           EXISTS (SELECT 1 FROM consumption.aggregate_changes c WHERE c.year = r.year) AS stale,
           a.area, a.dimension, a.cell
    FROM consumption.aggregate_runs r
    LEFT JOIN consumption.aggregate_results a
      ON a.level = r.level AND a.year = r.year
     AND (CAST(:energy AS text) IS NULL OR a.energy = :energy)
     AND (CAST(:area AS text) IS NULL OR a.area IN (:area, ''))
    WHERE r.level = :level AND r.year = :year
    ORDER BY a.area COLLATE "C", a.energy COLLATE "C", a.dimension COLLATE "C", a.value COLLATE "C"
""")


async def published(session: AsyncSession, level: str, year: int, energy: str | None,
                    area: str | None) -> list[Any]:
    """The run of (level, year) with its cells of that energy and area (and the Métropole's totals); no row when
    it was never computed."""
    return list(await session.execute(PUBLISHED, {"level": level, "year": year, "energy": energy, "area": area}))


async def store_published(session: AsyncSession, level: str, year: int, cells: list[dict[str, Any]], *,
                          min_homes: int, max_share: float, seconds: float) -> None:
    """Replaces the run of (level, year) and its cells, computed as of the transaction's start."""
    where = (aggregate_results.c.level == level, aggregate_results.c.year == year)
    await session.execute(sa.delete(aggregate_results).where(*where))
    if cells:
        await session.execute(sa.insert(aggregate_results), [{"level": level, "year": year, **c} for c in cells])
    stmt = insert(aggregate_runs).values(level=level, year=year, computed_at=sa.func.now(), min_homes=min_homes,
                                         max_share=max_share, seconds=seconds)
    await session.execute(stmt.on_conflict_do_update(index_elements=[aggregate_runs.c.level, aggregate_runs.c.year],
                                                     set_={c: stmt.excluded[c] for c in (
                                                         "computed_at", "min_homes", "max_share", "seconds")}))


# A year is due once its rollups have been quiet for :settle seconds and its last run is :every seconds old (once
# after the night's rollups, at most every :every seconds), or once its oldest waiting change is :every seconds old
# (changes that never settle wait no longer).
DUE = sa.text("""
    SELECT c.year
    FROM consumption.aggregate_changes c
    LEFT JOIN (SELECT year, min(computed_at) AS computed FROM consumption.aggregate_runs GROUP BY year) r
      ON r.year = c.year
    WHERE c.year BETWEEN 2000 AND :this_year
    GROUP BY c.year, r.computed
    HAVING min(c.changed_at) <= now() - make_interval(secs => :every)
        OR (max(c.changed_at) <= now() - make_interval(secs => :settle)
            AND (r.computed IS NULL OR r.computed <= now() - make_interval(secs => :every)))
    ORDER BY c.year
""")


async def due_years(session: AsyncSession, this_year: int, *, settle: float, every: float) -> list[int]:
    return [r.year for r in await session.execute(DUE, {"this_year": this_year, "settle": settle, "every": every})]


async def changes_of(session: AsyncSession, year: int) -> list[int]:
    """The logged changes of a year, read before it is computed: only those are forgotten after."""
    return list((await session.execute(sa.select(aggregate_changes.c.id)
                                       .where(aggregate_changes.c.year == year))).scalars())


async def forget_changes(session: AsyncSession, ids: list[int]) -> None:
    if ids:
        await session.execute(sa.delete(aggregate_changes).where(aggregate_changes.c.id.in_(ids)))


# One computation at a time across replicas (a transaction-scoped advisory lock).
LOCK_KEY = sa.func.hashtextextended("consumption.aggregates", 0)


async def try_lock_aggregates(session: AsyncSession) -> bool:
    return bool((await session.execute(sa.select(sa.func.pg_try_advisory_xact_lock(LOCK_KEY)))).scalar())


async def lock_aggregates(session: AsyncSession) -> None:
    await session.execute(sa.select(sa.func.pg_advisory_xact_lock(LOCK_KEY)))
