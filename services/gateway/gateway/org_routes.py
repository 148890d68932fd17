"""Organisations (municipalities, landlords, companies) for their members: the organisation and its members,
its buildings and the meters they hold. The consent service decides who is a member and with which role; the
gateway resolves e-mail addresses (it holds the accounts) and, for a member, reads the organisation's meters
as the organisation."""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse

from gateway import repository, streams
from gateway.auth import Identity, User, VerifiedUser, require_role
from gateway.meters import with_collection
from gateway.schemas import Email
from metro.db import DbSession
from metro.errors import Conflict, Forbidden, NotFound, error_responses
from metro.schemas import IsoDate, Strict
from metro.schemas.consent import MeterDeclaration, MeterView
from metro.schemas.consumption import ConsumptionSeries, Step
from metro.schemas.orgs import (AnnualReport, Building, BuildingCreate, Organisation, OrganisationCreate, OrgExcess,
                               OrgKind, OrgRole)
from metro.schemas.renovations import RenovationCreate, RenovationDeclared, RenovationFigures
from metro.service_auth import Principal
from pydantic import BaseModel

router = APIRouter(prefix="/api/v1", tags=["organisations"])
Professional = Annotated[Identity, Depends(require_role("professional", "admin"))]
Session = DbSession
NOT_A_MEMBER = error_responses(NotFound)


class MemberInvite(Strict):
    email: Email
    role: OrgRole


class MyOrganisation(BaseModel):
    id: uuid.UUID
    name: str
    kind: OrgKind
    my_role: OrgRole


def _services(request: Request):
    return request.app.state.runtime.services


async def _with_emails(session, org: dict[str, Any]) -> dict[str, Any]:
    emails = await repository.emails_of(session, [uuid.UUID(str(m["account_id"])) for m in org["members"]])
    for m in org["members"]:
        m["email"] = emails.get(uuid.UUID(str(m["account_id"])))
    return org


async def _as_organisation(request: Request, who: Identity, org_id: uuid.UUID) -> Principal:
    """The organisation's principal, for a member (the consent service says who is one; 404 otherwise)."""
    await _services(request).json("consent", "GET", f"/internal/orgs/{org_id}", principal=who.principal)
    return Principal(org_id, ("org_member",))


@router.post("/orgs", response_model=Organisation, status_code=201, responses=error_responses(Forbidden))
async def create_org(body: OrganisationCreate, who: Professional, request: Request, session: Session):
    """Creates an organisation (role `professional`); its creator is its first manager."""
    org = await _services(request).json("consent", "POST", "/internal/orgs", principal=who.principal,
                                        json=body.model_dump(mode="json"))
    return await _with_emails(session, org)


@router.get("/orgs", response_model=list[MyOrganisation])
async def my_orgs(who: User, request: Request):
    """The organisations the account is a member of, with its role in each."""
    return await _services(request).json("consent", "GET", "/internal/orgs", principal=who.principal)


@router.get("/orgs/{org_id}", response_model=Organisation, responses=NOT_A_MEMBER)
async def get_org(org_id: uuid.UUID, who: User, request: Request, session: Session):
    """The organisation and its members, for its members only (404 `org_not_found` to anyone else)."""
    org = await _services(request).json("consent", "GET", f"/internal/orgs/{org_id}", principal=who.principal)
    return await _with_emails(session, org)


@router.put("/orgs/{org_id}/members", response_model=Organisation,
            responses=error_responses(NotFound, Forbidden, Conflict))
async def set_member(org_id: uuid.UUID, body: MemberInvite, who: User, request: Request, session: Session):
    """A manager adds a member by e-mail address, or changes a member's role (`manager` or `viewer`); the
    account must exist (404 `account_not_found`). An organisation keeps at least one manager (409
    `org_last_manager`)."""
    member = await repository.account_by_email(session, body.email)
    if member is None or member.status != "active":
        raise NotFound("no active account has this e-mail address", code="account_not_found")
    org = await _services(request).json("consent", "PUT", f"/internal/orgs/{org_id}/members",
                                        principal=who.principal,
                                        json={"account_id": str(member.id), "role": body.role.value})
    return await _with_emails(session, org)


@router.delete("/orgs/{org_id}/members/{member_id}", status_code=204,
               responses=error_responses(NotFound, Forbidden, Conflict))
async def remove_member(org_id: uuid.UUID, member_id: uuid.UUID, who: User, request: Request):
    """A manager removes a member; a member may leave."""
    await _services(request).send("consent", "DELETE", f"/internal/orgs/{org_id}/members/{member_id}",
                                  principal=who.principal)
    return Response(status_code=204)


@router.post("/orgs/{org_id}/buildings", response_model=Building, status_code=201,
             responses=error_responses(NotFound, Forbidden))
async def add_building(org_id: uuid.UUID, body: BuildingCreate, who: User, request: Request):
    """A manager adds a building: address, use type (school, gymnasium, offices, housing, nursery, town_hall,
    pool, other), heated floor area in m², year, heating energy."""
    return await _services(request).json("consent", "POST", f"/internal/orgs/{org_id}/buildings",
                                         principal=who.principal, json=body.model_dump(mode="json"))


@router.get("/orgs/{org_id}/buildings", response_model=list[Building], responses=NOT_A_MEMBER)
async def list_buildings(org_id: uuid.UUID, who: User, request: Request):
    """The organisation's sites and buildings, each with its meters, their consent, freshness and contract."""
    services = _services(request)
    listed = await services.json("consent", "GET", f"/internal/orgs/{org_id}/buildings", principal=who.principal)
    meters = [m for b in listed for m in b["meters"]]
    await with_collection(services, Principal(org_id, ("org_member",)), meters)
    return listed


@router.post("/orgs/{org_id}/buildings/{building_id}/meters", response_model=MeterView, status_code=201,
             responses=error_responses(NotFound, Forbidden, Conflict))
async def declare_building_meter(org_id: uuid.UUID, building_id: uuid.UUID, body: MeterDeclaration,
                                 who: VerifiedUser, request: Request):
    """A manager declares a meter the organisation holds and attaches it to the building. The consent is the
    organisation's: Data Connect's page (the manager consents for the company or the municipality), ADICT with
    the holder as `raison_sociale`, SGE for a subscription the Métropole holds."""
    return await _services(request).json("consent", "POST", f"/internal/orgs/{org_id}/buildings/{building_id}/meters",
                                         principal=who.principal, json=body.model_dump(mode="json"))


@router.post("/orgs/{org_id}/buildings/{building_id}/renovations", response_model=RenovationDeclared,
             status_code=201, responses=error_responses(NotFound, Forbidden))
async def declare_renovation(org_id: uuid.UUID, building_id: uuid.UUID, body: RenovationCreate, who: User,
                             request: Request):
    """Déclarer des travaux sur un bâtiment / A manager declares renovation works on a building: the day they
    ended, the kind of works (wall_insulation, roof_insulation, floor_insulation, windows, heating_system,
    ventilation, comprehensive), optionally the programme they belong to. The building's meters when declared
    are those weighed before and after."""
    return await _services(request).json(
        "consent", "POST", f"/internal/orgs/{org_id}/buildings/{building_id}/renovations", principal=who.principal,
        json=body.model_dump(mode="json"))


@router.get("/orgs/{org_id}/buildings/{building_id}/renovations", response_model=list[RenovationFigures],
            responses=NOT_A_MEMBER)
async def building_renovations(org_id: uuid.UUID, building_id: uuid.UUID, who: User, request: Request):
    """The building's renovations, each with the weather-normalised kWh of the 12 whole months before the works'
    month and of the 12 after it, the change, each side's completeness and the confidence it gives."""
    principal = await _as_organisation(request, who, org_id)
    return await _services(request).json("consumption", "GET", "/internal/renovations", principal=principal,
                                         params={"building_id": str(building_id)})


@router.get("/orgs/{org_id}/meters/{meter_id}/consumption", response_model=ConsumptionSeries,
            responses=NOT_A_MEMBER)
async def org_meter_consumption(org_id: uuid.UUID, meter_id: uuid.UUID, who: User, request: Request,
                                start: Annotated[IsoDate, Query(alias="from")],
                                end: Annotated[IsoDate, Query(alias="to")], step: Step = Step.day):
    """An organisation's meter, read by one of its members (manager or viewer)."""
    principal = await _as_organisation(request, who, org_id)
    return await _services(request).json(
        "consumption", "GET", f"/internal/meters/{meter_id}/consumption", principal=principal,
        params={"from": start.isoformat(), "to": end.isoformat(), "step": step.value})


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The report's page: its own style sheet inline, nothing else (no script, no fetch).
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'"


def printable(reply: Any, output: str, pdf_name: str) -> Any:
    """A consumption service's printable answer as the resident's browser gets it: JSON as is, the HTML page under
    its own CSP (inline styles only, nothing loaded), the PDF as a download named ``pdf_name``."""
    if output == "json":
        return reply.json()
    headers = {"content-security-policy": REPORT_CSP} if output == "html" else {
        "content-disposition": f'attachment; filename="{pdf_name}"'}
    return Response(reply.content, media_type="text/html; charset=utf-8" if output == "html" else "application/pdf",
                    headers=headers)


async def _portfolio(request: Request, who: Identity, org_id: uuid.UUID) -> list[dict[str, Any]]:
    """Every meter of the organisation with its building, as consent lists them (for a member only)."""
    listed = await _services(request).json("consent", "GET", f"/internal/orgs/{org_id}/buildings",
                                           principal=who.principal)
    return [{"meter_id": m["id"], "building_id": b["id"], "building": b["name"], "site": b["site"],
             "use_type": b["use_type"], "heated_area_m2": b["heated_area_m2"], "identifier": m["identifier"],
             "label": m["label"], "energy": m["energy"], "heating_energy": b["heating_energy"]}
            for b in listed for m in b["meters"]]


@router.get("/orgs/{org_id}/spreadsheet", response_class=StreamingResponse,
            responses={200: {"content": {XLSX: {}, "text/csv": {}}}, **NOT_A_MEMBER})
async def spreadsheet(org_id: uuid.UUID, who: User, request: Request,
                      year: Annotated[int, Query(ge=2000, le=2100)],
                      step: Literal["month", "year"] = "month", format: Literal["xlsx", "csv"] = "xlsx"):
    """Every meter of the organisation × the months (or the year) of `year`: kWh, €, kWh/m² (of its building's
    heated area), kg CO2e and data completeness (% of the period's days present) per cell, with a totals row.
    XLSX (frozen header, units in the header) or CSV (UTF-8, `;`); streamed."""
    meters = await _portfolio(request, who, org_id)
    return await streams.pass_through(
        request, "consumption", "POST", "/internal/orgs/spreadsheet", principal=Principal(org_id, ("org_member",)),
        json={"year": year, "step": step, "format": format, "meters": meters},
        media_type=XLSX if format == "xlsx" else "text/csv; charset=utf-8",
        filename=f"metroenergies-portefeuille-{year}.{format}")


@router.get("/orgs/{org_id}/report", response_model=AnnualReport,
            responses={200: {"content": {"text/html": {}, "application/pdf": {}}}, **NOT_A_MEMBER})
async def annual_report(org_id: uuid.UUID, who: User, request: Request,
                        year: Annotated[int, Query(ge=2000, le=2100)],
                        format: Annotated[Literal["json", "html", "pdf"] | None, Query(
                            description="overrides the Accept header (for a link)")] = None):
    """The annual report per type of building: per use type the buildings, floor area, kWh, kWh/m² raw and
    weather-normalised, €, CO2e, the change against the year before; and the 10 buildings furthest above their
    type's median. JSON by default; `Accept: text/html` (a page that prints well) or `application/pdf`."""
    accept = request.headers.get("accept", "")
    output = format or ("pdf" if "application/pdf" in accept else "html" if "text/html" in accept else "json")
    org = await _services(request).json("consent", "GET", f"/internal/orgs/{org_id}", principal=who.principal)
    meters = await _portfolio(request, who, org_id)
    reply = await _services(request).send(
        "consumption", "POST", "/internal/orgs/report", principal=Principal(org_id, ("org_member",)),
        params={"output": output, "organisation": org["name"]}, json={"year": year, "meters": meters})
    return printable(reply, output, f"metroenergies-rapport-{year}.pdf")


PARIS = ZoneInfo("Europe/Paris")


@router.get("/orgs/{org_id}/excess", response_model=OrgExcess, responses=NOT_A_MEMBER)
async def excess(org_id: uuid.UUID, who: User, request: Request,
                 weeks: Annotated[int, Query(ge=1, le=12)] = 1):
    """Excess tracking: per building, the organisation's meters whose consumption was well above their own
    baseline (anomaly episodes) during the last `weeks` weeks up to today, with the excess in kWh and € when
    priced — what the weekly digest e-mails the members. For its members (manager or viewer) only."""
    meters = await _portfolio(request, who, org_id)
    end = dt.datetime.now(PARIS).date() + dt.timedelta(days=1)
    return await _services(request).json(
        "consumption", "POST", "/internal/orgs/excess", principal=Principal(org_id, ("org_member",)),
        json={"start": (end - dt.timedelta(days=7 * weeks)).isoformat(), "end": end.isoformat(), "meters": meters})
