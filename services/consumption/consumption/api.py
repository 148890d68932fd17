"""Internal routes of the consumption service: the gateway's, and the account reads notify's reports make."""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse

from consumption import access, catalogues, contracts, green_button, load_curve, peers, series, summary, totals
from consumption.tariffs import MAX_UPLOAD_BYTES
from metro.bodies import read_limited
from metro.db import DbReader, DbSession
from metro.schemas.consumption import (Comparison, ConsumptionSeries, ContractDeclaration, ContractView,
                                       DegreeDaysVersion, LoadCurve, MaxPowerSeries, Step, Summary,
                                       TariffCatalogueVersion, ToDateTotals)
from metro.service_auth import Caller, acting_account, caller

router = APIRouter(prefix="/internal")


def json(body: dict) -> Response:
    """Bodies built as plain dicts in the shape of their response_model, serialised once (hot paths)."""
    return Response(orjson.dumps(body, default=str), media_type="application/json")

Gateway = Annotated[Caller, Depends(caller("gateway"))]
Notify = Annotated[Caller, Depends(caller("notify"))]
Session = DbSession
From = Annotated[dt.date, Query(alias="from")]
To = Annotated[dt.date, Query(alias="to", description="exclusive")]


@router.get("/meters/{meter_id}/consumption", response_model=ConsumptionSeries)
async def get_consumption(meter_id: uuid.UUID, who: Gateway, session: DbReader, start: From, end: To,
                          step: Step = Step.day):
    """The most requested read: from the read model it is one statement after the meter's, outside any
    transaction."""
    return Response(await series.consumption_json(session, meter_id, who.principal, start, end, step),
                    media_type="application/json")


@router.get("/meters/{meter_id}/load-curve", response_model=LoadCurve)
async def get_load_curve(meter_id: uuid.UUID, who: Gateway, session: DbReader, start: From, end: To):
    return await load_curve.curve(session, meter_id, who.principal, start, end)


@router.get("/meters/{meter_id}/max-power", response_model=MaxPowerSeries)
async def get_max_power(meter_id: uuid.UUID, who: Gateway, session: DbReader, start: From, end: To):
    return await load_curve.max_power(session, meter_id, who.principal, start, end)


@router.get("/meters/{meter_id}/totals", response_model=ToDateTotals)
async def get_totals(meter_id: uuid.UUID, who: Gateway, session: Session, as_of: dt.date | None = None):
    return await totals.totals(session, meter_id, who.principal, as_of)


@router.get("/meters/{meter_id}/comparison", response_model=Comparison)
async def get_comparison(meter_id: uuid.UUID, who: Gateway, session: Session, start: From, end: To):
    return await peers.comparison(session, meter_id, who.principal, start, end)


@router.get("/meters/contracts", response_model=list[ContractView])
async def get_contracts(who: Gateway, session: Session,
                        meter_id: Annotated[list[uuid.UUID], Query(max_length=100)]):
    """The known contract of each of these meters, in one call for a list of meters."""
    return await contracts.known_contracts(session, meter_id, who.principal)


@router.get("/meters/{meter_id}/contract", response_model=ContractView)
async def get_contract(meter_id: uuid.UUID, who: Gateway, session: Session):
    return await contracts.contract_view(session, meter_id, who.principal)


@router.put("/meters/{meter_id}/contract", response_model=ContractView)
async def put_contract(meter_id: uuid.UUID, body: ContractDeclaration, who: Gateway, session: Session):
    return await contracts.declare_contract(session, meter_id, who.principal, body)


@router.get("/me/summary", response_model=Summary)
async def get_summary(account_id: Annotated[uuid.UUID, Depends(acting_account("gateway"))], session: Session):
    return json(await summary.summary(session, account_id))


@router.get("/me/green-button", response_class=StreamingResponse,
            responses={200: {"content": {"application/atom+xml": {}}}})
async def get_green_button(request: Request,
                           account_id: Annotated[uuid.UUID, Depends(acting_account("gateway"))],
                           session: Session, meter_id: uuid.UUID | None = None,
                           start: Annotated[dt.date | None, Query(alias="from")] = None,
                           end: Annotated[dt.date | None, Query(alias="to", description="exclusive")] = None):
    """The account's daily electricity and gas as a Green Button (ESPI 4.0) Atom feed, streamed."""
    meters, start, end = await green_button.scope(session, account_id, meter_id, start, end)
    return StreamingResponse(green_button.export(request.app.state.db, account_id, meters, start, end),
                             media_type="application/atom+xml")


@router.put("/tariffs/{energy}", response_model=TariffCatalogueVersion)
async def put_tariffs(energy: Literal["electricity", "gas"], request: Request, who: Gateway, session: Session,
                      source: Annotated[str | None, Query(max_length=300)] = None):
    """The body is the CSV file itself (same shape as the bundled data file)."""
    body = await read_limited(request, MAX_UPLOAD_BYTES, code="tariff_csv_too_large", what="the tariff file")
    return await catalogues.upload_tariffs(session, energy, body, source, who.principal)


@router.get("/tariffs/{energy}", response_model=list[TariffCatalogueVersion])
async def get_tariffs(energy: Literal["electricity", "gas"], who: Gateway, session: Session):
    return await catalogues.tariff_versions(session, energy)


@router.put("/degree-days", response_model=DegreeDaysVersion)
async def put_degree_days(request: Request, who: Gateway, session: Session,
                          source: Annotated[str | None, Query(max_length=300)] = None):
    """The body is the CSV file itself (same shape as the bundled data/dju_grenoble.csv)."""
    body = await read_limited(request, MAX_UPLOAD_BYTES, code="degree_days_csv_too_large",
                              what="the degree-day file")
    return await catalogues.upload_degree_days(session, body, source, who.principal)


@router.get("/degree-days", response_model=list[DegreeDaysVersion])
async def get_degree_days(who: Gateway, session: Session):
    return await catalogues.degree_day_versions(session, who.principal)


@router.get("/accounts")
async def get_accounts(who: Notify, session: Session, with_meters: bool = True) -> dict[str, list[str]]:
    """Accounts having at least one meter (for report runs)."""
    access.authorize_platform(who.principal)
    return {"accounts": await summary.accounts_with_meters(session)}


@router.get("/accounts/{account_id}/report")
async def get_report(account_id: uuid.UUID, who: Notify, session: Session, start: From, end: To) -> dict:
    return await summary.report(session, account_id, who.principal, start, end)


@router.get("/accounts/{account_id}/month")
async def get_month(account_id: uuid.UUID, who: Notify, session: Session,
                    month: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$")]) -> dict:
    return await summary.month(session, account_id, who.principal, month)
