"""Energy advisers and the residents who share with them: the resident's shares and the advice notes they read;
the adviser's workspace, where every read of a resident's data goes through consent (the share's scope, the
access log)."""
from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from gateway import load_curve as curves
from gateway import repository
from gateway.auth import Identity, User, require_role
from gateway.meters import with_collection
from gateway.personal import read_as
from gateway.schemas import LoadCurveView, ShareRequest, SummaryView
from metro.db import DbSession
from metro.errors import AppError, Conflict, Forbidden, NotFound, error_responses
from metro.schemas import IsoDate
from metro.schemas.consent import (AdviceDraft, AdviceNote, Dwelling, MeterView, Share, SharedResident,
                                   ShareRenewal)
from metro.schemas.consumption import Comparison, ConsumptionSeries, ContractView, MaxPowerSeries, Step

router = APIRouter(prefix="/api/v1")
Adviser = Annotated[Identity, Depends(require_role("adviser"))]
NOT_SHARED = ("404 `resident_not_found` unless the resident shares this with you now (never shared, taken "
              "back, or past its end date). Logged in the resident's access log.")
# What the dwelling's description gives away through a comparison: its surface and occupants.
DWELLING_METRICS = ("kwh_per_m2", "kwh_per_occupant")


def _services(request: Request):
    return request.app.state.runtime.services


@router.post("/me/shares", response_model=Share, status_code=201, tags=["personal data"],
             responses=error_responses(NotFound, Conflict, AppError))
async def share(body: ShareRequest, who: User, request: Request, session: DbSession):
    """Share read access with an energy adviser (found by e-mail: 404 `adviser_not_found`), under the name and
    contact you choose, for the scope you choose, until `ends_on` (6 months by default). 409 `share_exists`
    while a share with this adviser is live."""
    adviser = await repository.account_by_email(session, body.adviser_email)
    if adviser is None or "adviser" not in adviser.roles or adviser.status != "active":
        raise NotFound("no energy adviser has this e-mail address", code="adviser_not_found")
    terms = body.model_dump(mode="json", exclude={"adviser_email"})
    return await _services(request).json("consent", "POST", "/internal/shares", principal=who.principal, json={
        **terms, "adviser_id": str(adviser.id), "adviser_name": adviser.display_name or adviser.email})


@router.get("/me/shares", response_model=list[Share], tags=["personal data"])
async def shares(who: User, request: Request):
    """Every share, live or not: `status` is `active`, `expired` (past `ends_on`) or `revoked`."""
    return await _services(request).json("consent", "GET", "/internal/shares", principal=who.principal)


@router.delete("/me/shares/{share_id}", response_model=Share, tags=["personal data"],
               responses=error_responses(NotFound))
async def unshare(share_id: uuid.UUID, who: User, request: Request):
    """Take the share back: the adviser loses access at once."""
    return await _services(request).json("consent", "DELETE", f"/internal/shares/{share_id}",
                                         principal=who.principal)


@router.post("/me/shares/{share_id}/renewal", response_model=Share, tags=["personal data"],
             responses=error_responses(NotFound, Conflict, AppError))
async def renew_share(share_id: uuid.UUID, body: ShareRenewal, who: User, request: Request):
    """Extend a share (live or expired, not taken back) to a new end date, 6 months from today by default. 422
    `invalid_share_end`; 404 `share_not_found` for a share taken back."""
    return await _services(request).json("consent", "POST", f"/internal/shares/{share_id}/renewal",
                                         principal=who.principal, json=body.model_dump(mode="json"))


@router.get("/me/advice", response_model=list[AdviceNote], tags=["advice"])
async def my_advice(who: User, request: Request):
    """Advice notes written by the advisers you share (or shared) with, newest first."""
    return await _services(request).json("consent", "GET", "/internal/advice", principal=who.principal)


@router.delete("/me/advice/{note_id}", status_code=204, tags=["advice"], responses=error_responses(NotFound))
async def delete_advice(note_id: uuid.UUID, who: User, request: Request):
    """Delete an advice note (404 `advice_not_found` unless it is yours)."""
    await _services(request).send("consent", "DELETE", f"/internal/advice/{note_id}", principal=who.principal)


# --- the adviser's workspace ----------------------------------------------------------------------------------

@router.get("/adviser/residents", response_model=list[SharedResident], tags=["adviser"])
async def shared_residents(who: Adviser, request: Request):
    """The residents who share with you now, under the name and contact each chose, with what and until when."""
    rows = await _services(request).json("consent", "GET", f"/internal/advisers/{who.account_id}/shares")
    return [{"share_id": r["id"], "resident_id": r["resident_id"], "name": r["resident_name"],
             "contact": r["resident_contact"], "scopes": r["scopes"], "ends_on": r["ends_on"],
             "shared_at": r["created_at"]} for r in rows]


@router.get("/adviser/residents/{resident_id}/dwelling", response_model=Dwelling, tags=["adviser"],
            responses=error_responses(NotFound), description=NOT_SHARED)
async def resident_dwelling(resident_id: uuid.UUID, who: Adviser, request: Request):
    """The dwelling's description, when the resident shares it (scope `dwelling`)."""
    principal, _ = await read_as(request, who, resident_id, "dwelling", "dwelling profile")
    return await _services(request).json("consent", "GET", "/internal/dwelling", principal=principal)


@router.get("/adviser/residents/{resident_id}/meters", response_model=list[MeterView], tags=["adviser"],
            responses=error_responses(NotFound), description=NOT_SHARED)
async def resident_meters(resident_id: uuid.UUID, who: Adviser, request: Request):
    """The resident's meters; each meter's `contract` only when the resident shares it (scope `contract`)."""
    principal, scopes = await read_as(request, who, resident_id, "consumption", "meters")
    listed = await _services(request).json("consent", "GET", "/internal/meters", principal=principal)
    meters = await with_collection(_services(request), principal, listed)
    if "contract" not in scopes:
        for m in meters:
            m["contract"] = None
    return meters


@router.get("/adviser/residents/{resident_id}/meters/{meter_id}/consumption", response_model=ConsumptionSeries,
            tags=["adviser"], responses=error_responses(NotFound, AppError), description=NOT_SHARED)
async def resident_consumption(resident_id: uuid.UUID, meter_id: uuid.UUID, who: Adviser, request: Request,
                               start: Annotated[IsoDate, Query(alias="from")],
                               end: Annotated[IsoDate, Query(alias="to")], step: Step = Step.day):
    principal, _ = await read_as(request, who, resident_id, "consumption",
                                 f"consumption of meter {meter_id} from {start} to {end}")
    return await _services(request).json(
        "consumption", "GET", f"/internal/meters/{meter_id}/consumption", principal=principal,
        params={"from": start.isoformat(), "to": end.isoformat(), "step": step.value})


def _within(comparison: dict[str, Any] | None, scopes: list[str]) -> dict[str, Any] | None:
    if comparison is not None and "dwelling" not in scopes:
        comparison.update(dict.fromkeys(DWELLING_METRICS))
    return comparison


@router.get("/adviser/residents/{resident_id}/meters/{meter_id}/comparison", response_model=Comparison,
            tags=["adviser"], responses=error_responses(NotFound, AppError), description=NOT_SHARED)
async def resident_comparison(resident_id: uuid.UUID, meter_id: uuid.UUID, who: Adviser, request: Request,
                              start: Annotated[IsoDate, Query(alias="from")],
                              end: Annotated[IsoDate, Query(alias="to", description="exclusive")]):
    """The home beside similar homes; per m² and per occupant only when the dwelling is shared."""
    principal, scopes = await read_as(request, who, resident_id, "consumption",
                                      f"comparison of meter {meter_id} from {start} to {end}")
    return _within(await _services(request).json(
        "consumption", "GET", f"/internal/meters/{meter_id}/comparison", principal=principal,
        params={"from": start.isoformat(), "to": end.isoformat()}), scopes)


@router.get("/adviser/residents/{resident_id}/summary", response_model=SummaryView, tags=["adviser"],
            responses=error_responses(NotFound), description=NOT_SHARED)
async def resident_summary(resident_id: uuid.UUID, who: Adviser, request: Request):
    """The resident's dashboard: every meter's last 7 days, month to date, comparison, alerts."""
    principal, scopes = await read_as(request, who, resident_id, "consumption", "summary")
    summary = await _services(request).json("consumption", "GET", "/internal/me/summary", principal=principal)
    for m in summary["meters"]:
        _within(m.get("comparison"), scopes)
    return summary


@router.get("/adviser/residents/{resident_id}/meters/{meter_id}/contract", response_model=ContractView,
            tags=["adviser"], responses=error_responses(NotFound), description=NOT_SHARED)
async def resident_contract(resident_id: uuid.UUID, meter_id: uuid.UUID, who: Adviser, request: Request):
    """A meter's contract, when the resident shares it (scope `contract`)."""
    principal, _ = await read_as(request, who, resident_id, "contract", f"contract of meter {meter_id}")
    return await _services(request).json("consumption", "GET", f"/internal/meters/{meter_id}/contract",
                                         principal=principal)


@router.get("/adviser/residents/{resident_id}/advice", response_model=list[AdviceNote], tags=["adviser"],
            responses=error_responses(NotFound), description=NOT_SHARED)
async def advice_written(resident_id: uuid.UUID, who: Adviser, request: Request):
    """The notes you wrote to this resident (and they have not deleted)."""
    await read_as(request, who, resident_id, "consumption", "advice notes")
    return await _services(request).json("consent", "GET", "/internal/advice/written", principal=who.principal,
                                         params={"resident_id": str(resident_id)})


@router.post("/adviser/residents/{resident_id}/advice", response_model=AdviceNote, status_code=201,
             tags=["adviser"], responses=error_responses(NotFound, Forbidden, AppError))
async def write_advice(resident_id: uuid.UUID, body: AdviceDraft, who: Adviser, request: Request):
    """Write advice to a resident who shares with you now (404 `resident_not_found` otherwise; 403
    `forbidden_role` unless you are an adviser); they read it in their app and may delete it."""
    return await _services(request).json("consent", "POST", "/internal/advice", principal=who.principal,
                                         json={"resident_id": str(resident_id), "body": body.body})


@router.get("/adviser/residents/{resident_id}/meters/{meter_id}/load-curve", response_model=LoadCurveView,
            tags=["adviser"], responses=error_responses(NotFound))
async def resident_load_curve(resident_id: uuid.UUID, meter_id: uuid.UUID, who: Adviser, request: Request,
                              start: Annotated[IsoDate, Query(alias="from")],
                              end: Annotated[IsoDate, Query(alias="to")]):
    """A sharing resident's load curve (consumption scope), as the resident sees it; the read is logged."""
    principal, _ = await read_as(request, who, resident_id, "consumption",
                                 f"load curve of meter {meter_id} from {start} to {end}")
    return await curves.load_curve(request.app.state.runtime.services, principal, meter_id, start, end)


@router.get("/adviser/residents/{resident_id}/meters/{meter_id}/max-power", response_model=MaxPowerSeries,
            tags=["adviser"], responses=error_responses(NotFound))
async def resident_max_power(resident_id: uuid.UUID, meter_id: uuid.UUID, who: Adviser, request: Request,
                             start: Annotated[IsoDate, Query(alias="from")],
                             end: Annotated[IsoDate, Query(alias="to")]):
    principal, _ = await read_as(request, who, resident_id, "consumption",
                                 f"maximum power of meter {meter_id} from {start} to {end}")
    return await curves.max_power(request.app.state.runtime.services, principal, meter_id, start, end)
