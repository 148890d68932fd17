"""Internal routes of ingest-sge: run a collection now, and the collection report for the admin health view."""
from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Request

from ingest_sge import repository, worker
from metro.db import DbSession
from metro.service_auth import Caller, caller

router = APIRouter(prefix="/internal", tags=["collections"])
Session = DbSession


@router.post("/collections/run")
async def run_collection(request: Request, _: Annotated[Caller, Depends(caller)]) -> dict:
    """One collection cycle now (waits for a running one to finish first); returns its report."""
    return await worker.run_cycle(request.app.state.runtime, "on_demand")


@router.get("/collections")
async def collections(session: Session, _: Annotated[Caller, Depends(caller)]) -> dict:
    last = await repository.last_cycle(session)
    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    active = await repository.count_active_subscriptions(session)
    return {
        "dso": "sge",
        "last_cycle": last.report if last else None,
        "files": {"imported": 0, "quarantined": 0, "ignored": 0, **await repository.file_counts(session)},
        "quarantined": [{"name": q.name, "reason": q.reason, "detail": q.detail, "at": q.processed_at.isoformat()}
                        for q in await repository.quarantined(session)],
        "readings": await repository.reading_counts(session),
        "outcomes": await repository.cycle_outcomes(session, since),
        "subscriptions": {"active": active},
    }
