"""The landlord statements' one read: a month's rollup of each of a building's meters the organisation holds."""
from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

# Meters the holder does not hold (or erased) are left out; a held meter without a rollup that month comes with
# no Wh (nothing measured yet), so the statement says so rather than leaving it out.
HELD_MONTH = sa.text("""
    SELECT m.meter_id, m.energy, r.wh, r.eur, r.days_present
    FROM consumption.meters m
    LEFT JOIN consumption.monthly_rollups r ON r.meter_id = m.meter_id AND r.month = :month
    WHERE m.meter_id = ANY(CAST(:meters AS uuid[])) AND m.account_id = :holder AND m.erased_at IS NULL
""")


async def held_month(session: AsyncSession, holder: uuid.UUID, meter_ids: list[uuid.UUID],
                     month: dt.date) -> dict[uuid.UUID, sa.Row]:
    """Each of these meters the holder holds, with its rollup of the month starting on ``month`` (or NULLs)."""
    if not meter_ids:
        return {}
    rows = await session.execute(HELD_MONTH, {"holder": holder, "meters": meter_ids, "month": month})
    return {r.meter_id: r for r in rows}
