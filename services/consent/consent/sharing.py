"""Adviser sharing, advice notes and the access log: who may read a resident's data besides the resident, for how
long, what they wrote to them, and who read what."""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from consent import repository
from consent.schemas import ShareCreate
from metro.errors import AppError, Conflict, NotFound
from metro.schemas import local_today, months_after
from metro.schemas.consent import SHARE_MAX_MONTHS, SHARE_MONTHS, ShareScope

ALL_SCOPES: list[ShareScope] = ["consumption", "contract", "dwelling"]


def _end(ends_on: dt.date | None, today: dt.date) -> dt.date:
    if ends_on is None:
        return months_after(today, SHARE_MONTHS)
    if ends_on < today or ends_on > months_after(today, SHARE_MAX_MONTHS):
        raise AppError(f"a share ends between today and {SHARE_MAX_MONTHS} months from now",
                       code="invalid_share_end", status_code=422)
    return ends_on


def _view(row: sa.Row, today: dt.date) -> dict[str, Any]:
    status = "revoked" if row.revoked_at is not None else "expired" if row.ends_on < today else "active"
    return {**row._mapping, "status": status}


def _not_shared() -> NotFound:
    return NotFound("no such resident shared with you", code="resident_not_found")


async def create(session: AsyncSession, resident_id: uuid.UUID, body: ShareCreate) -> dict[str, Any]:
    if body.adviser_id == resident_id:
        raise Conflict("you cannot share with yourself", code="share_with_self")
    today = local_today()
    if await repository.active_share(session, resident_id, body.adviser_id, today) is not None:
        raise Conflict("you already share with this adviser: renew it, or take it back first to change it",
                       code="share_exists")
    share_id = uuid.uuid4()
    await repository.insert_share(session, {
        "id": share_id, "resident_id": resident_id, "adviser_id": body.adviser_id, "adviser_name": body.adviser_name,
        "resident_name": body.resident_name, "resident_contact": body.resident_contact, "scopes": body.scopes,
        "ends_on": _end(body.ends_on, today)})
    return _view(await repository.get_share(session, share_id), today)


async def list_for_resident(session: AsyncSession, resident_id: uuid.UUID) -> list[dict[str, Any]]:
    today = local_today()
    return [_view(r, today) for r in await repository.resident_shares(session, resident_id)]


async def list_for_adviser(session: AsyncSession, adviser_id: uuid.UUID) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in await repository.adviser_active_shares(session, adviser_id, local_today())]


async def revoke(session: AsyncSession, resident_id: uuid.UUID, share_id: uuid.UUID) -> dict[str, Any]:
    if not await repository.revoke_share(session, resident_id, share_id):
        raise NotFound("no such share to take back", code="share_not_found")
    return _view(await repository.get_share(session, share_id), local_today())


async def renew(session: AsyncSession, resident_id: uuid.UUID, share_id: uuid.UUID,
                ends_on: dt.date | None) -> dict[str, Any]:
    """A new end date for a share not taken back, expired ones included (unless the resident shares with the
    adviser again meanwhile)."""
    today = local_today()
    row = await repository.lock_resident_share(session, resident_id, share_id)
    if row is None or row.revoked_at is not None:
        raise NotFound("no such share to renew", code="share_not_found")
    live = await repository.active_share(session, resident_id, row.adviser_id, today)
    if live is not None and live.id != share_id:
        raise Conflict("you share with this adviser again already: renew that share", code="share_exists")
    await repository.renew_share(session, share_id, _end(ends_on, today))
    return _view(await repository.get_share(session, share_id), today)


async def authorize_read(session: AsyncSession, reader_id: uuid.UUID, reader_role: str, reader_name: str,
                         resident_id: uuid.UUID, scope: str, what: str) -> list[str]:
    """An adviser needs a live share with the scope; an administrator may read. Either way it is logged. Returns
    what the reader may see."""
    scopes = ALL_SCOPES
    if reader_role == "adviser":
        share = await repository.active_share(session, resident_id, reader_id, local_today(), scope)
        if share is None:
            raise _not_shared()
        scopes = share.scopes
    await repository.log_access(session, {"resident_id": resident_id, "reader_id": reader_id,
                                          "reader_role": reader_role, "reader_name": reader_name,
                                          "what": what})
    return list(scopes)


async def access_log_of(session: AsyncSession, resident_id: uuid.UUID, limit: int = 500) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in await repository.access_log_of(session, resident_id, limit)]


async def write_note(session: AsyncSession, adviser_id: uuid.UUID, resident_id: uuid.UUID,
                     body: str) -> dict[str, Any]:
    """Only to a resident who shares with the adviser now; signed with the name the resident shared with."""
    share = await repository.active_share(session, resident_id, adviser_id, local_today())
    if share is None:
        raise _not_shared()
    row = await repository.insert_note(session, {"id": uuid.uuid4(), "resident_id": resident_id,
                                                 "adviser_id": adviser_id, "adviser_name": share.adviser_name,
                                                 "body": body})
    return dict(row._mapping)


async def notes_by(session: AsyncSession, adviser_id: uuid.UUID, resident_id: uuid.UUID) -> list[dict[str, Any]]:
    if await repository.active_share(session, resident_id, adviser_id, local_today()) is None:
        raise _not_shared()
    return [dict(r._mapping) for r in await repository.resident_notes(session, resident_id, adviser_id)]


async def notes_to(session: AsyncSession, resident_id: uuid.UUID) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in await repository.resident_notes(session, resident_id)]


async def delete_note(session: AsyncSession, resident_id: uuid.UUID, note_id: uuid.UUID) -> None:
    if not await repository.delete_note(session, resident_id, note_id):
        raise NotFound("no such advice note", code="advice_not_found")
