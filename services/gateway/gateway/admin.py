"""The administration console's operations: accounts, terms-of-use versions, the audit trail, SGE subscriptions,
collection health with dead letters, catalogue previews and the address base. Every action is recorded in the
audit trail (gateway.audit); reading a resident's consents goes into the resident's access log."""
from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Query, Request

from gateway import audit, repository, service
from gateway.auth import Admin
from gateway.consumption_routes import MAX_TARIFF_CSV_BYTES, too_large
from gateway.personal import as_reader
from gateway.schemas import (AccountStatusChange, AdminAccount, AdminAccountDetail, AuditEntry, DeadLetters,
                             Terms, TermsAcceptances, TermsDraft, TermsDraftEdit, TermsDraftView, TermsVersion)
from metro.app import dead_letter_depths
from metro.bodies import read_limited
from metro.db import DbSession
from metro.errors import AppError, Conflict, Forbidden, NotFound, PayloadTooLarge, error_responses
from metro.schemas.consent import AddressBaseImport, ConsentView, SgeSubscriptionView, SubscriptionEnd
from metro.schemas.consumption import CataloguePreview
from metro.services import INTERNAL

router = APIRouter(prefix="/api/v1", tags=["admin"])
Session = DbSession
# The BAN's Isère file is about 100 MB; consent spools it to disk.
MAX_ADDRESS_FILE_BYTES = 300_000_000


def _services(request: Request):
    return request.app.state.runtime.services


def _admin_account(row) -> AdminAccount:
    return AdminAccount(id=row.id, email=row.email, email_verified=row.email_verified_at is not None,
                        roles=row.roles, status=row.status, created_at=row.created_at, disabled_at=row.disabled_at)


# --- accounts -----------------------------------------------------------------------------------------------

@router.get("/admin/accounts", response_model=list[AdminAccount])
async def find_accounts(_: Admin, session: Session,
                        q: Annotated[str | None, Query(max_length=254, description="part of the e-mail address")] = None,
                        limit: Annotated[int, Query(ge=1, le=200)] = 50):
    """Accounts whose e-mail address contains `q` (every account without it), the newest first."""
    return [_admin_account(r) for r in await repository.search_accounts(session, q, limit)]


@router.get("/admin/accounts/{account_id}", response_model=AdminAccountDetail, responses=error_responses(NotFound))
async def account_detail(account_id: uuid.UUID, who: Admin, request: Request, session: Session):
    """The account, what it accepted, and its meters' consents, without any consumption. The read is written
    into the resident's access log and the audit trail."""
    row = await repository.account_by_id(session, account_id)
    if row is None:
        raise NotFound("no such account", code="account_not_found")
    principal = await as_reader(request, who, account_id, "consumption", "account and consents (administrator)")
    consents = await _services(request).json("consent", "GET", "/internal/meters", principal=principal)
    erasure = await repository.erasure_request_of(session, account_id)
    await audit.record(session, who, "resident.consents_viewed", account_id)
    return AdminAccountDetail(
        **_admin_account(row).model_dump(), sessions=await repository.count_account_sessions(session, account_id),
        terms_accepted=[{"version": r.version, "accepted_at": r.accepted_at}
                        for r in await repository.account_acceptances(session, account_id)],
        deletion=erasure.status if erasure else None, consents=consents)


@router.put("/admin/accounts/{account_id}/status", response_model=AdminAccount,
            responses=error_responses(NotFound, Conflict))
async def set_account_status(account_id: uuid.UUID, body: AccountStatusChange, who: Admin, session: Session):
    """Disable an account (it can no longer log in; its sessions, script tokens and e-mailed links end at once)
    or enable it again. 409 `cannot_disable_self`; 409 `deletion_under_way` to enable an account whose owner
    asked for its deletion."""
    row = await repository.lock_account(session, account_id)
    if row is None:
        raise NotFound("no such account", code="account_not_found")
    if body.status == "disabled" and account_id == who.account_id:
        raise Conflict("an administrator cannot disable their own account", code="cannot_disable_self")
    if body.status == "active" and await repository.erasure_request_of(session, account_id) is not None:
        raise Conflict("this account's owner asked for its deletion", code="deletion_under_way")
    if body.status == "disabled":
        await repository.update_account(session, account_id, {"status": "disabled", "disabled_at": sa.func.now()})
        await repository.delete_account_sessions(session, account_id)
        await repository.delete_all_account_tokens(session, account_id)
    else:
        await repository.update_account(session, account_id, {"status": "active", "disabled_at": None})
    if row.status != body.status:
        await audit.record(session, who, f"account.{'disabled' if body.status == 'disabled' else 'enabled'}",
                           account_id, email=row.email, reason=body.reason)
    return _admin_account(await repository.account_by_id(session, account_id))


# --- the audit trail ----------------------------------------------------------------------------------------

@router.get("/admin/audit", response_model=list[AuditEntry])
async def audit_trail(_: Admin, session: Session,
                      action: Annotated[str | None, Query(max_length=80)] = None,
                      actor_id: uuid.UUID | None = None,
                      target: Annotated[str | None, Query(max_length=200)] = None,
                      before: Annotated[int | None, Query(description="entries older than this id (paging)")] = None,
                      limit: Annotated[int, Query(ge=1, le=500)] = 100):
    """Every administrator action, the newest first: who, when, what, on what, with the request id."""
    rows = await repository.admin_actions(session, action=action, actor_id=actor_id, target=target,
                                          before_id=before, limit=limit)
    return [AuditEntry.model_validate(r._mapping) for r in rows]


# --- terms of use -------------------------------------------------------------------------------------------

@router.get("/admin/terms", response_model=list[TermsVersion])
async def terms_versions(_: Admin, session: Session):
    """Every version, drafts first, then the one in force and those it superseded, each with how many accounts
    accepted it."""
    rows = await repository.terms_versions_with_acceptances(session)
    current = next((r.version for r in rows if r.published_at is not None), None)
    return [TermsVersion(version=r.version, summary=r.summary, created_at=r.created_at, published_at=r.published_at,
                         accepted=r.accepted, status="draft" if r.published_at is None else
                         "in_force" if r.version == current else "superseded") for r in rows]


@router.post("/admin/terms/drafts", response_model=TermsDraftView, status_code=201,
             responses=error_responses(Conflict))
async def draft_terms(body: TermsDraft, who: Admin, session: Session):
    """A new version kept as a draft: nobody is asked to accept it until it is published. 409
    `terms_version_exists`."""
    if not await repository.insert_terms(session, {**body.model_dump(mode="json"), "published_at": None}):
        raise Conflict("this terms version already exists", code="terms_version_exists")
    await audit.record(session, who, "terms.drafted", body.version)
    return TermsDraftView.model_validate((await repository.terms_version(session, body.version))._mapping)


async def _draft(session, version: str):
    row = await repository.terms_version(session, version, lock=True)
    if row is None:
        raise NotFound("no such terms version", code="terms_not_found")
    if row.published_at is not None:
        raise Conflict("this version is published: a change is a new version", code="terms_already_published")
    return row


@router.put("/admin/terms/drafts/{version}", response_model=TermsDraftView, responses=error_responses(NotFound, Conflict))
async def edit_terms_draft(version: str, body: TermsDraftEdit, who: Admin, session: Session):
    """409 `terms_already_published` once published."""
    await _draft(session, version)
    await repository.update_terms(session, version, body.model_dump(mode="json"))
    await audit.record(session, who, "terms.draft_edited", version)
    return TermsDraftView.model_validate((await repository.terms_version(session, version))._mapping)


@router.get("/admin/terms/drafts/{version}", response_model=TermsDraftView, responses=error_responses(NotFound))
async def terms_draft(version: str, _: Admin, session: Session):
    row = await repository.terms_version(session, version)
    if row is None:
        raise NotFound("no such terms version", code="terms_not_found")
    return TermsDraftView.model_validate(row._mapping)


@router.post("/admin/terms/{version}/publish", response_model=Terms, responses=error_responses(NotFound, Conflict))
async def publish_terms_draft(version: str, who: Admin, session: Session):
    """The draft comes into force now: every account must accept it before using its data again."""
    await _draft(session, version)
    await repository.update_terms(session, version, {"published_at": sa.func.now()})
    await audit.record(session, who, "terms.published", version)
    return await service.current_terms(session)


@router.get("/admin/terms/{version}/acceptances", response_model=TermsAcceptances, responses=error_responses(NotFound))
async def terms_acceptances(version: str, _: Admin, session: Session,
                            limit: Annotated[int, Query(ge=1, le=1000)] = 100):
    """Who accepted (or re-accepted) this version, and how many active accounts there are in all."""
    if await repository.terms_version(session, version) is None:
        raise NotFound("no such terms version", code="terms_not_found")
    rows = await repository.terms_acceptances_of(session, version, limit)
    counts = {r.version: r.accepted for r in await repository.terms_versions_with_acceptances(session)}
    return TermsAcceptances(version=version, accepted=counts.get(version, 0),
                            active_accounts=await repository.count_active_accounts(session),
                            accounts=[{"account_id": r.id, "email": r.email, "accepted_at": r.accepted_at}
                                      for r in rows])


# --- SGE subscriptions --------------------------------------------------------------------------------------

@router.get("/admin/sge/subscriptions", response_model=list[SgeSubscriptionView])
async def sge_subscriptions(who: Admin, request: Request):
    """Meters collected through the SGE files under a live subscription, the soonest to end first."""
    return await _services(request).json("consent", "GET", "/internal/admin/sge-subscriptions",
                                         principal=who.principal)


@router.post("/admin/sge/subscriptions/{consent_id}/end", response_model=ConsentView,
             responses=error_responses(NotFound, Conflict))
async def end_sge_subscription(consent_id: uuid.UUID, body: SubscriptionEnd, who: Admin, request: Request,
                               session: Session):
    """The subscription was cancelled on the Enedis portal (or the written consent withdrawn): the consent is
    revoked with reason `subscription_ended` and ingest-sge stops. 404 `subscription_not_found`, 409
    `subscription_already_ended`."""
    ended = await _services(request).json("consent", "POST", f"/internal/admin/sge-subscriptions/{consent_id}/end",
                                          principal=who.principal, json=body.model_dump(mode="json"))
    await audit.record(session, who, "sge_subscription.ended", consent_id, note=body.note)
    return ended


# --- dead letters -------------------------------------------------------------------------------------------

@router.get("/admin/dead-letters", response_model=list[DeadLetters])
async def dead_letters(who: Admin, request: Request):
    """Messages each service's consumers gave up on (`python -m <service> dlq list|show|replay`)."""
    rt = request.app.state.runtime

    async def one(name: str) -> DeadLetters:
        try:
            return DeadLetters(**await rt.services.json(name, "GET", "/internal/dead-letters", principal=who.principal))
        except AppError as exc:
            return DeadLetters(service=name, queues={}, total=0, error=exc.code)
    own = await dead_letter_depths(rt)
    return [DeadLetters(service="gateway", queues=own, total=sum(own.values())),
            *await asyncio.gather(*(one(name) for name in INTERNAL))]


# --- catalogue previews -------------------------------------------------------------------------------------

@router.post("/admin/tariffs/{energy}/preview", response_model=CataloguePreview,
             responses={**error_responses(Forbidden), **too_large("tariff_csv_too_large")},
             openapi_extra={"requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}})
async def preview_tariffs(energy: Literal["electricity", "gas"], who: Admin, request: Request):
    """Checks a tariff file as `PUT /admin/tariffs/{energy}` would, without storing it: every problem with its
    line, column and code, and the file's first lines."""
    body = await read_limited(request, MAX_TARIFF_CSV_BYTES, code="tariff_csv_too_large", what="the tariff file")
    return await _services(request).json("consumption", "POST", f"/internal/tariffs/{energy}/preview",
                                         principal=who.principal, content=body, headers={"content-type": "text/csv"})


@router.post("/admin/degree-days/preview", response_model=CataloguePreview,
             responses={**error_responses(Forbidden), **too_large("degree_days_csv_too_large")},
             openapi_extra={"requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}})
async def preview_degree_days(who: Admin, request: Request):
    """Checks a degree-day file as `PUT /admin/degree-days` would, without storing it."""
    body = await read_limited(request, MAX_TARIFF_CSV_BYTES, code="degree_days_csv_too_large",
                              what="the degree-day file")
    return await _services(request).json("consumption", "POST", "/internal/degree-days/preview",
                                         principal=who.principal, content=body, headers={"content-type": "text/csv"})


# --- the address base ---------------------------------------------------------------------------------------

async def _limited(request: Request, limit: int) -> AsyncIterator[bytes]:
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the address file is larger than {limit} bytes", code="address_file_too_large")
        yield chunk


@router.post("/admin/address-base", response_model=AddressBaseImport,
             responses={**error_responses(AppError), **too_large("address_file_too_large")},
             openapi_extra={"requestBody": {"required": True, "content": {
                 "text/csv": {"schema": {"type": "string", "description": "adresses-38.csv"}},
                 "application/gzip": {"schema": {"type": "string", "format": "binary",
                                                 "description": "adresses-38.csv.gz"}}}}})
async def import_address_base(who: Admin, request: Request, session: Session,
                              dry_run: Annotated[bool, Query(description="count what would change, keep nothing")]
                              = False):
    """Import (or update) the address base from a Base Adresse Nationale file (`;`-separated CSV, or the .csv.gz
    as published): the addresses of the Métropole's 49 municipalities are kept, those new added, those whose
    fields changed updated, those no longer in the file removed; the same file again changes nothing. 422
    `address_file_missing_column`, `address_file_bad_row` (with its line), `address_file_unreadable`,
    `address_file_empty` (no address in the Métropole: nothing is removed). The full file is better loaded with
    `python -m consent import-addresses FILE`."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_ADDRESS_FILE_BYTES:
        raise PayloadTooLarge(f"the address file is larger than {MAX_ADDRESS_FILE_BYTES} bytes",
                              code="address_file_too_large")
    result = await _services(request).json(
        "consent", "POST", "/internal/admin/address-base", principal=who.principal,
        params={"dry_run": "true" if dry_run else "false"}, content=_limited(request, MAX_ADDRESS_FILE_BYTES),
        headers={"content-type": request.headers.get("content-type", "text/csv")})
    if not dry_run:
        await audit.record(session, who, "address_base.imported", None,
                           **{k: result[k] for k in ("rows", "added", "changed", "removed", "total")})
    return result
