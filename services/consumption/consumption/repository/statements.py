"""A manual meter's statements."""
from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from consumption.models import meters, statements


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
