"""Internal routes of the consumption service (called by the gateway with a service token)."""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy.ext.asyncio import AsyncSession

from consumption import service
from metro.contracts import ConsumptionSeries, Step
from metro.db import get_session
from metro.service_auth import Caller, caller

router = APIRouter(prefix="/internal")


@router.get("/meters/{meter_id}/consumption", response_model=ConsumptionSeries)
async def get_consumption(meter_id: uuid.UUID, who: Annotated[Caller, Depends(caller)],
                          session: Annotated[AsyncSession, Depends(get_session)],
                          start: Annotated[dt.date, Query(alias="from")],
                          end: Annotated[dt.date, Query(alias="to")], step: Step = Step.day):
    return await service.consumption(session, meter_id, who.principal, start, end, step)
