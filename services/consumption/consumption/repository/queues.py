"""The workers' queues (pricing, anomaly scans): meters queued, then claimed inside a transaction."""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, UUID, insert
from sqlalchemy.ext.asyncio import AsyncSession

from consumption.models import anomaly_scan_queue, meters, price_queue


async def enqueue(session: AsyncSession, queue: sa.Table, meter_ids: list[uuid.UUID]) -> None:
    """Work for a worker (anomaly scans, pricing): one row per meter, however often it is queued."""
    if meter_ids:
        await session.execute(_enqueue(queue, sorted(set(meter_ids))))


def _enqueue(queue: sa.Table, ids: list[uuid.UUID]) -> Any:
    # The meters as one array parameter: one statement text whatever their number, compiled once.
    rows = sa.select(sa.func.unnest(sa.literal(ids, ARRAY(UUID(as_uuid=True)))))
    stmt = insert(queue).from_select([queue.c.meter_id], rows)
    return stmt.on_conflict_do_update(index_elements=[queue.c.meter_id], set_={"queued_at": sa.func.now()})


async def queue_pricing(session: AsyncSession, meter_ids: list[uuid.UUID],
                        since: dict[uuid.UUID, dt.date] | None = None) -> None:
    """``since``: each meter's earliest new reading (the worker then looks at its days from there only); without it
    every day of the meters is looked at again."""
    if meter_ids:
        await session.execute(_pricing(sorted(set(meter_ids)), since))


async def queue_scans_and_pricing(session: AsyncSession, meter_ids: list[uuid.UUID],
                                  since: dict[uuid.UUID, dt.date] | None = None) -> None:
    """queue_scans and queue_pricing in one statement: new readings feed both queues, a batch at a time."""
    if meter_ids:
        ids = sorted(set(meter_ids))
        await session.execute(_pricing(ids, since).add_cte(_enqueue(anomaly_scan_queue, ids).cte("scans")))


def _pricing(ids: list[uuid.UUID], since: dict[uuid.UUID, dt.date] | None) -> Any:
    rows = sa.func.unnest(sa.literal(ids, ARRAY(UUID(as_uuid=True))),
                          sa.literal([(since or {}).get(m) for m in ids], ARRAY(sa.Date))
                          ).table_valued("meter_id", "since").render_derived()
    stmt = insert(price_queue).from_select([price_queue.c.meter_id, price_queue.c.since],
                                           sa.select(rows.c.meter_id, rows.c.since))
    return stmt.on_conflict_do_update(index_elements=[price_queue.c.meter_id], set_={
        "queued_at": sa.func.now(),
        "since": sa.case((sa.or_(price_queue.c.since.is_(None), stmt.excluded.since.is_(None)), None),
                         else_=sa.func.least(price_queue.c.since, stmt.excluded.since))})


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
