"""Renovations declared on an organisation's building (by a manager) or on a resident's dwelling: consent knows
the building's or the dwelling's meters and heating energy, and hands them to consumption with the declaration
(renovation.declared), which weighs the 12 months before against the 12 after. A meter attached later is not
counted: the figures compare the same meters on both sides."""
from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from consent import orgs, repository, service
from metro.events import RenovationDeclared
from metro.outbox import Outbox
from metro.schemas.orgs import OrgRole
from metro.schemas.renovations import RenovationCreate


async def _declare(session: AsyncSession, outbox: Outbox, holder_id: uuid.UUID, building_id: uuid.UUID | None,
                   heating_energy: str | None, meter_ids: list[uuid.UUID], body: RenovationCreate) -> dict:
    renovation_id = uuid.uuid4()
    await outbox.add(session, RenovationDeclared(
        renovation_id=renovation_id, holder_id=holder_id, building_id=building_id, day=body.day,
        works=body.works.value, programme=body.programme, heating_energy=heating_energy, meter_ids=meter_ids))
    return {"id": renovation_id, "day": body.day, "works": body.works, "programme": body.programme,
            "building_id": building_id, "meters": len(meter_ids)}


async def on_building(session: AsyncSession, outbox: Outbox, account_id: uuid.UUID, org_id: uuid.UUID,
                      building_id: uuid.UUID, body: RenovationCreate) -> dict:
    """A manager declares works on one of the organisation's buildings."""
    building = await orgs.building(session, account_id, org_id, building_id, need=OrgRole.manager)
    meters = [m.id for m in await repository.building_meter_rows(session, [building_id])]
    return await _declare(session, outbox, org_id, building_id, building.heating_energy, meters, body)


async def on_dwelling(session: AsyncSession, outbox: Outbox, account_id: uuid.UUID, body: RenovationCreate) -> dict:
    """A resident declares works on their dwelling (described first: its heating energy is what is normalised)."""
    dwelling = await service.get_dwelling(session, account_id)
    meters = [m.id for m in await repository.account_meters(session, account_id) if m.released_at is None]
    heating = dwelling.heating_energy.value if dwelling.heating_energy else None
    return await _declare(session, outbox, account_id, None, heating, meters, body)
