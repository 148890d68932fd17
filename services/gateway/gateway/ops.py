"""Operations: the health of the gateway and of every service it depends on."""
from __future__ import annotations

import asyncio
import uuid
from typing import Literal

import aiohttp
from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import JSONResponse

from gateway import audit, repository
from gateway.auth import Admin
from gateway.edge import docs_csp
from gateway.schemas import Health, PublicHealth
from metro.db import DbSession
from metro.errors import AppError, Conflict, NotFound, UpstreamError, error_responses
from metro.schemas.consent import (AddressDecision, AddressMismatch, ClaimRelease, ClaimReleased, ConsentView,
                                   SgeSubscription)
from metro.services import COLLECTORS, HEALTH

router = APIRouter(prefix="/api/v1", tags=["operations"])
DEPENDENCIES = HEALTH


async def _service_ready(http: aiohttp.ClientSession, url: str) -> str:
    try:
        async with http.get(f"{url}/health/ready", timeout=aiohttp.ClientTimeout(total=3)) as r:
            return "ok" if r.status == 200 else f"unavailable ({r.status})"
    except (aiohttp.ClientError, TimeoutError) as exc:
        return f"unreachable ({type(exc).__name__})"


async def _database_ready(rt) -> str:
    try:
        async with rt.db.engine.connect() as conn:
            await repository.ping(conn)
        return "ok"
    except Exception as exc:  # noqa: BLE001 - whatever fails, the check answers "down", never the route
        return f"down ({type(exc).__name__})"


async def _checks(request: Request) -> dict[str, str]:
    rt = request.app.state.runtime
    checks = {"gateway.database": await _database_ready(rt)}
    results = await asyncio.gather(*(_service_ready(rt.services.http, rt.settings.url_of(s)) for s in DEPENDENCIES))
    checks.update(dict(zip(DEPENDENCIES, results)))
    return checks


@router.get("/health", response_model=PublicHealth, responses={503: {"model": PublicHealth}})
async def health(request: Request):
    """Whether the platform answers: `ok` or `unavailable`, nothing more (details: `/admin/health`)."""
    ok = all(v == "ok" for v in (await _checks(request)).values())
    return JSONResponse(PublicHealth(status="ok" if ok else "unavailable").model_dump(), 200 if ok else 503)


@router.get("/admin/health", response_model=Health, tags=["admin"], responses={503: {"model": Health}})
async def admin_health(_: Admin, request: Request):
    """The gateway's database and every service it depends on, each with what went wrong."""
    checks = await _checks(request)
    ok = all(v == "ok" for v in checks.values())
    body = Health(status="ok" if ok else "unavailable", checks=checks)
    return JSONResponse(body.model_dump(), 200 if ok else 503)


@router.get("/docs", include_in_schema=False)
async def docs(_: Admin, request: Request):
    """Swagger UI, for administrators; the OpenAPI document itself is public (the API's contract)."""
    page = get_swagger_ui_html(openapi_url=request.app.openapi_url, title=f"{request.app.title} API")
    page.headers["content-security-policy"] = docs_csp(page.body)
    return page


CollectedDso = Literal[tuple(COLLECTORS)]


@router.post("/admin/collections/{dso}/run", status_code=202, tags=["admin"],
             responses=error_responses(UpstreamError))
async def run_collection(dso: CollectedDso, who: Admin, request: Request, session: DbSession):
    """Start a collection cycle now for one DSO; returns at once."""
    started = await request.app.state.runtime.services.json(COLLECTORS[dso], "POST", "/internal/collections/run",
                                                            principal=who.principal)
    await audit.record(session, who, "collection.started", dso)
    return started


@router.get("/admin/collections", tags=["admin"])
async def collections(who: Admin, request: Request):
    """Per DSO: last cycle, meters collected, failures by outcome, quota used."""
    rt = request.app.state.runtime

    async def one(dso: str):
        try:
            return await rt.services.json(COLLECTORS[dso], "GET", "/internal/collections", principal=who.principal)
        except AppError as exc:
            return {"dso": dso, "error": exc.code, "detail": exc.detail}
    return {"collections": await asyncio.gather(*(one(d) for d in COLLECTORS))}


@router.post("/admin/sge/subscriptions", response_model=ConsentView, status_code=201, tags=["admin"],
             responses=error_responses(NotFound, AppError))
async def sge_subscription(body: SgeSubscription, who: Admin, request: Request, session: DbSession):
    """Record an SGE subscription made on the Enedis portal against a resident's declared meter, with the
    written consent's reference and end date: the consent becomes active."""
    consent = await request.app.state.runtime.services.json(
        "consent", "POST", "/internal/admin/sge-subscriptions", principal=who.principal,
        json=body.model_dump(mode="json"))
    await audit.record(session, who, "sge_subscription.recorded", body.meter_id, reference=body.reference,
                       consent_end=body.consent_end.isoformat())
    return consent


@router.post("/admin/meter-claims/release", response_model=ClaimReleased, tags=["admin"],
             responses=error_responses(NotFound))
async def release_claim(body: ClaimRelease, who: Admin, request: Request, session: DbSession):
    """Give a meter's claim up, e.g. when its real holder shows the account that declared it is not theirs:
    a live consent on it ends with reason `claim_released` (recorded in its history with this administrator
    and the note) and another account may declare the meter."""
    released = await request.app.state.runtime.services.json(
        "consent", "POST", "/internal/admin/meter-claims/release", principal=who.principal,
        json=body.model_dump(mode="json"))
    await audit.record(session, who, "meter_claim.released", released["meter_id"], dso=body.dso, note=body.note)
    return released


@router.get("/admin/address-mismatches", response_model=list[AddressMismatch], tags=["admin"])
async def address_mismatches(who: Admin, request: Request):
    """Meters whose DSO address differs from the declared dwelling and that nobody has resolved yet: their data
    is collected but withheld."""
    return await request.app.state.runtime.services.json("consent", "GET", "/internal/admin/address-mismatches",
                                                         principal=who.principal)


@router.post("/admin/address-mismatches/{meter_id}", response_model=ConsentView, tags=["admin"],
             responses=error_responses(NotFound, Conflict))
async def decide_address(meter_id: uuid.UUID, body: AddressDecision, who: Admin, request: Request,
                         session: DbSession):
    """Clear the mismatch (the data is shown) or reject the consent (revoked with reason `address_rejected`, the
    data stays withheld); the decision and its note go into the consent's history."""
    consent = await request.app.state.runtime.services.json(
        "consent", "POST", f"/internal/admin/address-mismatches/{meter_id}", principal=who.principal,
        json=body.model_dump(mode="json"))
    await audit.record(session, who, "address_mismatch.decided", meter_id, decision=body.decision, note=body.note)
    return consent
