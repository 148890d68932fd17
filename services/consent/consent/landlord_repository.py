"""SQL of the landlord statements: a housing building's dwellings, the tenant linked to a dwelling by an
invitation code, and the role of each building meter in the statements."""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from consent.models import building_dwellings, building_meter_roles, building_meters, buildings, meters, organisations

DWELLING_COLUMNS = (building_dwellings.c.id, building_dwellings.c.building_id, building_dwellings.c.label,
                    building_dwellings.c.floor_area_m2, building_dwellings.c.heating_tantiemes,
                    building_dwellings.c.hot_water_tantiemes,
                    building_dwellings.c.tenant_account_id.is_not(None).label("tenant_linked"),
                    building_dwellings.c.created_at)


async def insert_dwelling(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(sa.insert(building_dwellings).values(**values))


async def update_dwelling(session: AsyncSession, building_id: uuid.UUID, dwelling_id: uuid.UUID,
                          values: dict[str, Any]) -> bool:
    result = await session.execute(sa.update(building_dwellings).where(
        building_dwellings.c.id == dwelling_id, building_dwellings.c.building_id == building_id).values(**values))
    return result.rowcount == 1


async def dwellings_of(session: AsyncSession, building_id: uuid.UUID) -> list[sa.Row]:
    return list((await session.execute(sa.select(*DWELLING_COLUMNS).where(
        building_dwellings.c.building_id == building_id).order_by(building_dwellings.c.label))).all())


async def dwelling_in(session: AsyncSession, building_id: uuid.UUID, dwelling_id: uuid.UUID) -> sa.Row | None:
    return (await session.execute(sa.select(*DWELLING_COLUMNS).where(
        building_dwellings.c.id == dwelling_id, building_dwellings.c.building_id == building_id))).first()


async def set_invitation(session: AsyncSession, dwelling_id: uuid.UUID, code_hash: str,
                         expires_at: dt.datetime) -> None:
    await session.execute(sa.update(building_dwellings).where(building_dwellings.c.id == dwelling_id)
                          .values(invite_hash=code_hash, invite_expires_at=expires_at))


async def accept_invitation(session: AsyncSession, code_hash: str, tenant_id: uuid.UUID) -> uuid.UUID | None:
    """Links the tenant to the dwelling whose unexpired code this is (the code is used up); its id, or None."""
    return (await session.execute(
        sa.update(building_dwellings)
        .where(building_dwellings.c.invite_hash == code_hash, building_dwellings.c.invite_expires_at > sa.func.now())
        .values(tenant_account_id=tenant_id, invite_hash=None, invite_expires_at=None)
        .returning(building_dwellings.c.id))).scalar_one_or_none()


async def unlink_tenant(session: AsyncSession, tenant_id: uuid.UUID, dwelling_id: uuid.UUID) -> bool:
    result = await session.execute(sa.update(building_dwellings).where(
        building_dwellings.c.id == dwelling_id, building_dwellings.c.tenant_account_id == tenant_id)
        .values(tenant_account_id=None))
    return bool(result.rowcount)


async def tenant_dwellings(session: AsyncSession, tenant_id: uuid.UUID) -> list[sa.Row]:
    """(dwelling id, building id, organisation id) of the dwellings the tenant is linked to."""
    return list((await session.execute(
        sa.select(building_dwellings.c.id, buildings.c.id.label("building_id"), buildings.c.org_id)
        .join(buildings, buildings.c.id == building_dwellings.c.building_id)
        .where(building_dwellings.c.tenant_account_id == tenant_id).order_by(building_dwellings.c.label))).all())


async def building_with_org(session: AsyncSession, building_id: uuid.UUID) -> sa.Row | None:
    return (await session.execute(
        sa.select(buildings, organisations.c.name.label("organisation"))
        .join(organisations, organisations.c.id == buildings.c.org_id)
        .where(buildings.c.id == building_id))).first()


async def statement_meters(session: AsyncSession, building_id: uuid.UUID) -> list[sa.Row]:
    """The building's meters (released ones left out) with their role in the statements (NULL: none set)."""
    return list((await session.execute(
        sa.select(meters.c.id, meters.c.identifier, meters.c.label, meters.c.energy, building_meter_roles.c.role,
                  building_meter_roles.c.dwelling_id)
        .select_from(building_meters)
        .join(meters, meters.c.id == building_meters.c.meter_id)
        .outerjoin(building_meter_roles, building_meter_roles.c.meter_id == meters.c.id)
        .where(building_meters.c.building_id == building_id, meters.c.released_at.is_(None))
        .order_by(meters.c.created_at))).all())


async def set_meter_role(session: AsyncSession, meter_id: uuid.UUID, role: str,
                         dwelling_id: uuid.UUID | None) -> None:
    stmt = insert(building_meter_roles).values(meter_id=meter_id, role=role, dwelling_id=dwelling_id)
    await session.execute(stmt.on_conflict_do_update(index_elements=[building_meter_roles.c.meter_id],
                                                     set_={"role": role, "dwelling_id": dwelling_id}))
