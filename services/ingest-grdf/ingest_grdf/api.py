"""Internal routes: the ADICT declaration for the consent service, and collection administration. Every
route takes a service token."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from ingest_grdf import models, repository, rights
from ingest_grdf.adict import CAPABILITIES
from ingest_grdf.schemas import AccessRightIn, AccessRightOut
from metro.collection import cycle_view, open_cycle
from metro.db import DbSession
from metro.errors import AppError, UpstreamError, error_responses
from metro.service_auth import Caller, caller

router = APIRouter(prefix="/internal", tags=["internal"])


@router.post("/access-rights", response_model=AccessRightOut, responses=error_responses(AppError, UpstreamError))
async def declare_access_right(body: AccessRightIn, request: Request, session: DbSession,
                               _: Caller = Depends(caller)) -> dict[str, Any]:
    """Declares the access right at GRDF (the holder then validates it by e-mail) and watches its state."""
    rt = request.app.state.runtime
    answer = await rights.declare(rt, session, body)
    rt.extras["wake_rights"].set()
    return answer


@router.post("/access-rights/check", status_code=202)
async def check_access_rights(request: Request, _: Caller = Depends(caller)) -> dict[str, str]:
    """Lists every watched right at GRDF now instead of at the next poll."""
    request.app.state.runtime.extras["wake_rights"].set()
    return {"status": "scheduled"}


@router.post("/collections/run", status_code=202)
async def run_collection(request: Request, session: DbSession,
                         _: Caller = Depends(caller)) -> dict[str, Any]:
    """Every active meter becomes due now and every watched access right is listed at GRDF (a day already
    collected asks GRDF nothing, so the listing is what tells a right is gone); returns at once."""
    due = await repository.make_all_due(session)
    cycle_id = await open_cycle(session, models.cycles, CAPABILITIES.dso, trigger="manual")
    request.app.state.runtime.extras["wake"].set()
    request.app.state.runtime.extras["wake_rights"].set()
    return {"cycle_id": str(cycle_id), "meters_due": due}


@router.get("/collections")
async def collections(request: Request, session: DbSession,
                      _: Caller = Depends(caller)) -> dict[str, Any]:
    r = await repository.report(session)
    last = cycle_view(r["last_cycle"])
    return {"dso": CAPABILITIES.dso, "last_cycle": last, "outcomes": last["outcomes"] if last else {},
            "meters_collected": r["meters_collected"], "meters_active": r["meters_active"],
            "access_rights": r["access_rights"],
            "quota_used": await request.app.state.runtime.extras["bucket"].usage(),
            "failures": r["failures"],
            # Days GRDF kept failing (a retry code in an otherwise good answer), asked again at each cycle.
            "gaps": r["gaps"],
            "capabilities": {"publication_time": CAPABILITIES.publication_time.isoformat(),
                             "lag_days": [CAPABILITIES.lag_days_min, CAPABILITIES.lag_days_max],
                             "history_days": CAPABILITIES.history_days}}
