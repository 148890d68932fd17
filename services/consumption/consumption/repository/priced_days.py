"""The priced-days read model, and the series of points built from it by PostgreSQL."""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from metro.db import named_rows
from sqlalchemy.ext.asyncio import AsyncSession

from consumption.models import contracts, priced_days, profiles
from consumption.repository.meters import live_meters
from consumption.repository.readings import copy_merge

UNPRICED = sa.text("""
    SELECT r.meter_id, r.day, r.wh, r.extra, r.extra::text AS extra_json
    FROM unnest(CAST(:meters AS uuid[]), CAST(:since AS date[])) AS t(meter_id, since)
    JOIN consumption.readings r ON r.meter_id = t.meter_id AND r.day >= coalesce(t.since, '-infinity')
    LEFT JOIN consumption.priced_days p ON p.meter_id = r.meter_id AND p.day = r.day
    WHERE p.day IS NULL OR p.wh <> r.wh OR p.extra IS DISTINCT FROM r.extra
    ORDER BY r.meter_id, r.day
""")


CREATE_PRICED_STAGE = """
    CREATE TEMP TABLE IF NOT EXISTS priced_stage
      (meter_id uuid, day date, wh bigint, extra text, eur numeric, flags smallint) ON COMMIT DELETE ROWS
"""


MERGE_PRICED_STAGE = """
    INSERT INTO consumption.priced_days (meter_id, day, wh, extra, eur, flags)
    SELECT meter_id, day, wh, extra::jsonb, eur, flags FROM priced_stage
    ON CONFLICT (meter_id, day) DO UPDATE
      SET wh = excluded.wh, extra = excluded.extra, eur = excluded.eur, flags = excluded.flags
"""


async def unpriced_readings(session: AsyncSession, since: dict[uuid.UUID, dt.date | None]) -> list[Any]:
    """The meters' readings (from each one's ``since`` day, every day when None) with no priced day, or priced from
    other Wh or another split (``extra_json``: the split as stored, copied as is)."""
    return named_rows(await session.execute(UNPRICED, {"meters": list(since), "since": list(since.values())}))


async def clear_priced_days(session: AsyncSession, meter_ids: list[uuid.UUID]) -> None:
    if meter_ids:
        await session.execute(sa.delete(priced_days).where(priced_days.c.meter_id.in_(meter_ids)))


async def store_priced_days(session: AsyncSession, keys: dict[uuid.UUID, str],
                            records: list[tuple[uuid.UUID, dt.date, int, str | None, Any, int]]) -> None:
    """``records``: (meter_id, day, wh, extra JSON, eur, flags); each meter is then priced under its key."""
    if records:
        await copy_merge(session, CREATE_PRICED_STAGE, "priced_stage", records, MERGE_PRICED_STAGE)
    if keys:
        await session.execute(sa.text(
            "UPDATE consumption.meters m SET priced_key = k.key, priced_version = m.priced_version + 1 "
            "FROM unnest(CAST(:meters AS uuid[]), CAST(:keys AS text[])) AS k(meter_id, key) "
            "WHERE m.meter_id = k.meter_id"),
            {"meters": list(keys), "keys": list(keys.values())})


async def meters_to_price(session: AsyncSession, meter_ids: list[uuid.UUID]) -> list[tuple[sa.Row, dict[str, Any],
                                                                                           dict[str, Any] | None]]:
    """For the pricing worker, in three statements whatever their number: each live meter (locked as meter_info
    does), its contracts by origin and its account's profile."""
    found = await live_meters(session, meter_ids)
    by_meter: dict[uuid.UUID, dict[str, Any]] = {m.meter_id: {} for m in found}
    if found:
        for c in (await session.execute(sa.select(contracts).where(contracts.c.meter_id.in_(list(by_meter))))).all():
            by_meter[c.meter_id][c.origin] = c
    accounts = {m.account_id for m in found if m.energy == "gas" and m.account_id is not None}
    kept = dict((await session.execute(sa.select(profiles.c.account_id, profiles.c.profile).where(
        profiles.c.account_id.in_(accounts)))).all()) if accounts else {}
    return [(m, by_meter[m.meter_id], kept.get(m.account_id, {}) if m.energy == "gas" else None) for m in found]


# A meter's points over [start, end) at one step, as the JSON array of metro.schemas.consumption.ConsumptionPoint, built by
# PostgreSQL in one statement. {days} is where the days come from: the readings joined to their priced days
# (FROM_READ_MODEL, which also says whether every price there is current) or arrays priced by the caller
# (FROM_ARRAYS). Rounding as pricing.period_total: unrounded euros are added up, then rounded half up once.
# The JSON is written by concatenation: every value is a number, a fixed word or an ISO date, none needs
# escaping, and it costs PostgreSQL half of what json_build_object does for a year of days.
# POINT_JSON's braces are doubled twice: it is formatted into SERIES, which is formatted in turn.
# {days} is referenced once, so PostgreSQL inlines it rather than materialising it; flags and currency are
# aggregated in the same pass as the sums.
POINT_JSON = """
    '{{{{"period":"' || to_char({period}, 'YYYY-MM-DD')
    || '","wh":' || coalesce({wh}::text, 'null')
    || ',"eur":' || coalesce('"' || round({eur}, 2)::text || '"', 'null')
    || ',"quality":"' || {quality}
    || '","days":' || {length}
    || ',"days_missing":' || {missing}
    || ',"co2e_g":' || coalesce(CASE WHEN CAST(:co2e_den AS numeric) > 0
                                     THEN div(2 * {wh} * CAST(:co2e_num AS numeric) + CAST(:co2e_den AS numeric),
                                              2 * CAST(:co2e_den AS numeric)) END::text, 'null')
    || '}}}}'
"""


SERIES = """
    WITH sums AS (
        SELECT date_trunc(:unit, day::timestamp)::date AS period, count(*) AS present, sum(wh) AS wh,
               bool_or(quality <> 'measured') AS estimated, sum(eur) AS eur, bit_or(flags) AS flags,
               bool_and(current) AS current
        FROM ({days}) d GROUP BY 1
    ),
    periods AS (
        SELECT p::date AS period, greatest(p::date, CAST(:start AS date)) AS lo,
               least((p + CAST(CAST(:step AS text) AS interval))::date, CAST(:end AS date)) AS hi
        FROM generate_series(CAST(:first AS timestamp), CAST(:end AS timestamp) - interval '1 day',
                             CAST(CAST(:step AS text) AS interval)) AS p
    )
    SELECT '[' || coalesce(string_agg({point}, ',' ORDER BY p.period), '') || ']' AS points,
           coalesce(bit_or(s.flags), 0) AS flags, {current} AND coalesce(bool_and(s.current), true) AS current
    FROM periods p LEFT JOIN sums s ON s.period = p.period
""".format(days="{days}", current="{current}", point=POINT_JSON.format(
    period="p.period", wh="s.wh", eur="s.eur", length="(p.hi - p.lo)",
    missing="(p.hi - p.lo - coalesce(s.present, 0))",
    quality="""CASE WHEN s.present IS NULL THEN 'missing' WHEN s.present < p.hi - p.lo THEN 'partial'
                   WHEN s.estimated THEN 'estimated' ELSE 'measured' END"""))


# The same for step=day, the most requested series: a period is a day, so there is nothing to group (a third
# cheaper for PostgreSQL on a year of days).
SERIES_OF_DAYS = """
    SELECT '[' || coalesce(string_agg({point}, ',' ORDER BY p), '') || ']' AS points,
           coalesce(bit_or(d.flags), 0) AS flags, {current} AND coalesce(bool_and(d.current), true) AS current
    FROM generate_series(CAST(:start AS timestamp), CAST(:end AS timestamp) - interval '1 day',
                         interval '1 day') AS p
    LEFT JOIN ({days}) d ON d.day = p::date
""".format(days="{days}", current="{current}", point=POINT_JSON.format(
    period="p", wh="d.wh", eur="d.eur", length="1", missing="CASE WHEN d.day IS NULL THEN 1 ELSE 0 END",
    quality="""CASE WHEN d.day IS NULL THEN 'missing' WHEN d.quality <> 'measured' THEN 'estimated'
                   ELSE 'measured' END"""))


FROM_READ_MODEL = """
    SELECT r.day, r.wh, r.quality, pd.eur, pd.flags,
           pd.day IS NOT NULL AND pd.wh = r.wh AND pd.extra IS NOT DISTINCT FROM r.extra AS current
    FROM consumption.readings r
    LEFT JOIN consumption.priced_days pd
      ON pd.meter_id = r.meter_id AND pd.day = r.day AND pd.day >= :start AND pd.day < :end
    WHERE r.meter_id = :meter AND r.day >= :start AND r.day < :end
"""


# Priced under the pricing in force (each day is checked against its reading by FROM_READ_MODEL, in the same
# snapshot).
READ_MODEL_CURRENT = "coalesce((SELECT priced_key = :key FROM consumption.meters WHERE meter_id = :meter), false)"


FROM_ARRAYS = """
    SELECT * FROM unnest(CAST(:days AS date[]), CAST(:whs AS bigint[]), CAST(:qualities AS text[]),
                         CAST(:eurs AS numeric[]), CAST(:flag_list AS smallint[]), CAST(NULL AS boolean[]))
                  AS d(day, wh, quality, eur, flags, current)
"""


# Keyed by (step is day, days from the read model).
SERIES_STATEMENTS = {(by_day, from_model): sa.text((SERIES_OF_DAYS if by_day else SERIES).format(
    days=FROM_READ_MODEL if from_model else FROM_ARRAYS, current=READ_MODEL_CURRENT if from_model else "true"))
    for by_day in (True, False) for from_model in (True, False)}


STEP_INTERVALS = {"day": "1 day", "week": "7 days", "month": "1 month", "year": "1 year"}


READ_MODEL_DAYS = sa.text(f"""
    SELECT day, wh, quality, eur, flags,
           current AND coalesce((SELECT priced_key = :key FROM consumption.meters WHERE meter_id = :meter), false)
           AS current
    FROM ({FROM_READ_MODEL}) d ORDER BY day
""")


async def priced_range(session: AsyncSession, meter_id: uuid.UUID, start: dt.date, end: dt.date,
                       key: str) -> list[Any]:
    """The readings of [start, end) with their priced days: (day, wh, quality, eur, flags, current), current
    when the day was priced from this reading under the pricing named ``key``."""
    return named_rows(await session.execute(READ_MODEL_DAYS, {"meter": meter_id, "start": start, "end": end,
                                                           "key": key}))


async def series_points(session: AsyncSession, meter_id: uuid.UUID, first: dt.date, start: dt.date, end: dt.date,
                        step: str, co2e: tuple[int, int] | None, key: str | None = None,
                        days: list[tuple[dt.date, int, str, Any, int]] | None = None) -> tuple[str, int, bool]:
    """(points JSON, the days' flags OR-ed, whether the priced days were all current). From the read model when
    ``days`` is None (``key`` names the pricing in force), else from ``days``: (day, wh, quality, eur, flags).
    ``first`` is the start of the period holding ``start``."""
    num, den = co2e or (0, 0)
    params: dict[str, Any] = {"meter": meter_id, "first": first, "start": start, "end": end, "unit": step,
                              "step": STEP_INTERVALS[step], "co2e_num": num, "co2e_den": den}
    statement = SERIES_STATEMENTS[step == "day", days is None]
    if days is None:
        row = (await session.execute(statement, {**params, "key": key})).one()
    else:
        columns = [list(c) for c in zip(*days)] or [[], [], [], [], []]
        row = (await session.execute(statement, {
            **params, "days": columns[0], "whs": columns[1], "qualities": columns[2], "eurs": columns[3],
            "flag_list": columns[4]})).one()
    return row.points, int(row.flags), bool(row.current)
