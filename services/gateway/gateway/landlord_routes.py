"""Landlord statements (issue 23 item 4): a housing building's dwellings with their share key, the role of its
meters, the tenant's invitation, and the monthly statement per dwelling — for the organisation's members
(manager or viewer) as data, a printable page or a PDF, and for the tenant who accepted their dwelling's
invitation, their dwelling's only. Consent says who may read which building; consumption computes from the
monthly rollups of the meters the organisation holds."""
from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from gateway.auth import User, VerifiedUser
from gateway.org_routes import printable
from metro.errors import Conflict, Forbidden, NotFound, error_responses
from metro.schemas.landlord import (BuildingStatements, DwellingCreate, InvitationAccept, MeterRoleUpdate,
                                    OrgDwelling, StatementMeter, TenantInvitation)
from metro.service_auth import Principal

router = APIRouter(prefix="/api/v1", tags=["landlord statements"])
BUILDING = "/orgs/{org_id}/buildings/{building_id}"
Month = Annotated[str, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")]
Format = Annotated[Literal["json", "html", "pdf"] | None, Query(description="overrides the Accept header")]
PAGES = {200: {"content": {"text/html": {}, "application/pdf": {}}}}


class Tenancy(BaseModel):
    """A dwelling the tenant linked themselves to."""
    dwelling_id: uuid.UUID
    label: str
    floor_area_m2: float
    building: str
    address: str
    landlord: str


def _services(request: Request):
    return request.app.state.runtime.services


def _consent_path(org_id: uuid.UUID, building_id: uuid.UUID, rest: str) -> str:
    return f"/internal/orgs/{org_id}/buildings/{building_id}{rest}"


@router.post(BUILDING + "/dwellings", response_model=OrgDwelling, status_code=201,
             responses=error_responses(NotFound, Forbidden, Conflict))
async def add_dwelling(org_id: uuid.UUID, building_id: uuid.UUID, body: DwellingCreate, who: User,
                       request: Request):
    """A manager adds a dwelling to a housing building: label, floor area, and its tantièmes of the collective
    heating and hot water (split by floor area when a dwelling of the building has none)."""
    return await _services(request).json("consent", "POST", _consent_path(org_id, building_id, "/dwellings"),
                                         principal=who.principal, json=body.model_dump(mode="json"))


@router.get(BUILDING + "/dwellings", response_model=list[OrgDwelling], responses=error_responses(NotFound))
async def list_dwellings(org_id: uuid.UUID, building_id: uuid.UUID, who: User, request: Request):
    return await _services(request).json("consent", "GET", _consent_path(org_id, building_id, "/dwellings"),
                                         principal=who.principal)


@router.put(BUILDING + "/dwellings/{dwelling_id}", response_model=OrgDwelling,
            responses=error_responses(NotFound, Forbidden, Conflict))
async def update_dwelling(org_id: uuid.UUID, building_id: uuid.UUID, dwelling_id: uuid.UUID, body: DwellingCreate,
                          who: User, request: Request):
    """A manager corrects a dwelling: label, floor area, tantièmes (the whole dwelling is sent again)."""
    return await _services(request).json(
        "consent", "PUT", _consent_path(org_id, building_id, f"/dwellings/{dwelling_id}"), principal=who.principal,
        json=body.model_dump(mode="json"))


@router.get(BUILDING + "/statement-meters", response_model=list[StatementMeter], responses=error_responses(NotFound))
async def statement_meters(org_id: uuid.UUID, building_id: uuid.UUID, who: User, request: Request):
    """The housing building's meters with their role in the statements (collective heating or hot water, one
    dwelling's own, none), for the organisation's members."""
    building = await _services(request).json(
        "consent", "GET", _consent_path(org_id, building_id, "/statement-input"), principal=who.principal)
    return building["meters"]


@router.put(BUILDING + "/meters/{meter_id}/statement-role", response_model=StatementMeter,
            responses=error_responses(NotFound, Forbidden, Conflict))
async def set_meter_role(org_id: uuid.UUID, building_id: uuid.UUID, meter_id: uuid.UUID, body: MeterRoleUpdate,
                         who: User, request: Request):
    """A manager says what a building meter measures: the collective heating or hot water (split between the
    dwellings), one dwelling's own meter, or `none`."""
    return await _services(request).json(
        "consent", "PUT", _consent_path(org_id, building_id, f"/meters/{meter_id}/statement-role"),
        principal=who.principal, json=body.model_dump(mode="json"))


@router.post(BUILDING + "/dwellings/{dwelling_id}/invitation", response_model=TenantInvitation, status_code=201,
             responses=error_responses(NotFound, Forbidden, Conflict))
async def invite_tenant(org_id: uuid.UUID, building_id: uuid.UUID, dwelling_id: uuid.UUID, who: User,
                        request: Request):
    """A manager gets a code for the dwelling's tenant (valid 30 days, once; a new one replaces it). The tenant
    enters it in their app and reads their dwelling's statements there."""
    return await _services(request).json(
        "consent", "POST", _consent_path(org_id, building_id, f"/dwellings/{dwelling_id}/invitation"),
        principal=who.principal)


async def _statements(request: Request, building: dict[str, Any], month: str, output: str,
                      only: uuid.UUID | None, filename: str) -> Any:
    reply = await _services(request).send(
        "consumption", "POST", "/internal/orgs/landlord-statements",
        principal=Principal(uuid.UUID(building["org_id"]), ("org_member",)), params={"output": output},
        json={"month": month, "building": building, "only": str(only) if only else None})
    return printable(reply, output, filename)


def _output(request: Request, format: str | None) -> str:
    accept = request.headers.get("accept", "")
    return format or ("pdf" if "application/pdf" in accept else "html" if "text/html" in accept else "json")


@router.get(BUILDING + "/statements", response_model=BuildingStatements,
            responses={**PAGES, **error_responses(NotFound, Conflict)})
async def building_statements(org_id: uuid.UUID, building_id: uuid.UUID, who: User, request: Request, month: Month,
                              dwelling: uuid.UUID | None = None, format: Format = None):
    """The month's statement of every dwelling (or of `dwelling`): its own meters and its share of the
    collective heating and hot water (kWh and €, marked `estimated_by_share_key`). JSON by default;
    `Accept: text/html` (one printable page per dwelling) or `application/pdf`. Members of the organisation
    only (404 `org_not_found` to anyone else)."""
    building = await _services(request).json(
        "consent", "GET", _consent_path(org_id, building_id, "/statement-input"), principal=who.principal)
    return await _statements(request, building, month, _output(request, format), dwelling,
                             f"metroenergies-releves-{month}.pdf")


def _tenancy(entry: dict[str, Any]) -> Tenancy:
    b = entry["building"]
    d = next(d for d in b["dwellings"] if d["id"] == entry["dwelling_id"])
    return Tenancy(dwelling_id=d["id"], label=d["label"], floor_area_m2=d["floor_area_m2"], building=b["building"],
                   address=b["address"], landlord=b["organisation"])


@router.post("/me/tenancies", response_model=list[Tenancy], status_code=201, tags=["personal data"],
             responses=error_responses(NotFound))
async def accept_invitation(body: InvitationAccept, who: VerifiedUser, request: Request):
    """The tenant enters the code their landlord gave them: their dwelling's monthly statements appear in their
    app (404 `invitation_not_found` for an unknown, used or expired code)."""
    entries = await _services(request).json("consent", "POST", "/internal/tenant/dwellings", principal=who.principal,
                                            json=body.model_dump())
    return [_tenancy(e) for e in entries]


@router.get("/me/tenancies", response_model=list[Tenancy], tags=["personal data"])
async def my_tenancies(who: User, request: Request):
    entries = await _services(request).json("consent", "GET", "/internal/tenant/dwellings", principal=who.principal)
    return [_tenancy(e) for e in entries]


@router.delete("/me/tenancies/{dwelling_id}", status_code=204, tags=["personal data"],
               responses=error_responses(NotFound))
async def leave_tenancy(dwelling_id: uuid.UUID, who: User, request: Request):
    """The tenant unlinks themselves from the dwelling (the landlord's statements stop appearing)."""
    await _services(request).send("consent", "DELETE", f"/internal/tenant/dwellings/{dwelling_id}",
                                  principal=who.principal)
    return Response(status_code=204)


@router.get("/me/tenancies/{dwelling_id}/statement", response_model=BuildingStatements,
            responses={**PAGES, **error_responses(NotFound)})
async def my_statement(dwelling_id: uuid.UUID, who: User, request: Request, month: Month, format: Format = None):
    """The tenant's monthly statement of their dwelling, read-only: JSON, a printable page or a PDF. Only the
    dwelling they linked themselves to (404 `dwelling_not_found` otherwise)."""
    entries = await _services(request).json("consent", "GET", "/internal/tenant/dwellings", principal=who.principal)
    entry = next((e for e in entries if e["dwelling_id"] == str(dwelling_id)), None)
    if entry is None:
        raise NotFound("no such dwelling", code="dwelling_not_found")
    return await _statements(request, entry["building"], month, _output(request, format), dwelling_id,
                             f"metroenergies-releve-{month}.pdf")
