"""Public consumption operations: euros, totals, comparison, contract declaration, summary, tariff and degree-day
uploads.
The gateway authenticates, then forwards to the consumption service with a service token naming the account."""
from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from gateway import audit
from gateway import load_curve as curves
from gateway.auth import Admin, User
from gateway.schemas import LoadCurveView, SummaryView
from metro.bodies import read_limited
from metro.db import DbSession
from metro.errors import (AddressUnconfirmed, AppError, Conflict, ErrorBody, Forbidden, NotFound, NotReady,
                          PayloadTooLarge, error_responses)
from metro.schemas import IsoDate
from metro.schemas.collection import LoadCurveCollection
from metro.schemas.consumption import (Comparison, ContractDeclaration, ContractView, DegreeDaysVersion,
                                       MaxPowerSeries, StatementCreate, StatementView, TariffCatalogueVersion,
                                       ToDateTotals)

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
    """This home beside similar homes over the calendar months of [from, to): median, the efficient 20 %, rank,
    per m² and per occupant, and its own figure for the same months last year. Never shown for a group under 10
    homes. The figures come from monthly totals, so the period compared is the whole months inside [from, to), or,
    when there is none, the month holding its middle day: `start` and `end` in the answer name it.
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


STATEMENT_REFUSALS = (
    "422 `index_decreasing` (an index below the previous one, or above a later one, without `meter_change`), "
    "`statement_in_future`, `statement_too_old` (over 3 years), `statement_kind_not_for_energy` (`index` for "
    "electricity, gas, heat and water; `quantity` for fuel oil and wood), `unit_not_for_energy`, "
    "`conversion_coefficient_required` (gas, after the first statement, when no earlier one gave it), "
    "`meter_change_not_declared`; 409 `meter_not_manual` (the meter is read by its operator), "
    "`consent_not_active` (the meter was given up), `statement_already_on_day`, and the accuracy control's "
    "findings, which the same statement with `confirmed: true` overrides: `statement_above_history` / "
    "`statement_below_history` (over 3 times, or under a third of, the meter's own use under the same weather), "
    "`statement_above_peers` (over 4 times similar homes over the same days), `statement_above_plausible_bound`; "
    "503 `meter_being_set_up` with Retry-After (a meter declared a moment ago, not yet known to every service).")


@router.post("/meters/{meter_id}/statements", response_model=StatementView, status_code=201, tags=["meters"],
             responses=error_responses(NotFound, Conflict, AppError, NotReady), description=STATEMENT_REFUSALS)
async def add_statement(meter_id: uuid.UUID, body: StatementCreate, who: User, request: Request):
    """A manual meter's statement: its index read on `taken_on` (electricity and heat in kWh, gas and water in
    m³ with the bill's conversion coefficient for gas), or a delivery (fuel oil in litres, wood in stères or
    kg). What was used since the previous statement is spread over the days between them as `estimated`
    readings, weighted by degree days for a heating use; `amount` gives it."""
    meter = await services(request).json("consent", "GET", f"/internal/meters/{meter_id}", principal=who.principal)
    if meter["channel"] != "manual":
        raise Conflict("this meter is read by its operator: statements are for manual meters",
                       code="meter_not_manual")
    if (meter.get("consent") or {}).get("status") not in ("active", "expiring"):
        raise Conflict("this meter was given up: declare it again to state its readings", code="consent_not_active")
    try:
        return await services(request).json("consumption", "POST", f"/internal/meters/{meter_id}/statements",
                                            principal=who.principal, json=body.model_dump(mode="json"))
    except AppError as exc:
        if exc.status_code != 404:
            raise
        # Consent has it, consumption not yet: its `meter.declared` is on the bus.
        raise NotReady("this meter was declared a moment ago and is being set up: send the statement again in a "
                       "few seconds", code="meter_being_set_up") from None


@router.get("/meters/{meter_id}/statements", response_model=list[StatementView], tags=["meters"],
            responses=error_responses(NotFound, Conflict))
async def list_statements(meter_id: uuid.UUID, who: User, request: Request):
    """A manual meter's statements, oldest first, each with what was used since the previous one and the
    accuracy control's finding the resident confirmed, if any. 409 `meter_not_manual`."""
    try:
        return await services(request).json("consumption", "GET", f"/internal/meters/{meter_id}/statements",
                                            principal=who.principal)
    except AppError as exc:
        if exc.status_code != 404:
            raise
        # A manual meter declared a moment ago (consent has it, consumption not yet) has no statement yet.
        meter = await services(request).json("consent", "GET", f"/internal/meters/{meter_id}",
                                             principal=who.principal)
        if meter["channel"] != "manual":
            raise
        return []


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
async def upload_tariffs(energy: Literal["electricity", "gas", "heat", "water"], who: Admin, request: Request,
                         session: DbSession,
                         source: Annotated[str | None, Query(max_length=300)] = None):
    """Replace the tariff catalogue of one energy: the CSV is validated, then stored as a new version; a file that
    is not a catalogue is refused with 422 and a `tariff_csv_*` code naming the line and column. Heat: per network,
    `valid_from,valid_to,network,r1_eur_ttc_mwh,r2_basis (kw|dwelling),r2_eur_ttc_year,example (yes|no),source`;
    water: `valid_from,valid_to,operator,price_eur_ttc_m3,subscription_eur_ttc_year,example,source`. A row marked
    `example=yes` is priced but its euros are flagged as estimated."""
    body = await read_limited(request, MAX_TARIFF_CSV_BYTES, code="tariff_csv_too_large", what="the tariff file")
    version = await services(request).json(
        "consumption", "PUT", f"/internal/tariffs/{energy}", principal=who.principal, content=body,
        params={"source": source} if source else {}, headers={"content-type": "text/csv"})
    await audit.record(session, who, "tariffs.uploaded", f"{energy}:{version['version']}", rows=version["rows"],
                       source=source)
    return version


@router.put("/admin/degree-days", response_model=DegreeDaysVersion, tags=["admin"],
            responses={**error_responses(Forbidden, AppError), **too_large("degree_days_csv_too_large")},
            openapi_extra={"requestBody": {"required": True, "content": {"text/csv": {"schema": {
                "type": "string", "description": "monthly degree days per station, observed and normals, shaped "
                                                 "like the bundled data/dju_grenoble.csv"}}}}})
async def upload_degree_days(who: Admin, request: Request, session: DbSession,
                             source: Annotated[str | None, Query(max_length=300)] = None):
    """Replace the degree days (e.g. Météo-France's monthly DJU once available): the CSV is validated, then stored
    as a new version; comparisons of homes heated with the compared energy are then weather-normalised over the
    months it fills. A file that is not one is refused with 422 and a `degree_days_csv_*` code."""
    body = await read_limited(request, MAX_TARIFF_CSV_BYTES, code="degree_days_csv_too_large",
                              what="the degree-day file")
    version = await services(request).json(
        "consumption", "PUT", "/internal/degree-days", principal=who.principal, content=body,
        params={"source": source} if source else {}, headers={"content-type": "text/csv"})
    await audit.record(session, who, "degree_days.uploaded", version["version"], rows=version["rows"], source=source)
    return version


@router.get("/admin/degree-days", response_model=list[DegreeDaysVersion], tags=["admin"])
async def degree_day_versions(who: Admin, request: Request):
    return await services(request).json("consumption", "GET", "/internal/degree-days", principal=who.principal)


@router.get("/admin/tariffs/{energy}", response_model=list[TariffCatalogueVersion], tags=["admin"])
async def tariff_versions(energy: Literal["electricity", "gas", "heat", "water"], who: Admin,
                          request: Request):
    return await services(request).json("consumption", "GET", f"/internal/tariffs/{energy}",
                                        principal=who.principal)
