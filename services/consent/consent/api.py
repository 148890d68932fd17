"""Internal routes of the consent service (called by the gateway with a service token)."""
from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from consent import service
from metro.contracts import ConsentView, Dwelling, MeterDeclaration, MeterView
from metro.db import get_session
from metro.service_auth import acting_account

router = APIRouter(prefix="/internal")
Account = Annotated[uuid.UUID, Depends(acting_account)]
Session = Annotated[AsyncSession, Depends(get_session)]


def outbox(request: Request):
    return request.app.state.runtime.outbox


@router.put("/dwelling", response_model=Dwelling)
async def put_dwelling(body: Dwelling, account: Account, session: Session, request: Request):
    return await service.put_dwelling(session, outbox(request), account, body)


@router.get("/dwelling", response_model=Dwelling)
async def get_dwelling(account: Account, session: Session):
    return await service.get_dwelling(session, account)


@router.post("/meters", response_model=MeterView, status_code=201)
async def declare_meter(body: MeterDeclaration, account: Account, session: Session, request: Request):
    meter, consent = await service.declare_meter(session, outbox(request), account, body)
    return service.meter_view(meter, consent)


@router.get("/meters", response_model=list[MeterView])
async def list_meters(account: Account, session: Session):
    return await service.list_meters(session, account)


@router.get("/meters/{meter_id}", response_model=MeterView)
async def get_meter(meter_id: uuid.UUID, account: Account, session: Session):
    meter = await service.own_meter(session, account, meter_id)
    latest = await service.repository.latest_consents(session, [meter_id])
    return service.meter_view(meter, latest.get(meter_id))


@router.delete("/meters/{meter_id}/consent", response_model=ConsentView)
async def revoke(meter_id: uuid.UUID, account: Account, session: Session, request: Request):
    return await service.revoke_by_resident(session, outbox(request), account, meter_id)
