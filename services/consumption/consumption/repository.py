"""Every SQL statement of the consumption service."""
from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from consumption.models import (anomaly_episodes, anomaly_scan_queue, contracts, meters, monthly_rollups,
                                price_queue, priced_days, profiles, readings, statements, tariff_catalogues)
from consumption.models import erased_meters as erased_meters_table
from consumption.models import load_curve_days
from metro.db import named_rows
from metro.erasure import subject_hash

# Readings arrive by the tens of thousands per batch: they are COPYed (binary) into a session-private
# staging table, then merged in one statement. The upsert keyed on (meter_id, day) leaves a replay unchanged.
CREATE_STAGE = """
    CREATE TEMP TABLE IF NOT EXISTS readings_stage
      (meter_id uuid, day date, wh bigint, quality text, source text, extra text) ON COMMIT DELETE ROWS
"""
MERGE_STAGE = """
    INSERT INTO consumption.readings (meter_id, day, wh, quality, source, extra)
    SELECT meter_id, day, wh, quality, source, extra::jsonb FROM readings_stage
    ON CONFLICT (meter_id, day) DO UPDATE
      SET wh = excluded.wh, quality = excluded.quality, source = excluded.source, extra = excluded.extra,
          collected_at = now()
      WHERE (consumption.readings.wh, consumption.readings.quality, consumption.readings.extra)
            IS DISTINCT FROM (excluded.wh, excluded.quality, excluded.extra)
"""


async def copy_merge(session: AsyncSession, create: str, stage: str, records: list[tuple], merge: str) -> None:
    """COPY (binary) ``records`` into the session-private ``stage`` table, then merge them in one statement."""
    raw = await (await session.connection()).get_raw_connection()
    conn = raw.driver_connection  # the asyncpg connection, inside the session's transaction
    await conn.execute(create)
    await conn.copy_records_to_table(stage, records=records)
    await conn.execute(merge)
    # ON COMMIT DELETE ROWS empties it only at the end of the transaction, which may merge several batches.
    await conn.execute(f"TRUNCATE {stage}")


async def upsert_readings(session: AsyncSession,
                          records: list[tuple[uuid.UUID, dt.date, int, str, str, str | None]]) -> None:
    """``records``: (meter_id, day, wh, quality, source, extra JSON), at most one per (meter_id, day)."""
    if records:
        await copy_merge(session, CREATE_STAGE, "readings_stage", records, MERGE_STAGE)


async def upsert_curve_days(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """``rows``: load_curve_days rows, at most one per (meter_id, day); what a row leaves out (the curve of a
    day that came with its peak only, or the reverse) keeps what was stored."""
    if not rows:
        return
    t = load_curve_days
    stmt = insert(t).values(rows)
    x = stmt.excluded
    await session.execute(stmt.on_conflict_do_update(
        index_elements=[t.c.meter_id, t.c.day],
        set_={"step_minutes": sa.func.coalesce(x.step_minutes, t.c.step_minutes),
              "watts": sa.func.coalesce(x.watts, t.c.watts), "max_va": sa.func.coalesce(x.max_va, t.c.max_va),
              "max_at": sa.func.coalesce(x.max_at, t.c.max_at), "source": x.source, "collected_at": sa.func.now()},
        where=sa.tuple_(t.c.step_minutes, t.c.watts, t.c.max_va, t.c.max_at).is_distinct_from(
            sa.tuple_(sa.func.coalesce(x.step_minutes, t.c.step_minutes), sa.func.coalesce(x.watts, t.c.watts),
                      sa.func.coalesce(x.max_va, t.c.max_va), sa.func.coalesce(x.max_at, t.c.max_at)))))


async def curve_days(session: AsyncSession, meter_id: uuid.UUID, start: dt.date, end: dt.date) -> list[sa.Row]:
    t = load_curve_days
    return list(await session.execute(
        sa.select(t.c.day, t.c.step_minutes, t.c.watts, t.c.max_va, t.c.max_at)
        .where(t.c.meter_id == meter_id, t.c.day >= start, t.c.day < end).order_by(t.c.day)))


async def max_power_days(session: AsyncSession, meter_id: uuid.UUID, start: dt.date, end: dt.date) -> list[sa.Row]:
    """Each day's maximum power: Data Connect's (with its moment) where collected, else the R151's kept with the
    day's reading (SGE gives no moment)."""
    t, r = load_curve_days, readings
    curve = (sa.select(t.c.day, t.c.max_va.label("va"), t.c.max_at.label("at"), t.c.source)
             .where(t.c.meter_id == meter_id, t.c.day >= start, t.c.day < end, t.c.max_va.is_not(None)))
    sge_va = r.c.extra["max_power_va"].astext.cast(sa.Integer)
    files = (sa.select(r.c.day, sge_va.label("va"), sa.null().label("at"), r.c.source)
             .where(r.c.meter_id == meter_id, r.c.day >= start, r.c.day < end, r.c.extra.has_key("max_power_va"),
                    r.c.day.not_in(sa.select(curve.subquery().c.day))))
    return list(await session.execute(sa.union_all(curve, files).order_by("day")))


async def erased_meters(session: AsyncSession, meter_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    hashes = {subject_hash(m): m for m in meter_ids}
    result = await session.execute(sa.select(erased_meters_table.c.subject_hash).where(
        erased_meters_table.c.subject_hash.in_(list(hashes))))
    return {hashes[h] for h in result.scalars()}


async def mark_erased(session: AsyncSession, meter_ids: list[uuid.UUID]) -> None:
    if meter_ids:
        await session.execute(insert(erased_meters_table).values(
            [{"subject_hash": subject_hash(m)} for m in meter_ids]).on_conflict_do_nothing())


async def upsert_meter(session: AsyncSession, meter_id: uuid.UUID, account_id: uuid.UUID, energy: str,
                       dso: str, address_hold: bool | None = None, hold_at: dt.datetime | None = None) -> None:
    """``address_hold`` None leaves the hold as it is; otherwise it applies unless a later decision is stored."""
    stmt = insert(meters).values(meter_id=meter_id, account_id=account_id, energy=energy, dso=dso,
                                 address_hold=bool(address_hold),
                                 hold_at=hold_at if address_hold is not None else None)
    newer = sa.and_(stmt.excluded.hold_at.is_not(None),
                    sa.or_(meters.c.hold_at.is_(None), stmt.excluded.hold_at >= meters.c.hold_at))
    await session.execute(stmt.on_conflict_do_update(
        index_elements=[meters.c.meter_id],
        set_={"account_id": stmt.excluded.account_id, "energy": stmt.excluded.energy, "dso": stmt.excluded.dso,
              "address_hold": sa.case((newer, stmt.excluded.address_hold), else_=meters.c.address_hold),
              "hold_at": sa.case((newer, stmt.excluded.hold_at), else_=meters.c.hold_at)},
        where=meters.c.erased_at.is_(None)))


async def meter_owner(session: AsyncSession, meter_id: uuid.UUID) -> tuple[uuid.UUID | None, str] | None:
    row = (await session.execute(sa.select(meters.c.account_id, meters.c.energy).where(
        meters.c.meter_id == meter_id, meters.c.erased_at.is_(None)))).first()
    return (row.account_id, row.energy) if row else None


async def daily(session: AsyncSession, meter_id: uuid.UUID, start: dt.date, end: dt.date, *,
                with_extra: bool = False) -> list[Any]:
    cols = [readings.c.day, readings.c.wh, readings.c.quality]
    if with_extra:
        cols.append(readings.c.extra)
    result = await session.execute(
        sa.select(*cols)
        .where(readings.c.meter_id == meter_id, readings.c.day >= start, readings.c.day < end)
        .order_by(readings.c.day))
    return named_rows(result)


async def stream_daily(session: AsyncSession, meter_id: uuid.UUID, start: dt.date, end: dt.date,
                       chunk: int = 1000) -> AsyncIterator[tuple[dt.date, int, str]]:
    """(day, Wh, quality) of [start, end) by day, from a server-side cursor (inside a transaction)."""
    result = await session.stream(
        sa.select(readings.c.day, readings.c.wh, readings.c.quality)
        .where(readings.c.meter_id == meter_id, readings.c.day >= start, readings.c.day < end)
        .order_by(readings.c.day).execution_options(yield_per=chunk))
    async for day, wh, quality in result:
        yield day, wh, quality


async def last_day(session: AsyncSession, meter_id: uuid.UUID) -> dt.date | None:
    return (await session.execute(sa.select(sa.func.max(readings.c.day))
                                  .where(readings.c.meter_id == meter_id))).scalar_one()


# What every reader of a meter uses: whose it is, its energy, whether it is shown, and what it is priced under.
METER_COLUMNS = (meters.c.meter_id, meters.c.account_id, meters.c.energy, meters.c.address_hold, meters.c.priced_key)


def _account_or_meters(account_id: uuid.UUID, meter_ids: list[uuid.UUID]) -> sa.ColumnElement[bool]:
    """The account's meters, and these (an erasure or an export names them too, as consent knows them)."""
    return sa.or_(meters.c.account_id == account_id, meters.c.meter_id.in_(meter_ids))


async def meter_info(session: AsyncSession, meter_id: uuid.UUID, *, lock: bool = False) -> sa.Row | None:
    """``lock``: for the workers, which write about the meter; an erasure waits until they commit, and a worker
    that comes after it finds no meter."""
    stmt = sa.select(*METER_COLUMNS).where(meters.c.meter_id == meter_id, meters.c.erased_at.is_(None))
    return (await session.execute(stmt.with_for_update(read=True) if lock else stmt)).first()


CONTRACT_COLUMNS = [c for c in contracts.c if c.name not in ("meter_id", "updated_at")]
METER_AND_CONTRACTS = (
    sa.select(*METER_COLUMNS, *[c.label(f"contract_{c.name}") for c in CONTRACT_COLUMNS])
    .select_from(meters.outerjoin(contracts, contracts.c.meter_id == meters.c.meter_id))
    .where(meters.c.meter_id == sa.bindparam("meter"), meters.c.erased_at.is_(None)))


async def meter_and_contracts(session: AsyncSession,
                              meter_id: uuid.UUID) -> tuple[sa.Row | None, dict[str, Any]]:
    """meter_info and meter_contracts (the contracts' columns by name) in one statement, for the most requested
    read."""
    rows = (await session.execute(METER_AND_CONTRACTS, {"meter": meter_id})).all()
    if not rows:
        return None, {}
    found = {r.contract_origin: SimpleNamespace(**{c.name: r._mapping[f"contract_{c.name}"] for c in CONTRACT_COLUMNS})
             for r in rows if r.contract_origin is not None}
    return rows[0], found


async def lock_meters(session: AsyncSession, account_id: uuid.UUID, meter_ids: list[uuid.UUID]) -> None:
    """Waits for the workers writing about these meters, and keeps new ones out until the transaction ends."""
    await session.execute(sa.select(meters.c.meter_id).where(_account_or_meters(account_id, meter_ids))
                          .order_by(meters.c.meter_id).with_for_update())  # in meter order, as the workers take them


async def held_meters(session: AsyncSession, account_id: uuid.UUID, meter_ids: list[uuid.UUID]) -> list[uuid.UUID]:
    """The account's meters (or these) whose data consent's accuracy control holds back."""
    result = await session.execute(
        sa.select(meters.c.meter_id).where(_account_or_meters(account_id, meter_ids), meters.c.address_hold,
                                           meters.c.erased_at.is_(None)))
    return list(result.scalars())


async def account_meters(session: AsyncSession, account_id: uuid.UUID) -> list[sa.Row]:
    result = await session.execute(
        sa.select(*METER_COLUMNS)
        .where(meters.c.account_id == account_id, meters.c.erased_at.is_(None))
        .order_by(meters.c.declared_at, meters.c.meter_id))
    return list(result.all())


async def accounts_with_meters(session: AsyncSession) -> list[uuid.UUID]:
    result = await session.execute(
        sa.select(meters.c.account_id).where(meters.c.erased_at.is_(None), meters.c.account_id.is_not(None))
        .distinct().order_by(meters.c.account_id))
    return list(result.scalars())


async def upsert_profile(session: AsyncSession, account_id: uuid.UUID, profile: dict[str, Any]) -> None:
    stmt = insert(profiles).values(account_id=account_id, profile=profile)
    await session.execute(stmt.on_conflict_do_update(
        index_elements=[profiles.c.account_id],
        set_={"profile": stmt.excluded.profile, "updated_at": sa.func.now()}))


async def profile_of(session: AsyncSession, account_id: uuid.UUID | None) -> dict[str, Any] | None:
    if account_id is None:
        return None
    return (await session.execute(sa.select(profiles.c.profile)
                                  .where(profiles.c.account_id == account_id))).scalar_one_or_none()


async def profile_updated_at(session: AsyncSession, account_id: uuid.UUID | None) -> dt.datetime | None:
    if account_id is None:
        return None
    return (await session.execute(sa.select(profiles.c.updated_at)
                                  .where(profiles.c.account_id == account_id))).scalar_one_or_none()


async def upsert_contract(session: AsyncSession, meter_id: uuid.UUID, origin: str, values: dict[str, Any]) -> None:
    stmt = insert(contracts).values(meter_id=meter_id, origin=origin, **values)
    await session.execute(stmt.on_conflict_do_update(
        index_elements=[contracts.c.meter_id, contracts.c.origin],
        set_={**{k: stmt.excluded[k] for k in values}, "updated_at": sa.func.now()}))


async def meter_contracts(session: AsyncSession, meter_id: uuid.UUID) -> dict[str, sa.Row]:
    result = await session.execute(sa.select(contracts).where(contracts.c.meter_id == meter_id))
    return {r.origin: r for r in result.all()}


async def contracts_of(session: AsyncSession, meter_ids: list[uuid.UUID]) -> list[sa.Row]:
    """The stored contracts of these meters, each with whose meter it is and whether its data is held."""
    result = await session.execute(
        sa.select(contracts, meters.c.account_id, meters.c.address_hold)
        .join(meters, meters.c.meter_id == contracts.c.meter_id)
        .where(contracts.c.meter_id.in_(meter_ids), meters.c.erased_at.is_(None)))
    return list(result.all())


async def latest_catalogue_ids(session: AsyncSession) -> dict[str, int]:
    result = await session.execute(sa.select(tariff_catalogues.c.energy, sa.func.max(tariff_catalogues.c.id))
                                   .group_by(tariff_catalogues.c.energy))
    return {energy: version for energy, version in result.all()}


async def catalogue(session: AsyncSession, version: int) -> sa.Row:
    return (await session.execute(sa.select(tariff_catalogues)
                                  .where(tariff_catalogues.c.id == version))).one()


async def catalogue_versions(session: AsyncSession, energy: str) -> list[sa.Row]:
    result = await session.execute(
        sa.select(tariff_catalogues.c.id, tariff_catalogues.c.energy, tariff_catalogues.c.source,
                  tariff_catalogues.c.rows, tariff_catalogues.c.created_at)
        .where(tariff_catalogues.c.energy == energy).order_by(tariff_catalogues.c.id.desc()))
    return list(result.all())


async def insert_catalogue(session: AsyncSession, energy: str, csv: str, source: str, rows: int,
                           uploaded_by: uuid.UUID | None) -> sa.Row:
    return (await session.execute(
        sa.insert(tariff_catalogues).values(energy=energy, csv=csv, source=source, rows=rows,
                                            uploaded_by=uploaded_by)
        .returning(tariff_catalogues.c.id, tariff_catalogues.c.energy, tariff_catalogues.c.source,
                   tariff_catalogues.c.rows, tariff_catalogues.c.created_at))).one()


PROFILED_METERS = sa.text("""
    SELECT m.meter_id, p.profile
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
                        end: dt.date) -> list[tuple[uuid.UUID, dict[str, Any], int | None, int]]:
    """Every profiled home of one energy with its total over the whole months [start, end) and its days with a
    reading."""
    homes = (await session.execute(PROFILED_METERS, {"energy": energy})).all()
    totals = {r.meter_id: (int(r.wh), int(r.days)) for r in await session.execute(
        PERIOD_TOTALS, {"start": start, "end": end, "energy": energy}) if r.days}
    return [(h.meter_id, h.profile, *totals.get(h.meter_id, (None, 0))) for h in homes]


async def meter_total(session: AsyncSession, meter_id: uuid.UUID, start: dt.date, end: dt.date) -> tuple[int, int]:
    """The meter's Wh and days with a reading over the whole months [start, end), from its rollups."""
    row = (await session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(monthly_rollups.c.wh), 0),
                  sa.func.coalesce(sa.func.sum(monthly_rollups.c.days_present), 0))
        .where(monthly_rollups.c.meter_id == meter_id, monthly_rollups.c.month >= start,
               monthly_rollups.c.month < end))).one()
    return int(row[0]), int(row[1])


async def meter_days_total(session: AsyncSession, meter_id: uuid.UUID, start: dt.date,
                           end: dt.date) -> tuple[int, int]:
    """The meter's Wh and days with a reading over the days [start, end), from its readings: for periods that
    are not whole months (a commitment's measured effect)."""
    row = (await session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(readings.c.wh), 0), sa.func.count())
        .where(readings.c.meter_id == meter_id, readings.c.day >= start, readings.c.day < end))).one()
    return int(row[0]), int(row[1])


# Whole months of the given (meter, month) pairs, recomputed from the readings and the priced days current for them
# (the same day and Wh and split): idempotent, a replay writes the same row.
ROLLUP_MONTHS = sa.text("""
    INSERT INTO consumption.monthly_rollups AS r
      (meter_id, month, energy, wh, eur, days, days_present, days_estimated, days_priced, flags, priced_key,
       updated_at)
    SELECT t.meter_id, t.month, m.energy, coalesce(sum(d.wh), 0), sum(p.eur),
           (t.month + interval '1 month')::date - t.month, count(d.day),
           count(d.day) FILTER (WHERE d.quality <> 'measured'), count(p.eur), coalesce(bit_or(p.flags), 0),
           m.priced_key, now()
    FROM unnest(CAST(:meters AS uuid[]), CAST(:months AS date[])) AS t(meter_id, month)
    JOIN consumption.meters m ON m.meter_id = t.meter_id
    LEFT JOIN consumption.readings d
      ON d.meter_id = t.meter_id AND d.day >= t.month AND d.day < (t.month + interval '1 month')::date
    LEFT JOIN consumption.priced_days p
      ON p.meter_id = d.meter_id AND p.day = d.day AND p.wh = d.wh AND p.extra IS NOT DISTINCT FROM d.extra
    GROUP BY t.meter_id, t.month, m.energy, m.priced_key
    ON CONFLICT (meter_id, month) DO UPDATE
      SET energy = excluded.energy, wh = excluded.wh, eur = excluded.eur, days = excluded.days,
          days_present = excluded.days_present, days_estimated = excluded.days_estimated,
          days_priced = excluded.days_priced, flags = excluded.flags, priced_key = excluded.priced_key,
          updated_at = excluded.updated_at
""")


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


async def enqueue(session: AsyncSession, queue: sa.Table, meter_ids: list[uuid.UUID]) -> None:
    """Work for a worker (anomaly scans, pricing): one row per meter, however often it is queued."""
    if meter_ids:
        stmt = insert(queue).values([{"meter_id": m} for m in sorted(set(meter_ids))])
        await session.execute(stmt.on_conflict_do_update(index_elements=[queue.c.meter_id],
                                                         set_={"queued_at": sa.func.now()}))


async def queue_scans(session: AsyncSession, meter_ids: list[uuid.UUID]) -> None:
    await enqueue(session, anomaly_scan_queue, meter_ids)


async def queue_pricing(session: AsyncSession, meter_ids: list[uuid.UUID],
                        since: dict[uuid.UUID, dt.date] | None = None) -> None:
    """``since``: each meter's earliest new reading (the worker then looks at its days from there only); without it
    every day of the meters is looked at again."""
    if not meter_ids:
        return
    stmt = insert(price_queue).values([{"meter_id": m, "since": (since or {}).get(m)} for m in sorted(set(meter_ids))])
    await session.execute(stmt.on_conflict_do_update(index_elements=[price_queue.c.meter_id], set_={
        "queued_at": sa.func.now(),
        "since": sa.case((sa.or_(price_queue.c.since.is_(None), stmt.excluded.since.is_(None)), None),
                         else_=sa.func.least(price_queue.c.since, stmt.excluded.since))}))


async def requeue_pricing(session: AsyncSession, *, energy: str | None = None,
                          account_id: uuid.UUID | None = None) -> None:
    """Every live meter of an energy (a new catalogue) or of an account (a new dwelling profile: gas is priced by
    its heating energy) is priced again."""
    where = [meters.c.erased_at.is_(None)]
    if energy is not None:
        where.append(meters.c.energy == energy)
    if account_id is not None:
        where.append(meters.c.account_id == account_id)
    stmt = insert(price_queue).from_select(["meter_id"], sa.select(meters.c.meter_id).where(*where))
    await session.execute(stmt.on_conflict_do_update(index_elements=[price_queue.c.meter_id],
                                                     set_={"queued_at": sa.func.now(), "since": None}))


async def pricing_backlog(session: AsyncSession) -> tuple[int, float]:
    """Meters waiting to be priced, and how long the oldest has waited in seconds (0 when none)."""
    waited = sa.func.now() - sa.func.min(price_queue.c.queued_at)
    row = (await session.execute(sa.select(sa.func.count(), sa.func.extract("epoch", waited)))).one()
    return row[0], float(row[1] or 0)


async def newest_days(session: AsyncSession, since: dt.date) -> dict[str, dt.date]:
    """The newest stored day of each source (the DSO channel), among the days from ``since``: the window keeps
    the scan to the latest partitions' recent rows."""
    result = await session.execute(sa.select(readings.c.source, sa.func.max(readings.c.day))
                                   .where(readings.c.day >= since).group_by(readings.c.source))
    return dict(result.all())


async def claim(session: AsyncSession, queue: sa.Table, limit: int) -> list[uuid.UUID]:
    """The oldest queued meters, taken off the queue inside the caller's transaction: other workers skip them
    meanwhile, and they are back on the queue if the transaction fails."""
    return list((await claim_rows(session, queue, limit)).keys())


async def claim_rows(session: AsyncSession, queue: sa.Table, limit: int) -> dict[uuid.UUID, Any]:
    """claim, with each meter's queued row (the pricing queue's ``since``)."""
    oldest = (sa.select(queue.c.meter_id).order_by(queue.c.queued_at).limit(limit)
              .with_for_update(skip_locked=True))
    result = await session.execute(sa.delete(queue).where(queue.c.meter_id.in_(oldest.scalar_subquery()))
                                   .returning(*queue.c))
    return {r.meter_id: r for r in result.all()}


# --- the priced-days read model -----------------------------------------------------------------------------

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
            "UPDATE consumption.meters m SET priced_key = k.key "
            "FROM unnest(CAST(:meters AS uuid[]), CAST(:keys AS text[])) AS k(meter_id, key) "
            "WHERE m.meter_id = k.meter_id AND m.priced_key IS DISTINCT FROM k.key"),
            {"meters": list(keys), "keys": list(keys.values())})


async def meters_to_price(session: AsyncSession, meter_ids: list[uuid.UUID]) -> list[tuple[sa.Row, dict[str, Any],
                                                                                           dict[str, Any] | None]]:
    """For the pricing worker, in three statements whatever their number: each live meter (locked as meter_info
    does), its contracts by origin and its account's profile."""
    found = (await session.execute(sa.select(*METER_COLUMNS).where(
        meters.c.meter_id.in_(meter_ids), meters.c.erased_at.is_(None))
        .order_by(meters.c.meter_id).with_for_update(read=True))).all()
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


async def record_episodes(session: AsyncSession, rows: list[dict[str, Any]]) -> set[str]:
    """Inserts the episodes not yet announced; returns the keys that are new."""
    if not rows:
        return set()
    result = await session.execute(insert(anomaly_episodes).values(rows).on_conflict_do_nothing()
                                   .returning(anomaly_episodes.c.episode_key))
    return set(result.scalars())


async def recent_episodes(session: AsyncSession, meter_ids: list[uuid.UUID], since: dt.date) -> list[sa.Row]:
    if not meter_ids:
        return []
    result = await session.execute(
        sa.select(anomaly_episodes).where(anomaly_episodes.c.meter_id.in_(meter_ids),
                                          anomaly_episodes.c.end >= since)
        .order_by(anomaly_episodes.c.start.desc()))
    return list(result.all())


async def statement_meter(session: AsyncSession, meter_id: uuid.UUID, *, lock: bool = False) -> sa.Row | None:
    """``lock``: statements of one meter are checked and spread one after the other."""
    stmt = sa.select(meters.c.meter_id, meters.c.account_id, meters.c.energy, meters.c.dso).where(
        meters.c.meter_id == meter_id, meters.c.erased_at.is_(None))
    return (await session.execute(stmt.with_for_update() if lock else stmt)).first()


async def meter_statements(session: AsyncSession, meter_id: uuid.UUID) -> list[sa.Row]:
    return list(await session.execute(sa.select(statements).where(statements.c.meter_id == meter_id)
                                      .order_by(statements.c.taken_on)))


async def insert_statement(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(sa.insert(statements).values(**values))


async def manual_days(session: AsyncSession, meter_id: uuid.UUID, source: str) -> set[dt.date]:
    return set((await session.execute(sa.select(readings.c.day).where(
        readings.c.meter_id == meter_id, readings.c.source == source))).scalars())


async def delete_readings(session: AsyncSession, meter_id: uuid.UUID, days: list[dt.date]) -> None:
    await session.execute(sa.delete(readings).where(readings.c.meter_id == meter_id, readings.c.day.in_(days)))


# --- portfolios (organisations' meters) ------------------------------------------------------------------------

async def owned_meters(session: AsyncSession, account_id: uuid.UUID, meter_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Energy of each of these meters the account holds (not erased)."""
    rows = await session.execute(sa.select(meters.c.meter_id, meters.c.energy).where(
        meters.c.meter_id.in_(meter_ids), meters.c.account_id == account_id, meters.c.erased_at.is_(None)))
    return {r.meter_id: r.energy for r in rows}


async def rollups_of(session: AsyncSession, meter_ids: list[uuid.UUID], start: dt.date,
                     end: dt.date) -> list[sa.Row]:
    """The monthly rollups of these meters for the months in [start, end)."""
    return list((await session.execute(sa.select(
        monthly_rollups.c.meter_id, monthly_rollups.c.month, monthly_rollups.c.wh, monthly_rollups.c.eur,
        monthly_rollups.c.days, monthly_rollups.c.days_present, monthly_rollups.c.days_estimated)
        .where(monthly_rollups.c.meter_id.in_(meter_ids), monthly_rollups.c.month >= start,
               monthly_rollups.c.month < end))).all())
