"""The resident's personal data across every service: see it, export it, delete it, and see who read it; the
administrator's reads of it, each logged (the adviser's: gateway.advice)."""
from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
import zipfile
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse

from gateway import audit, erasure, privacy, streams
from gateway.auth import Admin, Authenticated, Identity, User, clear_session_cookies
from gateway.meters import with_collection
from gateway.schemas import DeletionRequested, ErasureRequest
from metro.db import DbSession
from metro.errors import AppError, Conflict, NotFound, error_responses
from metro.personal_data import export_rows
from metro.schemas.consent import AccessLogEntry, MeterView
from metro.service_auth import Principal
from metro.services import EXPORTING

router = APIRouter(prefix="/api/v1", tags=["personal data"])
# Committed before the response leaves, as in gateway.api.
Session = DbSession


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
    """Consumption's ESPI feed passed on as it streams."""
    return await streams.pass_through(request, "consumption", "GET", "/internal/me/green-button",
                                      principal=who.principal, params=params, media_type="application/atom+xml",
                                      filename=f"metroenergies-green-button-{stamp}.xml")


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


@router.get("/me/access-log", response_model=list[AccessLogEntry])
async def access_log(who: User, request: Request):
    """Who (adviser, administrator) looked at this account's data, when, and what."""
    return await _rt(request).services.json("consent", "GET", "/internal/access-log", principal=who.principal)


async def read_as(request: Request, reader: Identity, resident_id: uuid.UUID, scope: str, what: str,
                  role: str = "adviser") -> tuple[Principal, list[str]]:
    """Consent checks the reader may (an adviser: a live share covering ``scope``, whatever other roles the account
    has) and logs the read in the resident's access log; the principal reads as the resident, within the scopes
    returned."""
    allowed = await _rt(request).services.json("consent", "POST", "/internal/reads", json={
        "reader_id": str(reader.account_id), "reader_role": role, "reader_name": reader.email,
        "resident_id": str(resident_id), "scope": scope, "what": what})
    return Principal(resident_id, ("delegated_read",)), allowed["scopes"]


async def as_reader(request: Request, reader: Identity, resident_id: uuid.UUID, scope: str, what: str) -> Principal:
    """An administrator's read: no share needed, logged all the same."""
    return (await read_as(request, reader, resident_id, scope, what, role="admin"))[0]


@router.get("/admin/accounts/{account_id}/meters", response_model=list[MeterView], tags=["admin"])
async def admin_account_meters(account_id: uuid.UUID, who: Admin, request: Request, session: Session):
    principal = await as_reader(request, who, account_id, "consumption", "meters (administrator)")
    await audit.record(session, who, "resident.meters_viewed", account_id)
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
    """The administrator's check is done: every service erases the account's data now."""
    validated = await erasure.validate(session, request_id, f"admin:{who.account_id}")
    await audit.record(session, who, "erasure.validated", request_id)
    return validated
