"""Internal routes of ingest-sge: run a collection now, the collection report for the admin health view, and
each meter's freshness for the gateway."""
from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from ingest_sge import repository, service, worker
from metro.collection import MAX_METERS
from metro.db import DbSession
from metro.schemas.collection import CollectionStatus, Freshness
from metro.service_auth import Caller, caller

router = APIRouter(prefix="/internal", tags=["collections"])
Session = DbSession
Gateway = Annotated[Caller, Depends(caller("gateway"))]


@router.post("/collections/run")
async def run_collection(request: Request, _: Gateway) -> dict:
    """One collection cycle now (waits for a running one to finish first); returns its report."""
    return await worker.run_cycle(request.app.state.runtime, "on_demand")


@router.get("/collections")
async def collections(session: Session, _: Gateway) -> dict:
    last = await repository.last_cycle(session)
    now = dt.datetime.now(dt.UTC)
    since = now - dt.timedelta(days=1)
    active = await repository.count_active_subscriptions(session)
    subscribed = [s.meter_id for s in (await repository.active_subscriptions(session)).values()]
    statuses = service.collection_statuses(await repository.collection_of(session, subscribed),
                                           last.outcome if last else None, now)
    freshness = Counter(s.freshness.value for s in statuses)
    return {
        "dso": "sge",
        "last_cycle": last.report if last else None,
        "meters_active": active,
        "freshness": {state.value: freshness.get(state.value, 0) for state in Freshness
                      if state is not Freshness.no_consent},
        "files": {"imported": 0, "quarantined": 0, "ignored": 0, **await repository.file_counts(session)},
        "quarantined": [{"name": q.name, "reason": q.reason, "detail": q.detail, "at": q.processed_at.isoformat()}
                        for q in await repository.quarantined(session)],
        "readings": await repository.reading_counts(session),
        "outcomes": await repository.cycle_outcomes(session, since),
        "subscriptions": {"active": active},
    }


@router.get("/collection/meters", response_model=list[CollectionStatus])
async def collection_status(session: Session,
                            meter_id: Annotated[list[uuid.UUID], Query(max_length=MAX_METERS)],
                            _: Gateway) -> list[CollectionStatus]:
    """These meters' last day collected and freshness against the R151 files' publication time and lag; a
    meter never subscribed here is left out."""
    last = await repository.last_cycle(session)
    rows = await repository.collection_of(session, meter_id)
    return service.collection_statuses(rows, last.outcome if last else None, dt.datetime.now(dt.UTC))
