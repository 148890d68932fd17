"""Every SQL statement of ingest-enedis: its collection tables take the shared statements as they are."""
from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ingest_enedis.models import (collected_ranges, curve_collected_ranges, curve_cursors, curve_gaps, cursors, cycles,
                                  ended_consents, meter_activity, raw_payloads)
from metro.collection import CollectionStore, collected_ranges as ranges_of

store = CollectionStore("enedis", cursors=cursors, collected_ranges=collected_ranges, cycles=cycles,
                        raw_payloads=raw_payloads, ended_consents=ended_consents)
report = store.report

curve_store = CollectionStore("enedis-curve", cursors=curve_cursors, collected_ranges=curve_collected_ranges,
                              cycles=cycles, raw_payloads=raw_payloads, ended_consents=ended_consents, gaps=curve_gaps)


async def curve_due(session: AsyncSession, meter_id: uuid.UUID, at: dt.datetime) -> None:
    t = curve_cursors
    await session.execute(sa.update(t).where(t.c.meter_id == meter_id).values(next_due_at=at))


async def request_backfill(session: AsyncSession, meter_id: uuid.UUID, since: dt.date) -> sa.Row | None:
    """The resident wants the curve back to ``since``: the meter is due now unless it already goes back further."""
    t = curve_cursors
    return (await session.execute(
        sa.update(t).where(t.c.meter_id == meter_id)
        .values(backfill_from=sa.func.least(sa.func.coalesce(t.c.backfill_from, since), since),
                next_due_at=sa.case((t.c.active, sa.func.now()), else_=t.c.next_due_at))
        .returning(t.c.active, t.c.backfill_from, t.c.last_outcome, t.c.last_error))).one_or_none()


async def daily_started(session: AsyncSession, meter_id: uuid.UUID) -> bool:
    """Whether the meter's daily readings have had an answer from the DSO (or an outcome) yet."""
    c = cursors.c
    return bool((await session.execute(sa.select(sa.or_(c.last_success_at.is_not(None), c.last_outcome.is_not(None)))
                                       .where(c.meter_id == meter_id))).scalar_one_or_none())


async def backfill_from(session: AsyncSession, meter_id: uuid.UUID) -> dt.date | None:
    t = curve_cursors
    return (await session.execute(sa.select(t.c.backfill_from).where(t.c.meter_id == meter_id))).scalar_one_or_none()


async def curve_state(session: AsyncSession, meter_id: uuid.UUID) -> tuple[sa.Row | None, list]:
    t = curve_cursors
    row = (await session.execute(sa.select(t.c.active, t.c.backfill_from, t.c.last_outcome, t.c.last_error,
                                           t.c.last_day, t.c.lease_owner).where(t.c.meter_id == meter_id))
           ).one_or_none()
    return row, await ranges_of(session, curve_collected_ranges, meter_id)


async def mark_seen(session: AsyncSession, meter_ids: list[uuid.UUID], at: dt.datetime, newest_day: dt.date,
                    pull: Callable[[dt.datetime | None, dt.datetime], dt.datetime | None]
                    ) -> dict[uuid.UUID, dt.datetime]:
    """The resident looked at these meters (one write per meter and hour at most): those waiting for their turn
    under the quota while the DSO has published days they lack are due when ``pull`` says (given their last
    collection and due time; None: unchanged); returns them with that time."""
    if not meter_ids:
        return {}
    c = cursors.c
    waiting = (await session.execute(sa.select(c.meter_id, c.last_success_at, c.next_due_at).where(
        c.meter_id.in_(meter_ids), c.active, c.next_due_at > at,
        sa.or_(c.last_day.is_(None), c.last_day < newest_day)))).all()
    pulled = {row.meter_id: due for row in waiting if (due := pull(row.last_success_at, row.next_due_at)) is not None}
    for meter_id, due in pulled.items():  # the few meters of one resident
        # least(): a collection that ended meanwhile set a later due time; an earlier one stays.
        await session.execute(sa.update(cursors).where(c.meter_id == meter_id)
                              .values(next_due_at=sa.func.least(c.next_due_at, due)))
    t = meter_activity
    stmt = insert(t).values([{"meter_id": m, "seen_at": at} for m in meter_ids])
    await session.execute(stmt.on_conflict_do_update(
        index_elements=[t.c.meter_id], set_={"seen_at": stmt.excluded.seen_at},
        where=t.c.seen_at < stmt.excluded.seen_at - dt.timedelta(hours=1)))
    return pulled


async def seen_at(session: AsyncSession, meter_id: uuid.UUID) -> dt.datetime | None:
    t = meter_activity
    return (await session.execute(sa.select(t.c.seen_at).where(t.c.meter_id == meter_id))).scalar_one_or_none()


async def demand(session: AsyncSession, seen_since: dt.datetime) -> tuple[int, int, int]:
    """Meters under consent, how many of them their resident looked at since ``seen_since``, and how many were
    never collected yet."""
    c, a = cursors.c, meter_activity.c
    row = (await session.execute(
        sa.select(sa.func.count(), sa.func.count(a.seen_at),
                  sa.func.count().filter(c.last_success_at.is_(None)))
        .select_from(cursors.outerjoin(meter_activity, sa.and_(a.meter_id == c.meter_id, a.seen_at >= seen_since)))
        .where(c.active))).one()
    return int(row[0]), int(row[1]), int(row[2])
