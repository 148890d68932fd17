"""The resident's personal data across every service: see it, export it, delete it, share it, and see
who read it; the adviser's and the administrator's reads of it, each logged."""
from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import uuid
import zipfile
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse

from gateway import erasure, privacy, repository
from gateway import load_curve as curves
from gateway.auth import Admin, Authenticated, Identity, User, clear_session_cookies, require_role
from gateway.meters import with_collection
from gateway.schemas import DeletionRequested, ErasureRequest, LoadCurveView, ShareRequest
from metro.db import DbSession
from metro.errors import AppError, Conflict, NotFound, error_responses
from metro.personal_data import export_rows
from metro.schemas import IsoDate
from metro.schemas.consent import AccessLogEntry, Dwelling, MeterView, Share, SharedResident
from metro.schemas.consumption import ConsumptionSeries, MaxPowerSeries, Step
from metro.service_auth import Principal
from metro.services import EXPORTING

router = APIRouter(prefix="/api/v1", tags=["personal data"])
# Committed before the response leaves, as in gateway.api.
Session = DbSession
Adviser = Annotated[Identity, Depends(require_role("adviser"))]


def _rt(request: Request):
    return request.app.state.runtime


async def _records(request: Request, account_id: uuid.UUID) -> AsyncIterator[tuple[str, str, dict]]:
    """(dataset, purpose, row) for every row held about the account, service after service, streamed."""
    rt = _rt(request)
    async with rt.db.session() as session:
        meter_ids = [uuid.UUID(m) for m in (await rt.services.json(
            "consent", "GET", f"/internal/accounts/{account_id}/meter-ids"))["meter_ids"]]
        async for entry, row in export_rows(session, privacy.PERSONAL_DATA, account_id, meter_ids):
            yield entry.name, entry.purpose, row
    params = [("account_id", str(account_id)), *[("meter_id", str(m)) for m in meter_ids]]
    for service in EXPORTING:
        async with rt.services.stream(service, "GET", "/internal/personal-data/export", params=params) as response:
            if response.status_code == 404:
                continue
            if response.status_code != 200:
                raise AppError(f"{service} could not export its part", code="export_incomplete", status_code=502)
            async for line in response.lines():
                item = orjson.loads(line)
                yield item["table"], item["purpose"], item["row"]


def _dumps(value) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS, default=str)


async def _json_document(records: AsyncIterator[tuple[str, str, dict]], account_id: uuid.UUID):
    yield b'{"account_id": "' + str(account_id).encode() + b'", "generated_at": ' + \
        orjson.dumps(dt.datetime.now(dt.UTC)) + b', "datasets": {'
    current, first_row, first_set = None, True, True
    async for dataset, purpose, row in records:
        if dataset != current:
            if current is not None:
                yield b"]}"
            yield (b"" if first_set else b", ") + orjson.dumps(dataset) + b': {"purpose": ' + \
                orjson.dumps(purpose) + b', "rows": ['
            current, first_row, first_set = dataset, True, False
        yield (b"" if first_row else b", ") + _dumps(row)
        first_row = False
    if current is not None:
        yield b"]}"
    yield b"}}"


class _Sink(io.RawIOBase):
    """A write-only, unseekable file: zipfile then writes data descriptors, so the zip can be streamed."""

    def __init__(self):
        self.chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:
        self.chunks.append(bytes(b))
        return len(b)

    def take(self) -> bytes:
        data, self.chunks = b"".join(self.chunks), []
        return data


async def _csv_zip(records: AsyncIterator[tuple[str, str, dict]]):
    sink = _Sink()
    archive = zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED)
    entry, writer, text, current = None, None, None, None
    async for dataset, _, row in records:
        if dataset != current:
            if entry is not None:
                text.flush()
                text.detach()
                entry.close()
            entry = archive.open(f"{dataset}.csv", "w", force_zip64=True)
            text = io.TextIOWrapper(entry, encoding="utf-8", newline="")
            writer = csv.DictWriter(text, fieldnames=list(row))
            writer.writeheader()
            current = dataset
        writer.writerow({k: _dumps(v).decode() if isinstance(v, (dict, list)) else v for k, v in row.items()})
        yield sink.take()
    if entry is not None:
        text.flush()
        text.detach()
        entry.close()
    archive.close()
    yield sink.take()


@router.get("/me/data", responses={200: {"description": "everything held about the account, as JSON",
                                         "content": {"application/json": {}}}})
async def my_data(who: Authenticated, request: Request):
    """Everything held about the account, every service included: each dataset with why it is kept."""
    return StreamingResponse(_json_document(_records(request, who.account_id), who.account_id),
                             media_type="application/json")


async def _green_button(who: Identity, request: Request, params: dict[str, str], stamp: str) -> StreamingResponse:
    """Consumption's ESPI feed passed on as it streams; its refusals (unknown meter, bad period) answer as they are."""
    stack = contextlib.AsyncExitStack()
    upstream = await stack.enter_async_context(_rt(request).services.stream(
        "consumption", "GET", "/internal/me/green-button", principal=who.principal, params=params))
    if upstream.status_code != 200:
        body = await upstream.read()
        await stack.aclose()
        try:
            error = orjson.loads(body)
            raise AppError(error["detail"], code=error["error"], status_code=upstream.status_code)
        except (ValueError, KeyError, TypeError):
            raise AppError("consumption could not export", code="export_incomplete", status_code=502) from None

    async def body():
        async with stack:
            async for chunk in upstream.chunks():
                yield chunk
    return StreamingResponse(body(), media_type="application/atom+xml", headers={
        "content-disposition": f'attachment; filename="metroenergies-green-button-{stamp}.xml"'})


@router.get("/me/export", responses={
    200: {"content": {"application/json": {}, "application/zip": {}, "application/atom+xml": {}}},
    **error_responses(NotFound, AppError)})
async def export(who: Authenticated, request: Request, format: Literal["json", "csv", "espi"] = "json",
                 meter_id: Annotated[uuid.UUID | None, Query(description="espi: one meter only")] = None,
                 start: Annotated[dt.date | None, Query(alias="from", description="espi: first day")] = None,
                 end: Annotated[dt.date | None, Query(alias="to", description="espi: exclusive")] = None):
    """The same as a download: one JSON document, or a zip with one CSV file per dataset; or, with
    `format=espi`, the daily electricity and gas as Green Button (ESPI 4.0 Atom XML), by default every meter
    over the last 1 095 days, at most about three years."""
    stamp = dt.date.today().isoformat()
    if format == "espi":
        params = {k: str(v) for k, v in (("meter_id", meter_id), ("from", start), ("to", end)) if v is not None}
        return await _green_button(who, request, params, stamp)
    if format == "csv":
        return StreamingResponse(_csv_zip(_records(request, who.account_id)), media_type="application/zip",
                                 headers={"content-disposition": f'attachment; filename="metroenergies-{stamp}.zip"'})
    return StreamingResponse(_json_document(_records(request, who.account_id), who.account_id),
                             media_type="application/json",
                             headers={"content-disposition": f'attachment; filename="metroenergies-{stamp}.json"'})


@router.delete("/me", response_model=DeletionRequested, status_code=202, responses=error_responses(Conflict))
async def delete_me(who: Authenticated, request: Request, session: Session):
    """Disables the account and revokes every consent at once; erasure completes across services after an
    administrator's check, or by itself after the configured delay."""
    result = await erasure.request_deletion(session, _rt(request), who.account_id)
    response = JSONResponse(DeletionRequested.model_validate(result).model_dump(mode="json"), status_code=202)
    clear_session_cookies(request, response)
    return response


@router.post("/me/shares", response_model=Share, status_code=201, responses=error_responses(NotFound, Conflict))
async def share(body: ShareRequest, who: User, request: Request, session: Session):
    adviser = await repository.account_by_email(session, body.adviser_email)
    if adviser is None or "adviser" not in adviser.roles or adviser.status != "active":
        raise NotFound("no energy adviser has this e-mail address", code="adviser_not_found")
    return await _rt(request).services.json("consent", "POST", "/internal/shares", principal=who.principal, json={
        "adviser_id": str(adviser.id), "adviser_name": adviser.display_name or adviser.email, "scopes": body.scopes})


@router.get("/me/shares", response_model=list[Share])
async def shares(who: User, request: Request):
    return await _rt(request).services.json("consent", "GET", "/internal/shares", principal=who.principal)


@router.delete("/me/shares/{share_id}", response_model=Share, responses=error_responses(NotFound))
async def unshare(share_id: uuid.UUID, who: User, request: Request):
    return await _rt(request).services.json("consent", "DELETE", f"/internal/shares/{share_id}",
                                            principal=who.principal)


@router.get("/me/access-log", response_model=list[AccessLogEntry])
async def access_log(who: User, request: Request):
    """Who (adviser, administrator) looked at this account's data, when, and what."""
    return await _rt(request).services.json("consent", "GET", "/internal/access-log", principal=who.principal)


async def _as_reader(request: Request, reader: Identity, resident_id: uuid.UUID, scope: str, what: str) -> Principal:
    role = "admin" if reader.has("admin") else "adviser"
    await _rt(request).services.send("consent", "POST", "/internal/reads", json={
        "reader_id": str(reader.account_id), "reader_role": role, "reader_name": reader.email,
        "resident_id": str(resident_id), "scope": scope, "what": what})
    return Principal(resident_id, ("delegated_read",))


@router.get("/adviser/residents", response_model=list[SharedResident], tags=["adviser"])
async def shared_residents(who: Adviser, request: Request):
    rows = await _rt(request).services.json("consent", "GET", f"/internal/advisers/{who.account_id}/shares")
    return [{"share_id": r["id"], "resident_id": r["resident_id"], "scopes": r["scopes"],
             "shared_at": r["created_at"]} for r in rows]


@router.get("/adviser/residents/{resident_id}/dwelling", response_model=Dwelling, tags=["adviser"],
            responses=error_responses(NotFound))
async def resident_dwelling(resident_id: uuid.UUID, who: Adviser, request: Request):
    principal = await _as_reader(request, who, resident_id, "profile", "dwelling profile")
    return await _rt(request).services.json("consent", "GET", "/internal/dwelling", principal=principal)


@router.get("/adviser/residents/{resident_id}/meters", response_model=list[MeterView], tags=["adviser"],
            responses=error_responses(NotFound))
async def resident_meters(resident_id: uuid.UUID, who: Adviser, request: Request):
    principal = await _as_reader(request, who, resident_id, "consumption", "meters")
    listed = await _rt(request).services.json("consent", "GET", "/internal/meters", principal=principal)
    return await with_collection(_rt(request).services, principal, listed)


@router.get("/adviser/residents/{resident_id}/meters/{meter_id}/consumption", response_model=ConsumptionSeries,
            tags=["adviser"], responses=error_responses(NotFound))
async def resident_consumption(resident_id: uuid.UUID, meter_id: uuid.UUID, who: Adviser, request: Request,
                               start: Annotated[IsoDate, Query(alias="from")],
                               end: Annotated[IsoDate, Query(alias="to")], step: Step = Step.day):
    principal = await _as_reader(request, who, resident_id, "consumption",
                                 f"consumption of meter {meter_id} from {start} to {end}")
    return await _rt(request).services.json(
        "consumption", "GET", f"/internal/meters/{meter_id}/consumption", principal=principal,
        params={"from": start.isoformat(), "to": end.isoformat(), "step": step.value})


@router.get("/adviser/residents/{resident_id}/meters/{meter_id}/load-curve", response_model=LoadCurveView,
            tags=["adviser"], responses=error_responses(NotFound))
async def resident_load_curve(resident_id: uuid.UUID, meter_id: uuid.UUID, who: Adviser, request: Request,
                              start: Annotated[IsoDate, Query(alias="from")],
                              end: Annotated[IsoDate, Query(alias="to")]):
    """A sharing resident's load curve (consumption scope), as the resident sees it; the read is logged."""
    principal = await _as_reader(request, who, resident_id, "consumption",
                                 f"load curve of meter {meter_id} from {start} to {end}")
    return await curves.load_curve(_rt(request).services, principal, meter_id, start, end)


@router.get("/adviser/residents/{resident_id}/meters/{meter_id}/max-power", response_model=MaxPowerSeries,
            tags=["adviser"], responses=error_responses(NotFound))
async def resident_max_power(resident_id: uuid.UUID, meter_id: uuid.UUID, who: Adviser, request: Request,
                             start: Annotated[IsoDate, Query(alias="from")],
                             end: Annotated[IsoDate, Query(alias="to")]):
    principal = await _as_reader(request, who, resident_id, "consumption",
                                 f"maximum power of meter {meter_id} from {start} to {end}")
    return await curves.max_power(_rt(request).services, principal, meter_id, start, end)


@router.get("/admin/accounts/{account_id}/meters", response_model=list[MeterView], tags=["admin"])
async def admin_account_meters(account_id: uuid.UUID, who: Admin, request: Request):
    principal = await _as_reader(request, who, account_id, "consumption", "meters (administrator)")
    listed = await _rt(request).services.json("consent", "GET", "/internal/meters", principal=principal)
    return await with_collection(_rt(request).services, principal, listed)


@router.get("/admin/erasure-requests", response_model=list[ErasureRequest], tags=["admin"])
async def erasure_requests(_: Admin, session: Session):
    """Deletion requests waiting for the administrator's check, those being erased, and those stalled (services
    did not confirm after every request; an alert was raised): validate a stalled one again to ask once more."""
    return await erasure.pending(session)


@router.post("/admin/erasure-requests/{request_id}/validate", tags=["admin"],
             responses=error_responses(NotFound, Conflict))
async def validate_erasure(request_id: uuid.UUID, who: Admin, session: Session) -> dict[str, Any]:
    return await erasure.validate(session, request_id, f"admin:{who.account_id}")
