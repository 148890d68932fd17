"""Public operations served by the internal services: the gateway authenticates, then forwards with a
service token naming the account."""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request

from gateway.auth import User
from metro.contracts import ConsentView, ConsumptionSeries, Dwelling, MeterDeclaration, MeterView, Step
from metro.errors import AppError, Conflict, NotFound, error_responses

router = APIRouter(prefix="/api/v1")


def services(request: Request):
    return request.app.state.runtime.services


@router.put("/me/dwelling", response_model=Dwelling, tags=["dwelling"])
async def put_dwelling(body: Dwelling, who: User, request: Request):
    return await services(request).json("consent", "PUT", "/internal/dwelling", principal=who.principal,
                                        json=body.model_dump(mode="json"))


@router.get("/me/dwelling", response_model=Dwelling, tags=["dwelling"], responses=error_responses(NotFound))
async def get_dwelling(who: User, request: Request):
    return await services(request).json("consent", "GET", "/internal/dwelling", principal=who.principal)


@router.post("/meters", response_model=MeterView, status_code=201, tags=["meters"],
             responses=error_responses(Conflict, AppError))
async def declare_meter(body: MeterDeclaration, who: User, request: Request):
    return await services(request).json("consent", "POST", "/internal/meters", principal=who.principal,
                                        json=body.model_dump(mode="json"))


@router.get("/meters", response_model=list[MeterView], tags=["meters"])
async def list_meters(who: User, request: Request):
    return await services(request).json("consent", "GET", "/internal/meters", principal=who.principal)


@router.get("/meters/{meter_id}", response_model=MeterView, tags=["meters"], responses=error_responses(NotFound))
async def get_meter(meter_id: uuid.UUID, who: User, request: Request):
    return await services(request).json("consent", "GET", f"/internal/meters/{meter_id}",
                                        principal=who.principal)


@router.delete("/meters/{meter_id}/consent", response_model=ConsentView, tags=["meters"],
               responses=error_responses(NotFound, Conflict))
async def revoke_consent(meter_id: uuid.UUID, who: User, request: Request):
    return await services(request).json("consent", "DELETE", f"/internal/meters/{meter_id}/consent",
                                        principal=who.principal)


@router.get("/meters/{meter_id}/consumption", response_model=ConsumptionSeries, tags=["consumption"],
            responses=error_responses(NotFound, AppError))
async def consumption(meter_id: uuid.UUID, who: User, request: Request,
                      start: Annotated[dt.date, Query(alias="from")], end: Annotated[dt.date, Query(alias="to")],
                      step: Step = Step.day):
    return await services(request).json(
        "consumption", "GET", f"/internal/meters/{meter_id}/consumption", principal=who.principal,
        params={"from": start.isoformat(), "to": end.isoformat(), "step": step.value})
