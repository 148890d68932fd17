"""Landlord statements, the consent service's part: a housing building's dwellings (label, floor area, tantièmes
of the collective heating and hot water), which building meter is the collective heating or hot water or one
dwelling's own, and the tenant linked to a dwelling. The tenant links themselves: the manager hands them an
invitation code, the tenant enters it in their app; a manager never picks an account. A member of the
organisation reads the building's statements; a linked tenant reads their dwelling's only; anyone else learns
nothing (404)."""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from consent import landlord_repository as repo
from consent import orgs
from metro.errors import Conflict, NotFound
from metro.schemas.landlord import (DwellingCreate, MeterRole, MeterRoleUpdate, OrgDwelling, StatementInput,
                                    StatementMeter, TenantInvitation)
from metro.schemas.orgs import OrgRole, UseType

INVITATION_DAYS = 30
# No 0/O, 1/I/L: read aloud or copied from paper without doubt.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def _code_hash(code: str) -> str:
    normal = "".join(c for c in code.upper() if c.isalnum())
    return hashlib.sha256(normal.encode()).hexdigest()


async def _housing(session: AsyncSession, account_id: uuid.UUID, org_id: uuid.UUID, building_id: uuid.UUID,
                   need: OrgRole = OrgRole.viewer):
    building = await orgs.building(session, account_id, org_id, building_id, need=need)
    if building.use_type != UseType.housing.value:
        raise Conflict("statements are made for housing buildings", code="building_not_housing")
    return building


async def add_dwelling(session: AsyncSession, account_id: uuid.UUID, org_id: uuid.UUID, building_id: uuid.UUID,
                       body: DwellingCreate) -> OrgDwelling:
    await _housing(session, account_id, org_id, building_id, OrgRole.manager)
    dwelling_id = uuid.uuid4()
    await repo.insert_dwelling(session, {"id": dwelling_id, "building_id": building_id, **body.model_dump()})
    return OrgDwelling(**(await repo.dwelling_in(session, building_id, dwelling_id))._mapping)


async def update_dwelling(session: AsyncSession, account_id: uuid.UUID, org_id: uuid.UUID, building_id: uuid.UUID,
                          dwelling_id: uuid.UUID, body: DwellingCreate) -> OrgDwelling:
    """A manager corrects a dwelling's label, floor area or tantièmes (the tenant stays linked)."""
    await _housing(session, account_id, org_id, building_id, OrgRole.manager)
    if not await repo.update_dwelling(session, building_id, dwelling_id, body.model_dump()):
        raise NotFound("no such dwelling in this building", code="dwelling_not_found")
    return OrgDwelling(**(await repo.dwelling_in(session, building_id, dwelling_id))._mapping)


async def dwellings(session: AsyncSession, account_id: uuid.UUID, org_id: uuid.UUID,
                    building_id: uuid.UUID) -> list[OrgDwelling]:
    await _housing(session, account_id, org_id, building_id)
    return [OrgDwelling(**r._mapping) for r in await repo.dwellings_of(session, building_id)]


async def set_meter_role(session: AsyncSession, account_id: uuid.UUID, org_id: uuid.UUID, building_id: uuid.UUID,
                         meter_id: uuid.UUID, body: MeterRoleUpdate) -> StatementMeter:
    await _housing(session, account_id, org_id, building_id, OrgRole.manager)
    meter = next((m for m in await repo.statement_meters(session, building_id) if m.id == meter_id), None)
    if meter is None:
        raise NotFound("no such meter in this building", code="meter_not_found")
    dwelling_id = body.dwelling_id if body.role is MeterRole.dwelling else None
    if body.role is MeterRole.dwelling and (
            dwelling_id is None or await repo.dwelling_in(session, building_id, dwelling_id) is None):
        raise NotFound("no such dwelling in this building", code="dwelling_not_found")
    await repo.set_meter_role(session, meter_id, body.role.value, dwelling_id)
    return StatementMeter(meter_id=meter.id, identifier=meter.identifier, label=meter.label, energy=meter.energy,
                          role=body.role, dwelling_id=dwelling_id)


async def invite_tenant(session: AsyncSession, account_id: uuid.UUID, org_id: uuid.UUID, building_id: uuid.UUID,
                        dwelling_id: uuid.UUID) -> TenantInvitation:
    """A new code for the dwelling (the previous one stops working); the tenant who accepts it is linked."""
    await _housing(session, account_id, org_id, building_id, OrgRole.manager)
    if await repo.dwelling_in(session, building_id, dwelling_id) is None:
        raise NotFound("no such dwelling in this building", code="dwelling_not_found")
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
    code = "-".join(raw[i:i + 4] for i in range(0, 12, 4))
    expires_at = dt.datetime.now(dt.UTC) + dt.timedelta(days=INVITATION_DAYS)
    await repo.set_invitation(session, dwelling_id, _code_hash(code), expires_at)
    return TenantInvitation(code=code, expires_at=expires_at)


async def accept_invitation(session: AsyncSession, tenant_id: uuid.UUID, code: str) -> list[dict]:
    """The tenant enters the code; they are linked to its dwelling. An unknown, used or expired code: 404."""
    if await repo.accept_invitation(session, _code_hash(code), tenant_id) is None:
        raise NotFound("this code is unknown, used or expired; ask your landlord for a new one",
                       code="invitation_not_found")
    return await tenant_inputs(session, tenant_id)


async def leave(session: AsyncSession, tenant_id: uuid.UUID, dwelling_id: uuid.UUID) -> None:
    if not await repo.unlink_tenant(session, tenant_id, dwelling_id):
        raise NotFound("no such dwelling", code="dwelling_not_found")


async def _input(session: AsyncSession, building_id: uuid.UUID) -> StatementInput:
    b = await repo.building_with_org(session, building_id)
    meters = [StatementMeter(meter_id=m.id, identifier=m.identifier, label=m.label, energy=m.energy,
                             role=MeterRole(m.role or MeterRole.none), dwelling_id=m.dwelling_id)
              for m in await repo.statement_meters(session, building_id)]
    return StatementInput(org_id=b.org_id, organisation=b.organisation, building_id=b.id, building=b.name,
                          address=f"{b.street}, {b.postal_code} {b.municipality}",
                          dwellings=[OrgDwelling(**r._mapping) for r in await repo.dwellings_of(session, building_id)],
                          meters=meters)


async def statement_input(session: AsyncSession, account_id: uuid.UUID, org_id: uuid.UUID,
                          building_id: uuid.UUID) -> StatementInput:
    """What the building's statements are made of, for a member of the organisation."""
    await _housing(session, account_id, org_id, building_id)
    return await _input(session, building_id)


async def tenant_inputs(session: AsyncSession, tenant_id: uuid.UUID) -> list[dict]:
    """For each dwelling the tenant is linked to: its id and its building's statement input (the split needs
    every dwelling's key; the gateway asks consumption for the tenant's dwelling only)."""
    return [{"dwelling_id": r.id, "building": await _input(session, r.building_id)}
            for r in await repo.tenant_dwellings(session, tenant_id)]
