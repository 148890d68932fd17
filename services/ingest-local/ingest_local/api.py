"""Routes of ingest-local: run a collection now, the collection report and each meter's freshness for the
gateway (internal), and the upload endpoint for the operators who push their files (``/upload``)."""
from __future__ import annotations

import datetime as dt
import hmac
import uuid
from collections import Counter
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Path, Query, Request

from ingest_local import profiles, repository, service, worker
from ingest_local.models import subscriptions
from metro.bodies import read_limited
from metro.collection import MAX_METERS
from metro.db import DbSession
from metro.errors import AppError, NotFound
from metro.schemas.collection import CollectionStatus, Freshness
from metro.service_auth import Caller, caller

router = APIRouter(prefix="/internal", tags=["collections"])
uploads = APIRouter(prefix="/upload", tags=["uploads"])
Session = DbSession
Gateway = Annotated[Caller, Depends(caller("gateway"))]
FILE_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,120}$"


@router.post("/collections/run")
async def run_collection(request: Request, _: Gateway) -> dict:
    """One collection cycle now (waits for a running one to finish first); returns its report."""
    return await worker.run_cycle(request.app.state.runtime, "on_demand")


@router.get("/collections")
async def collections(session: Session, _: Gateway) -> dict:
    last = await repository.last_cycle(session)
    subscribed = list((await session.execute(sa.select(subscriptions.c.meter_id)
                                             .where(subscriptions.c.active))).scalars())
    statuses = service.collection_statuses(await repository.collection_of(session, subscribed),
                                           last.outcome if last else None, dt.datetime.now(dt.UTC))
    counts = Counter(s.freshness.value for s in statuses)
    return {
        "dso": "local",
        "last_cycle": last.report if last else None,
        "freshness": {state.value: counts.get(state.value, 0) for state in Freshness
                      if state is not Freshness.no_consent},
        "files": {"imported": 0, "quarantined": 0, "ignored": 0, **await repository.file_counts(session)},
        "quarantined": [{"operator": q.operator, "name": q.name, "reason": q.reason, "detail": q.detail,
                         "at": q.processed_at.isoformat()} for q in await repository.quarantined(session)],
        "subscriptions": {"active": await repository.count_active_subscriptions(session)},
        "profiles": [{"name": p.name, "operator": p.operator, "energy": p.energy, "files": p.data.files}
                     for p in profiles.all_profiles()],
    }


@router.get("/collection/meters", response_model=list[CollectionStatus])
async def collection_status(session: Session,
                            meter_id: Annotated[list[uuid.UUID], Query(max_length=MAX_METERS)],
                            _: Gateway) -> list[CollectionStatus]:
    """These meters' last day collected and freshness; a meter never subscribed here is left out."""
    last = await repository.last_cycle(session)
    rows = await repository.collection_of(session, meter_id)
    return service.collection_statuses(rows, last.outcome if last else None, dt.datetime.now(dt.UTC))


def _operator(request: Request, operator: str) -> str:
    """The operator whose upload token the request carries; every refusal looks the same to the caller."""
    tokens = request.app.state.runtime.settings.upload_tokens
    given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    expected = tokens.get(operator, "")
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise AppError("unknown operator or wrong upload token", code="upload_unauthorized", status_code=401)
    return operator


@uploads.put("/{operator}/{name}")
async def upload(request: Request, operator: Annotated[str, Path(pattern=r"^[a-z_]{2,40}$")],
                 name: Annotated[str, Path(pattern=FILE_NAME)]) -> dict:
    """An operator that pushes sends one file, named as on the drop, with its upload token; the answer is the
    file's outcome (imported, quarantined with the reason, already_done for a file sent twice)."""
    _operator(request, operator)
    rt = request.app.state.runtime
    if operator not in profiles.operators():
        raise NotFound("no profile for this operator", code="operator_unknown")
    data = await read_limited(request, rt.settings.max_file_bytes, code="file_too_large", what="the file")
    consents = await worker.consents_of(rt.services, operator)
    async with rt.db.session() as session, session.begin():
        [outcome] = await service.import_files(session, rt.outbox, operator, [service.DropFile(name, len(data), data)],
                                               via="upload", pending=consents, report=worker.reporter(rt.services),
                                               max_file_bytes=rt.settings.max_file_bytes)
    return outcome.view()
