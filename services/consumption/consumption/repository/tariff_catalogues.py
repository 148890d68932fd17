"""The tariff catalogues, versioned per energy."""
from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from consumption.models import tariff_catalogues


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
