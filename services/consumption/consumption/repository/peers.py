"""The peer statistics the worker keeps (consumption.peer_statistics): the periods, their groups, the changes since."""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from consumption.models import peer_changes, peer_groups, peer_periods

# What a comparison reads before the groups, in one statement: the meter's totals over the period and the same months
# last year (its rollups), its dwelling's profile and when it was described, and the period as the worker keeps it
# (computed when, with which degree days, over how many homes, and whether anything changed since).
COMPARISON_DATA = sa.text("""
    SELECT t.wh, t.present, l.wh AS last_year_wh, l.present AS last_year_present,
           pr.profile, pr.updated_at AS described_at, p.energy IS NOT NULL AS kept, p.computed_at, p.degree_days,
           p.homes,
           EXISTS (SELECT 1 FROM consumption.peer_changes c WHERE c.energy = p.energy
                   AND c.period_start = p.period_start AND c.period_end = p.period_end) AS changed
    FROM (SELECT coalesce(sum(wh), 0)::bigint AS wh, coalesce(sum(days_present), 0)::int AS present
          FROM consumption.monthly_rollups WHERE meter_id = :meter AND month >= :start AND month < :end) t
    CROSS JOIN (SELECT coalesce(sum(wh), 0)::bigint AS wh, coalesce(sum(days_present), 0)::int AS present
                FROM consumption.monthly_rollups
                WHERE meter_id = :meter AND month >= :ly_start AND month < :ly_end) l
    LEFT JOIN consumption.profiles pr ON pr.account_id = :account
    LEFT JOIN consumption.peer_periods p ON p.energy = :energy AND p.period_start = :start AND p.period_end = :end
""")


async def comparison_data(session: AsyncSession, meter: sa.Row, start: dt.date, end: dt.date, ly_start: dt.date,
                          ly_end: dt.date) -> sa.Row:
    return (await session.execute(COMPARISON_DATA, {
        "meter": meter.meter_id, "account": meter.account_id, "energy": meter.energy, "start": start, "end": end,
        "ly_start": ly_start, "ly_end": ly_end})).one()


async def peer_homes(session: AsyncSession, energy: str) -> int | None:
    """How many homes of this energy the last computation of any period read (None before the first)."""
    return (await session.execute(sa.select(sa.func.max(peer_periods.c.homes))
                                  .where(peer_periods.c.energy == energy))).scalar_one()


async def request_peer_periods(session: AsyncSession, periods: list[tuple[str, dt.date, dt.date]]) -> None:
    """These periods are wanted (again): kept, and computed if they never were."""
    if periods:
        stmt = insert(peer_periods).values([{"energy": e, "period_start": s, "period_end": t} for e, s, t in periods])
        await session.execute(stmt.on_conflict_do_update(index_elements=list(peer_periods.primary_key.columns),
                                                         set_={"requested_at": sa.func.now()}))


async def forget_peer_periods(session: AsyncSession, older_than: dt.timedelta) -> int:
    """Periods nobody asked for since, with their groups and changes."""
    gone = await session.execute(sa.delete(peer_periods).where(peer_periods.c.requested_at < sa.func.now() - older_than)
                                 .returning(peer_periods.c.energy, peer_periods.c.period_start,
                                            peer_periods.c.period_end))
    gone = gone.all()
    for energy, start, end in gone:
        await session.execute(sa.delete(peer_changes).where(
            peer_changes.c.energy == energy, peer_changes.c.period_start == start, peer_changes.c.period_end == end))
    return len(gone)


# Due: never computed; changed since and computed more than :every seconds ago; or older than :max_age seconds.
DUE_PEER_PERIODS = sa.text("""
    SELECT p.energy, p.period_start, p.period_end
    FROM consumption.peer_periods p
    WHERE p.computed_at IS NULL
       OR p.computed_at <= now() - make_interval(secs => :max_age)
       OR (p.computed_at <= now() - make_interval(secs => :every)
           AND EXISTS (SELECT 1 FROM consumption.peer_changes c WHERE c.energy = p.energy
                       AND c.period_start = p.period_start AND c.period_end = p.period_end))
    ORDER BY p.computed_at NULLS FIRST, p.period_end DESC
""")


async def due_peer_periods(session: AsyncSession, *, every: float, max_age: float) -> list[tuple[str, dt.date, dt.date]]:
    return [tuple(r) for r in await session.execute(DUE_PEER_PERIODS, {"every": every, "max_age": max_age})]


async def peer_changes_of(session: AsyncSession, energy: str, start: dt.date, end: dt.date) -> list[int]:
    """The period's logged changes, read in the computation's snapshot: only those are forgotten with its result."""
    return list((await session.execute(sa.select(peer_changes.c.id).where(
        peer_changes.c.energy == energy, peer_changes.c.period_start == start,
        peer_changes.c.period_end == end))).scalars())


async def store_peer_groups(session: AsyncSession, energy: str, start: dt.date, end: dt.date,
                            groups: list[dict[str, Any]], *, changes: list[int], computed_at: dt.datetime,
                            degree_days: str, homes: int, seconds: float) -> None:
    """The period's groups replaced by these, its changes read before forgotten, its computation recorded."""
    period = {"energy": energy, "period_start": start, "period_end": end}
    await session.execute(sa.delete(peer_groups).where(
        peer_groups.c.energy == energy, peer_groups.c.period_start == start, peer_groups.c.period_end == end))
    for i in range(0, len(groups), 2_000):
        await session.execute(sa.insert(peer_groups), [{**period, **g} for g in groups[i:i + 2_000]])
    if changes:
        await session.execute(sa.delete(peer_changes).where(peer_changes.c.id.in_(changes)))
    await session.execute(sa.update(peer_periods).where(
        peer_periods.c.energy == energy, peer_periods.c.period_start == start, peer_periods.c.period_end == end)
        .values(computed_at=computed_at, degree_days=degree_days, homes=homes, seconds=seconds))


# The first of the home's groups (its (level, key) pairs, in level order) with at least :min_size homes, counting
# :extra more (the home itself when it is not among them): the group comparison.choose takes. Each (level, key) probed by the primary key (LATERAL: whatever the row estimates, never a walk through the
# period's thousands of groups), the group chosen from the sizes alone: only its own distributions are read.
FIRST_GROUP = sa.text("""
    SELECT g.*
    FROM unnest(CAST(:levels AS smallint[]), CAST(:keys AS text[])) AS k(level, key)
    CROSS JOIN LATERAL (
        SELECT * FROM consumption.peer_groups g
        WHERE g.energy = :energy AND g.period_start = :start AND g.period_end = :end AND g.level = k.level
          AND g.key = k.key
        LIMIT 1  -- the key is unique; the limit keeps the planner from flattening the probe into a join
    ) g
    WHERE g.kwh_n + :extra >= :min_size
    ORDER BY g.level
    LIMIT 1
""")


async def first_peer_group(session: AsyncSession, energy: str, start: dt.date, end: dt.date,
                           keys: list[tuple[int, str]], *, extra: int, min_size: int) -> sa.Row | None:
    if not keys:
        return None
    return (await session.execute(FIRST_GROUP, {
        "energy": energy, "start": start, "end": end, "levels": [k[0] for k in keys], "keys": [k[1] for k in keys],
        "extra": extra, "min_size": min_size})).one_or_none()


async def export_snapshot(session: AsyncSession) -> str:
    """The transaction's snapshot, for another session to read exactly what it reads (while it stays open)."""
    return (await session.execute(sa.select(sa.func.pg_export_snapshot()))).scalar_one()


async def import_snapshot(session: AsyncSession, snapshot: str) -> None:
    """This REPEATABLE READ transaction reads from ``snapshot`` (export_snapshot's), as its first statement."""
    if not re.fullmatch(r"[0-9A-F]+-[0-9A-F]+-[0-9]+", snapshot):  # SET takes no parameter: the id is checked
        raise ValueError(f"not a snapshot id: {snapshot!r}")
    await session.execute(sa.text(f"SET TRANSACTION SNAPSHOT '{snapshot}'"))


# One computation at a time across replicas (a transaction-scoped advisory lock).
PEERS_LOCK_KEY = sa.func.hashtextextended("consumption.peers", 0)


async def try_lock_peers(session: AsyncSession) -> bool:
    return bool((await session.execute(sa.select(sa.func.pg_try_advisory_xact_lock(PEERS_LOCK_KEY)))).scalar())
