"""Public consumption operations: euros, totals, comparison, contract declaration, summary, tariff and degree-day
uploads.
The gateway authenticates, then forwards to the consumption service with a service token naming the account."""
from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from gateway import load_curve as curves
from gateway.auth import Admin, User
from gateway.schemas import LoadCurveView, SummaryView
from metro.bodies import read_limited
from metro.errors import (AddressUnconfirmed, AppError, ErrorBody, Forbidden, NotFound, PayloadTooLarge,
                          error_responses)
from metro.schemas import IsoDate
from metro.schemas.collection import LoadCurveCollection
from metro.schemas.consumption import (Comparison, ContractDeclaration, ContractView, DegreeDaysVersion,
                                       MaxPowerSeries, TariffCatalogueVersion, ToDateTotals)

router = APIRouter(prefix="/api/v1")
MAX_TARIFF_CSV_BYTES = 2_000_000


def too_large(code: str) -> dict:
    return {PayloadTooLarge.status_code: {"model": ErrorBody, "description": code}}


def services(request: Request):
    return request.app.state.runtime.services


@router.get("/meters/{meter_id}/comparison", response_model=Comparison, tags=["consumption"],
            responses=error_responses(NotFound, AppError, AddressUnconfirmed))
async def comparison(meter_id: uuid.UUID, who: User, request: Request,
                     start: Annotated[IsoDate, Query(alias="from")],
                     end: Annotated[IsoDate, Query(alias="to", description="exclusive")]):
    """This home beside similar homes over [from, to): median, the efficient 20 %, rank, per m² and per
    occupant, and its own figure for the same period last year. Never shown for a group under 10 homes.
    422 `invalid_period` unless `to` is after `from`, `period_too_long` beyond a year."""
    return await services(request).json(
        "consumption", "GET", f"/internal/meters/{meter_id}/comparison", principal=who.principal,
        params={"from": start.isoformat(), "to": end.isoformat()})


LOAD_CURVE_DOC = (
    "The meter's load curve over [from, to), at most 7 days: each day's average power in W per interval (the DSO's "
    "step, 30 minutes as a rule; a day whose step changed is given at its finest step), 46 or 50 half-hours on "
    "the days the clocks change, each point's start in local time with its offset; `w` null where Enedis sent "
    "nothing. Each day carries its energy (`wh`, from the points) and its maximum apparent power in VA with its "
    "moment. `collection` says where collecting stands. 422 `invalid_period`, `period_too_long` (over 7 days); "
    "409 `address_unconfirmed`.")


@router.get("/meters/{meter_id}/load-curve", response_model=LoadCurveView, tags=["consumption"],
            responses=error_responses(NotFound, AppError, AddressUnconfirmed), description=LOAD_CURVE_DOC)
async def load_curve(meter_id: uuid.UUID, who: User, request: Request,
                     start: Annotated[IsoDate, Query(alias="from")],
                     end: Annotated[IsoDate, Query(alias="to", description="exclusive")]):
    return await curves.load_curve(services(request), who.principal, meter_id, start, end)


@router.post("/meters/{meter_id}/load-curve/history", response_model=LoadCurveCollection, tags=["consumption"],
             responses=error_responses(NotFound))
async def load_curve_history(meter_id: uuid.UUID, who: User, request: Request):
    """Ask for the load curve's history (24 months, no further back than the consent): Enedis is asked on the
    quota the daily readings leave, newest week first; the SPA asks when the resident opens the view. Asking again
    changes nothing. `state` `no_consent` for a meter no Data Connect consent covers."""
    return await curves.request_history(services(request), who.principal, meter_id)


@router.get("/meters/{meter_id}/max-power", response_model=MaxPowerSeries, tags=["consumption"],
            responses=error_responses(NotFound, AppError, AddressUnconfirmed))
async def max_power(meter_id: uuid.UUID, who: User, request: Request,
                    start: Annotated[IsoDate, Query(alias="from")],
                    end: Annotated[IsoDate, Query(alias="to", description="exclusive")]):
    """Each day's maximum apparent power in VA over [from, to), at most 366 days, with its moment where the DSO
    gives it (Data Connect; SGE's R151 files give the value only). 422 `invalid_period`, `period_too_long`."""
    return await curves.max_power(services(request), who.principal, meter_id, start, end)


@router.get("/meters/{meter_id}/totals", response_model=ToDateTotals, tags=["consumption"],
            responses=error_responses(NotFound, AddressUnconfirmed))
async def totals(meter_id: uuid.UUID, who: User, request: Request, as_of: IsoDate | None = None):
    """Month to date and year to date in kWh and euros up to `as_of` (default: the last day collected), with
    a forecast for the whole month; `*_partial` says when days are missing."""
    params = {"as_of": as_of.isoformat()} if as_of else {}
    return await services(request).json("consumption", "GET", f"/internal/meters/{meter_id}/totals",
                                        principal=who.principal, params=params)


@router.get("/meters/{meter_id}/contract", response_model=ContractView, tags=["consumption"],
            responses=error_responses(NotFound))
async def get_contract(meter_id: uuid.UUID, who: User, request: Request):
    return await services(request).json("consumption", "GET", f"/internal/meters/{meter_id}/contract",
                                        principal=who.principal)


@router.put("/meters/{meter_id}/contract", response_model=ContractView, tags=["consumption"],
            responses=error_responses(NotFound, AppError))
async def declare_contract(meter_id: uuid.UUID, body: ContractDeclaration, who: User, request: Request):
    """The resident's own contract (option, kVA, off-peak hours), used where the DSO gives none. 422
    `contract_not_electricity` for a gas meter, `offpeak_hours_required` for HPHC or TEMPO without off-peak
    hours naming a range such as 22:00-06:00."""
    return await services(request).json("consumption", "PUT", f"/internal/meters/{meter_id}/contract",
                                        principal=who.principal, json=body.model_dump(mode="json"))


@router.get("/me/summary", response_model=SummaryView, tags=["consumption"])
async def summary(who: User, request: Request):
    """Every meter's last 7 days, month to date in kWh and euros, forecast, comparison, and recent alerts; a
    meter whose DSO address is not confirmed has `withheld: address_unconfirmed` and no figures."""
    upstream = await services(request).send("consumption", "GET", "/internal/me/summary", principal=who.principal)
    return Response(upstream.content, media_type="application/json")


@router.put("/admin/tariffs/{energy}", response_model=TariffCatalogueVersion, tags=["admin"],
            responses={**error_responses(Forbidden, AppError), **too_large("tariff_csv_too_large")},
            openapi_extra={"requestBody": {"required": True, "content": {"text/csv": {"schema": {
                "type": "string", "description": "the whole catalogue, shaped like the bundled data file"}}}}})
async def upload_tariffs(energy: Literal["electricity", "gas"], who: Admin, request: Request,
                         source: Annotated[str | None, Query(max_length=300)] = None):
    """Replace the tariff catalogue of one energy: the CSV is validated, then stored as a new version; a file that
    is not a catalogue is refused with 422 and a `tariff_csv_*` code naming the line and column."""
    body = await read_limited(request, MAX_TARIFF_CSV_BYTES, code="tariff_csv_too_large", what="the tariff file")
    return await services(request).json(
        "consumption", "PUT", f"/internal/tariffs/{energy}", principal=who.principal, content=body,
        params={"source": source} if source else {}, headers={"content-type": "text/csv"})


@router.put("/admin/degree-days", response_model=DegreeDaysVersion, tags=["admin"],
            responses={**error_responses(Forbidden, AppError), **too_large("degree_days_csv_too_large")},
            openapi_extra={"requestBody": {"required": True, "content": {"text/csv": {"schema": {
                "type": "string", "description": "monthly degree days per station, observed and normals, shaped "
                                                 "like the bundled data/dju_grenoble.csv"}}}}})
async def upload_degree_days(who: Admin, request: Request,
                             source: Annotated[str | None, Query(max_length=300)] = None):
    """Replace the degree days (e.g. Météo-France's monthly DJU once available): the CSV is validated, then stored
    as a new version; comparisons of homes heated with the compared energy are then weather-normalised over the
    months it fills. A file that is not one is refused with 422 and a `degree_days_csv_*` code."""
    body = await read_limited(request, MAX_TARIFF_CSV_BYTES, code="degree_days_csv_too_large",
                              what="the degree-day file")
    return await services(request).json(
        "consumption", "PUT", "/internal/degree-days", principal=who.principal, content=body,
        params={"source": source} if source else {}, headers={"content-type": "text/csv"})


@router.get("/admin/degree-days", response_model=list[DegreeDaysVersion], tags=["admin"])
async def degree_day_versions(who: Admin, request: Request):
    return await services(request).json("consumption", "GET", "/internal/degree-days", principal=who.principal)


@router.get("/admin/tariffs/{energy}", response_model=list[TariffCatalogueVersion], tags=["admin"])
async def tariff_versions(energy: Literal["electricity", "gas"], who: Admin, request: Request):
    return await services(request).json("consumption", "GET", f"/internal/tariffs/{energy}",
                                        principal=who.principal)
