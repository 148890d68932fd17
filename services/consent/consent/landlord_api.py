"""Internal routes of the landlord statements (the gateway's): dwellings, meter roles, tenant invitations, and
what a building's statements are made of, for a member of the organisation or for the linked tenant."""
from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends

from consent import landlord
from metro.db import DbSession
from metro.schemas.landlord import (DwellingCreate, InvitationAccept, MeterRoleUpdate, OrgDwelling, StatementInput,
                                    StatementMeter, TenantInvitation)
from metro.service_auth import acting_account

router = APIRouter(prefix="/internal")
Account = Annotated[uuid.UUID, Depends(acting_account("gateway"))]
BUILDING = "/orgs/{org_id}/buildings/{building_id}"


@router.post(BUILDING + "/dwellings", response_model=OrgDwelling, status_code=201)
async def add_dwelling(org_id: uuid.UUID, building_id: uuid.UUID, body: DwellingCreate, account: Account,
                       session: DbSession):
    return await landlord.add_dwelling(session, account, org_id, building_id, body)


@router.put(BUILDING + "/dwellings/{dwelling_id}", response_model=OrgDwelling)
async def update_dwelling(org_id: uuid.UUID, building_id: uuid.UUID, dwelling_id: uuid.UUID, body: DwellingCreate,
                          account: Account, session: DbSession):
    return await landlord.update_dwelling(session, account, org_id, building_id, dwelling_id, body)


@router.get(BUILDING + "/dwellings", response_model=list[OrgDwelling])
async def list_dwellings(org_id: uuid.UUID, building_id: uuid.UUID, account: Account, session: DbSession):
    return await landlord.dwellings(session, account, org_id, building_id)


@router.put(BUILDING + "/meters/{meter_id}/statement-role", response_model=StatementMeter)
async def set_meter_role(org_id: uuid.UUID, building_id: uuid.UUID, meter_id: uuid.UUID, body: MeterRoleUpdate,
                         account: Account, session: DbSession):
    return await landlord.set_meter_role(session, account, org_id, building_id, meter_id, body)


@router.post(BUILDING + "/dwellings/{dwelling_id}/invitation", response_model=TenantInvitation, status_code=201)
async def invite_tenant(org_id: uuid.UUID, building_id: uuid.UUID, dwelling_id: uuid.UUID, account: Account,
                        session: DbSession):
    return await landlord.invite_tenant(session, account, org_id, building_id, dwelling_id)


@router.get(BUILDING + "/statement-input", response_model=StatementInput)
async def statement_input(org_id: uuid.UUID, building_id: uuid.UUID, account: Account, session: DbSession):
    return await landlord.statement_input(session, account, org_id, building_id)


@router.post("/tenant/dwellings")
async def accept_invitation(body: InvitationAccept, account: Account, session: DbSession):
    return await landlord.accept_invitation(session, account, body.code)


@router.get("/tenant/dwellings")
async def tenant_dwellings(account: Account, session: DbSession):
    return await landlord.tenant_inputs(session, account)


@router.delete("/tenant/dwellings/{dwelling_id}", status_code=204)
async def leave(dwelling_id: uuid.UUID, account: Account, session: DbSession):
    await landlord.leave(session, account, dwelling_id)
