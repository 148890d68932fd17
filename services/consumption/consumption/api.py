"""Internal routes of the consumption service: the gateway's, and the account reads notify's reports make."""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse

from consumption import (access, aggregates, catalogues, contracts, excess, green_button, landlord, load_curve,
                         peers, portfolio, publication, renovations, report, series, statements, summary, totals,
                         uses)
from consumption.tariffs import MAX_UPLOAD_BYTES
from metro.bodies import read_limited
from metro.db import DbReader, DbSession
from metro.errors import Forbidden
from metro.schemas.consumption import (AccountUses, CataloguePreview, Comparison, ConsumptionSeries,
                                       ContractDeclaration, ContractView, DegreeDaysVersion, LoadCurve,
                                       MaxPowerSeries, MeasuredEffect, StatementCreate, StatementView, Step, Summary,
                                       TariffCatalogueVersion, ToDateTotals)
from metro.schemas.landlord import BuildingStatements, StatementRequest
from metro.schemas.orgs import AnnualReport, ExcessRequest, OrgExcess, ReportRequest, SpreadsheetRequest
from metro.schemas.renovations import Programmes, RenovationFigures
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


@router.post("/meters/{meter_id}/statements", response_model=StatementView, status_code=201)
async def post_statement(meter_id: uuid.UUID, body: StatementCreate, who: Gateway, session: Session):
    return await statements.add_statement(session, meter_id, who.principal, body)


@router.get("/meters/{meter_id}/statements", response_model=list[StatementView])
async def get_statements(meter_id: uuid.UUID, who: Gateway, session: Session):
    return await statements.list_statements(session, meter_id, who.principal)


@router.get("/me/summary", response_model=Summary)
async def get_summary(account_id: Annotated[uuid.UUID, Depends(acting_account("gateway"))], session: Session):
    return json(await summary.summary(session, account_id))


@router.get("/me/uses", response_model=AccountUses)
async def get_uses(account_id: Annotated[uuid.UUID, Depends(acting_account("gateway"))], session: Session):
    """Each energy's year of use and the price of one more kWh: what an action's saving is estimated from."""
    return await uses.uses(session, account_id)


@router.get("/me/effect", response_model=MeasuredEffect)
async def get_effect(account_id: Annotated[uuid.UUID, Depends(acting_account("gateway"))], session: Session,
                     energy: Annotated[str, Query(max_length=20)],
                     since: Annotated[dt.date, Query()]):
    """The use of one energy since `since` against the weather-normalised baseline."""
    return await uses.effect(session, account_id, energy, since)


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
async def put_tariffs(energy: Literal["electricity", "gas", "heat", "water"], request: Request, who: Gateway,
                      session: Session,
                      source: Annotated[str | None, Query(max_length=300)] = None):
    """The body is the CSV file itself (same shape as the bundled data file)."""
    body = await read_limited(request, MAX_UPLOAD_BYTES, code="tariff_csv_too_large", what="the tariff file")
    return await catalogues.upload_tariffs(session, energy, body, source, who.principal)


@router.post("/tariffs/{energy}/preview", response_model=CataloguePreview)
async def preview_tariffs(energy: Literal["electricity", "gas"], request: Request, who: Gateway, session: Session):
    """Checks the file as an upload would, without storing it: every problem, line by line."""
    body = await read_limited(request, MAX_UPLOAD_BYTES, code="tariff_csv_too_large", what="the tariff file")
    return await catalogues.preview_tariffs(session, energy, body, who.principal)


@router.post("/degree-days/preview", response_model=CataloguePreview)
async def preview_degree_days(request: Request, who: Gateway, session: Session):
    body = await read_limited(request, MAX_UPLOAD_BYTES, code="degree_days_csv_too_large",
                              what="the degree-day file")
    return await catalogues.preview_degree_days(session, body, who.principal)


@router.get("/tariffs/{energy}", response_model=list[TariffCatalogueVersion])
async def get_tariffs(energy: Literal["electricity", "gas", "heat", "water"], who: Gateway, session: Session):
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


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.post("/orgs/spreadsheet", response_class=StreamingResponse,
             responses={200: {"content": {XLSX: {}, "text/csv": {}}}})
async def org_spreadsheet(body: SpreadsheetRequest, request: Request,
                          holder: Annotated[uuid.UUID, Depends(acting_account("gateway"))]):
    """The organisation's meters × periods from the monthly rollups; meters it does not hold are left out."""
    portfolio.check_year(body.year)
    db = request.app.state.db
    if body.format == "csv":
        return StreamingResponse(portfolio.csv_stream(db, holder, body.meters, body.year, body.step),
                                 media_type="text/csv; charset=utf-8")
    book = await portfolio.xlsx_file(db, holder, body.meters, body.year, body.step)
    return StreamingResponse(portfolio.file_chunks(book), media_type=XLSX)


@router.post("/orgs/report", response_model=AnnualReport,
             responses={200: {"content": {"text/html": {}, "application/pdf": {}}}})
async def org_report(body: ReportRequest, request: Request,
                     holder: Annotated[uuid.UUID, Depends(acting_account("gateway"))],
                     output: Literal["json", "html", "pdf"] = "json",
                     organisation: Annotated[str, Query(max_length=200)] = ""):
    """The organisation's annual report per type of building, from the monthly rollups."""
    portfolio.check_year(body.year)
    result = await report.compute(request.app.state.db, holder, body.meters, body.year)
    if output == "html":
        return Response(report.html(result, organisation), media_type="text/html; charset=utf-8")
    if output == "pdf":
        return Response(await report.pdf(result, organisation), media_type="application/pdf")
    return result


@router.post("/orgs/landlord-statements", response_model=BuildingStatements,
             responses={200: {"content": {"text/html": {}, "application/pdf": {}}}})
async def landlord_statements(body: StatementRequest, request: Request,
                              holder: Annotated[uuid.UUID, Depends(acting_account("gateway"))],
                              output: Literal["json", "html", "pdf"] = "json"):
    """A housing building's monthly statements per dwelling (or one dwelling's), from the monthly rollups of the
    meters the organisation holds."""
    result = await landlord.compute(request.app.state.db, holder, body.building, body.month, body.only)
    if output == "html":
        return Response(landlord.html(result), media_type="text/html; charset=utf-8")
    if output == "pdf":
        return Response(await landlord.pdf(result), media_type="application/pdf")
    return result


@router.post("/orgs/excess", response_model=OrgExcess)
async def org_excess(body: ExcessRequest, session: Session,
                     holder: Annotated[uuid.UUID, Depends(acting_account("gateway", "notify"))]):
    """Per building, the organisation's meters with anomaly episodes touching [start, end)."""
    return await excess.compute(session, holder, body.meters, body.start, body.end)


def _analyst(who: Caller) -> None:
    if not who.principal.has("analyst"):
        raise Forbidden("only the Métropole's analysts read the aggregates", code="forbidden_role")


AreaCode = Annotated[str | None, Query(pattern=r"^[0-9][0-9AB][0-9]{3}([0-9]{4})?$",
                                        description="one municipality (INSEE code) or IRIS")]


@router.get("/analyst/aggregates")
async def analyst_aggregates(who: Gateway, request: Request,
                             level: Literal["municipality", "iris"] = "municipality",
                             year: Annotated[int, Query(ge=2000, le=2100)] = dt.date.today().year - 1,
                             energy: Literal["electricity", "gas"] | None = None, area: AreaCode = None):
    """As stored by the aggregates worker (publication), computed on demand the first time."""
    _analyst(who)
    return json(await publication.serve(request.app.state.db, level, year, energy, area))


@router.get("/analyst/aggregates.geojson")
async def analyst_geojson(who: Gateway, request: Request, energy: Literal["electricity", "gas"],
                          year: Annotated[int, Query(ge=2000, le=2100)] = dt.date.today().year - 1):
    _analyst(who)
    result = await publication.serve(request.app.state.db, "municipality", year, energy)
    return json(aggregates.geojson(result, aggregates.boundaries(), energy))


@router.get("/renovations", response_model=list[RenovationFigures])
async def holder_renovations(account_id: Annotated[uuid.UUID, Depends(acting_account("gateway"))], session: DbReader,
                             building_id: uuid.UUID | None = None):
    """The renovations the acting account (a resident, or an organisation for its member) declared."""
    return json(await renovations.of_holder(session, account_id, building_id))


@router.get("/analyst/renovations", response_model=Programmes)
async def analyst_renovations(who: Gateway, session: DbReader, programme: str | None = None):
    _analyst(who)
    return json(await renovations.programmes(session, programme))
