"""Internal routes: the ADICT declaration for the consent service, and collection administration. Every
route takes a service token."""
from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from ingest_grdf import repository, rights
from ingest_grdf.adict import CAPABILITIES
from ingest_grdf.schemas import AccessRightIn, AccessRightOut
from metro.collection import MAX_METERS, collection_statuses, collections_view, freshness_counts, run_now
from metro.db import DbSession
from metro.errors import AppError, UpstreamError, error_responses
from metro.schemas.collection import CollectionStatus
from metro.service_auth import Caller, caller

router = APIRouter(prefix="/internal", tags=["internal"])
by_consent = caller("consent")
by_gateway = caller("gateway")


@router.post("/access-rights", response_model=AccessRightOut, responses=error_responses(AppError, UpstreamError))
async def declare_access_right(body: AccessRightIn, request: Request, session: DbSession,
                               _: Caller = Depends(by_consent)) -> dict[str, Any]:
    """Declares the access right at GRDF (the holder then validates it by e-mail) and watches its state."""
    rt = request.app.state.runtime
    answer = await rights.declare(rt, session, body)
    rt.extras["wake_rights"].set()
    return answer


@router.post("/access-rights/check", status_code=202)
async def check_access_rights(request: Request, _: Caller = Depends(by_gateway)) -> dict[str, str]:
    """Lists every watched right at GRDF now instead of at the next poll."""
    request.app.state.runtime.extras["wake_rights"].set()
    return {"status": "scheduled"}


@router.post("/collections/run", status_code=202)
async def run_collection(request: Request, session: DbSession,
                         _: Caller = Depends(by_gateway)) -> dict[str, Any]:
    """Every active meter becomes due now and every watched access right is listed at GRDF (a day already
    collected asks GRDF nothing, so the listing is what tells a right is gone); returns at once."""
    return await run_now(request.app.state.runtime, session, repository.store, CAPABILITIES, "wake_rights")


@router.get("/collections")
async def collections(request: Request, session: DbSession,
                      _: Caller = Depends(by_gateway)) -> dict[str, Any]:
    r = await repository.report(session)
    # Days GRDF kept failing (a retry code in an otherwise good answer), asked again at each cycle.
    return await collections_view(request.app.state.runtime, r, CAPABILITIES,
                                  await freshness_counts(session, repository.store, CAPABILITIES),
                                  access_rights=r["access_rights"], gaps=r["gaps"])


@router.get("/collection/meters", response_model=list[CollectionStatus])
async def collection_status(session: DbSession,
                            meter_id: Annotated[list[uuid.UUID], Query(max_length=MAX_METERS)],
                            _: Caller = Depends(by_gateway)) -> list[CollectionStatus]:
    """These meters' last day collected and freshness against ADICT's publication time and lag."""
    return await collection_statuses(session, repository.store, CAPABILITIES, meter_id)
