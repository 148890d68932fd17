"""Internal routes: the DSO side of the consent pages (for the consent service), usage-point data, and
collection administration. Every route takes a service token."""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from ingest_enedis import confirmation, repository
from ingest_enedis.dataconnect import DataConnectClient
from ingest_enedis.dataconnect_calendar import CAPABILITIES, PARIS
from ingest_enedis.dataconnect_payloads import CURVE_NOT_RECORDED, ConsentRedirect, parse_consent_redirect
from ingest_enedis.schemas import ConfirmationIn, ConfirmationOut, RedirectIn
from ingest_enedis.load_curve import earliest_curve_day
from ingest_enedis.priority import pulled_due, update_by
from ingest_enedis.service import Collector, current_turns
from metro.collection import (MAX_METERS, CallFailed, CallStats, collection_statuses, collections_view,
                              freshness_counts, run_now)
from metro.db import DbSession
from metro.dso import Outcome
from metro.errors import AppError, Forbidden, NotFound, TooManyRequests, Unprocessable, UpstreamError, error_responses
from metro.schemas.collection import CollectionStatus, LoadCurveCollection, LoadCurveState
from metro.service_auth import Caller, caller

router = APIRouter(prefix="/internal", tags=["internal"])
by_consent = caller("consent")
by_gateway = caller("gateway")

# Redirect parameters that are credentials, never kept as evidence.
SECRET_PARAMS = {"code", "access_token", "refresh_token", "id_token"}


def _client(request: Request) -> DataConnectClient:
    return request.app.state.runtime.extras["client"]


async def _dso(request: Request, make_call) -> Any:
    """Calls on behalf of the consent service, each request under the same quota as collection (``make_call``
    gets how to run each)."""
    rt = request.app.state.runtime
    collector = Collector(rt, rt.extras["client"], rt.extras["bucket"], "api")
    try:
        return await make_call(lambda call: collector.call(CallStats(), call))
    except CallFailed as failed:
        error = failed.error
        if error.outcome is Outcome.consent_revoked:
            raise Forbidden("Enedis holds no consent for this usage point", code="dso_consent_missing") from None
        if error.outcome is Outcome.no_data:
            raise NotFound("Enedis knows nothing for this usage point", code="usage_point_not_found") from None
        if error.outcome is Outcome.bad_request:
            raise Unprocessable(str(error), code="invalid_prm" if error.code == "invalid_prm" else "dso_bad_request") \
                from None
        if error.outcome is Outcome.quota_exceeded:
            raise TooManyRequests("Enedis quota reached, try again later", code="dso_quota_exceeded",
                                  headers={"retry-after": str(int(error.retry_after or 60))}) from None
        raise UpstreamError("Enedis Data Connect is unavailable", code="dso_unavailable") from None


@router.get("/consent/authorize-url", responses=error_responses(Unprocessable))
async def authorize_url(request: Request, state: str = Query(..., min_length=1, max_length=100),
                        duration: str = Query("P3Y", pattern=r"^P(\d+Y)?(\d+M)?(\d+W)?(\d+D)?$"),
                        _: Caller = Depends(by_consent)) -> dict[str, str]:
    return {"url": _client(request).authorize_url(state, duration)}


@router.post("/consent/redirect", response_model=ConfirmationOut, responses=error_responses(AppError))
async def consent_redirect(request: Request, body: RedirectIn,
                           _: Caller = Depends(by_consent)) -> ConfirmationOut:
    """The consent page's answer, and whether Enedis itself confirms the meter's PRM for this consent."""
    redirect = parse_consent_redirect(body.params)
    if redirect.error in ("access_denied", "consent_refused"):
        raise AppError(redirect.error_description or redirect.error, code="consent_refused", status_code=409)
    if redirect.error is not None or not redirect.granted:
        raise AppError(f"not a Data Connect consent redirect ({redirect.error or 'no usage point'})",
                       code="bad_redirect")
    checked = await confirmation.confirm(request.app.state.runtime, redirect, body.prm)
    evidence = {"params": {k: v for k, v in body.params.items() if k not in SECRET_PARAMS},
                "received_at": dt.datetime.now(dt.UTC).isoformat(), **checked.evidence}
    return ConfirmationOut(dso_confirmation=checked.verdict, usage_point_ids=checked.usage_point_ids,
                           generation=checked.generation, detail=checked.detail, evidence=evidence)


@router.post("/consent/confirmation", response_model=ConfirmationOut)
async def consent_confirmation(request: Request, body: ConfirmationIn,
                               _: Caller = Depends(by_consent)) -> ConfirmationOut:
    """Asks Enedis again about a consent it had not confirmed yet."""
    redirect = ConsentRedirect(state=None, prms=(body.prm,) if body.autorisation_id is None else (),
                               autorisation_id=body.autorisation_id)
    checked = await confirmation.confirm(request.app.state.runtime, redirect, body.prm)
    return ConfirmationOut(dso_confirmation=checked.verdict, usage_point_ids=checked.usage_point_ids,
                           generation=checked.generation, detail=checked.detail, evidence=checked.evidence)


@router.get("/usage-points/{prm}/address", responses=error_responses(Forbidden, NotFound, UpstreamError))
async def usage_point_address(prm: str, request: Request, _: Caller = Depends(by_consent)) -> dict[str, Any]:
    address = await _dso(request, lambda through: through(lambda: _client(request).address(prm)))
    return {k: address.get(k) for k in ("street", "postal_code", "insee_code", "city")}


@router.get("/usage-points/{prm}/contract", responses=error_responses(Forbidden, NotFound, UpstreamError))
async def usage_point_contract(prm: str, request: Request, _: Caller = Depends(by_consent)) -> dict[str, Any]:
    contract = await _dso(request, lambda through: _client(request).contract(prm, through))
    return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in contract.items()}


@router.post("/collections/run", status_code=202)
async def run_collection(request: Request, session: DbSession,
                         _: Caller = Depends(by_gateway)) -> dict[str, Any]:
    """Every active meter becomes due now; replicas start at once and the call returns at once."""
    return await run_now(request.app.state.runtime, session, repository.store, CAPABILITIES)


@router.get("/collections")
async def collections(request: Request, session: DbSession,
                      _: Caller = Depends(by_gateway)) -> dict[str, Any]:
    return await collections_view(request.app.state.runtime, await repository.report(session), CAPABILITIES,
                                  await freshness_counts(session, repository.store, CAPABILITIES),
                                  api_generation=_client(request).api_generation)


@router.get("/collection/meters", response_model=list[CollectionStatus])
async def collection_status(request: Request, session: DbSession,
                            meter_id: Annotated[list[uuid.UUID], Query(max_length=MAX_METERS)],
                            _: Caller = Depends(by_gateway)) -> list[CollectionStatus]:
    """These meters' last day collected, freshness against Data Connect's publication time and lag, and next
    collection. Asked when the resident looks at their meters: they count as active for a week (priority.py), and
    one waiting for its turn while the DSO has published days it lacks goes onto the active residents' turn (due now
    if that has passed, ``priority.pulled_due``), which its next update says."""
    now = dt.datetime.now(dt.UTC)
    settings = request.app.state.runtime.settings
    statuses = await collection_statuses(session, repository.store, CAPABILITIES, meter_id, now)
    turn = await current_turns(session, settings, now)
    pulled = await repository.mark_seen(
        session, [s.meter_id for s in statuses], now, CAPABILITIES.newest_day(now),
        lambda collected_at, due_at: pulled_due(now, collected_at, due_at, settings.cycle_time, turn,
                                                settings.cycle_jitter_minutes * 60))
    # When the scheduler collects it at the latest: when due (sooner if pulled forward), at the quota's pace.
    return [s.model_copy(update={"next_update_at": update_by(pulled.get(s.meter_id, s.next_update_at), turn)})
            if s.next_update_at is not None else s for s in statuses]


async def _curve_view(session, meter_id: uuid.UUID) -> LoadCurveCollection:
    row, collected = await repository.curve_state(session, meter_id)
    if row is None or not row.active:
        state = LoadCurveState.no_consent
    elif (row.last_error or "").startswith(CURVE_NOT_RECORDED):
        state = LoadCurveState.not_recorded
    else:
        wanted = row.backfill_from
        done = wanted is None or any(a <= wanted < b for a, b in collected)
        state = LoadCurveState.collected if done and row.lease_owner is None else LoadCurveState.collecting
    return LoadCurveCollection(meter_id=meter_id, state=state, requested_from=row.backfill_from if row else None,
                               collected=collected)


@router.get("/meters/{meter_id}/load-curve", response_model=LoadCurveCollection)
async def load_curve_collection(meter_id: uuid.UUID, session: DbSession,
                                _: Caller = Depends(by_gateway)) -> LoadCurveCollection:
    """Where the meter's load-curve collection stands."""
    return await _curve_view(session, meter_id)


@router.post("/meters/{meter_id}/load-curve/backfill", response_model=LoadCurveCollection)
async def load_curve_backfill(meter_id: uuid.UUID, request: Request, session: DbSession,
                              _: Caller = Depends(by_gateway)) -> LoadCurveCollection:
    """The resident opened the load curve: its history (24 months, as far as the consent goes) is collected now,
    on the quota the daily readings leave. Asking again changes nothing."""
    today = dt.datetime.now(PARIS).date()
    row = await repository.request_backfill(session, meter_id, earliest_curve_day(today))
    if row is None:
        # No cursor yet (the consent's event is still on its way): nothing was asked, so nothing is said collected,
        # even if the cursor appears before this answer is read; the resident's next request is recorded.
        return LoadCurveCollection(meter_id=meter_id, state=LoadCurveState.no_consent)
    wake = request.app.state.runtime.extras.get("curve_wake")
    if row.active and wake is not None:
        wake.set()
    return await _curve_view(session, meter_id)
