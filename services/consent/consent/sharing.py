"""Adviser sharing and the access log: who may read a resident's data besides the resident, and who did."""
from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from consent import repository
from metro.errors import Conflict, NotFound

SCOPES = ("consumption", "profile")


async def create(session: AsyncSession, resident_id: uuid.UUID, adviser_id: uuid.UUID, adviser_name: str,
                 scopes: list[str]) -> dict[str, Any]:
    if adviser_id == resident_id:
        raise Conflict("you cannot share with yourself", code="share_with_self")
    if await repository.active_share_id(session, resident_id, adviser_id) is not None:
        raise Conflict("you already share with this adviser; take it back first to change it",
                       code="share_exists")
    share_id = uuid.uuid4()
    await repository.insert_share(session, {"id": share_id, "resident_id": resident_id,
                                            "adviser_id": adviser_id, "adviser_name": adviser_name,
                                            "scopes": sorted(set(scopes))})
    return await get(session, share_id)


async def get(session: AsyncSession, share_id: uuid.UUID) -> dict[str, Any]:
    return dict((await repository.get_share(session, share_id))._mapping)


async def list_for_resident(session: AsyncSession, resident_id: uuid.UUID) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in await repository.resident_shares(session, resident_id)]


async def list_for_adviser(session: AsyncSession, adviser_id: uuid.UUID) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in await repository.adviser_active_shares(session, adviser_id)]


async def revoke(session: AsyncSession, resident_id: uuid.UUID, share_id: uuid.UUID) -> dict[str, Any]:
    if not await repository.revoke_share(session, resident_id, share_id):
        raise NotFound("no such active share", code="share_not_found")
    return await get(session, share_id)


async def authorize_read(session: AsyncSession, reader_id: uuid.UUID, reader_role: str, reader_name: str,
                         resident_id: uuid.UUID, scope: str, what: str) -> None:
    """An adviser needs an active share with the scope; an administrator may read. Either way it is logged."""
    if reader_role == "adviser":
        if await repository.active_share_id(session, resident_id, reader_id, scope) is None:
            raise NotFound("no such resident shared with you", code="resident_not_found")
    await repository.log_access(session, {"resident_id": resident_id, "reader_id": reader_id,
                                          "reader_role": reader_role, "reader_name": reader_name,
                                          "what": what})


async def access_log_of(session: AsyncSession, resident_id: uuid.UUID, limit: int = 500) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in await repository.access_log_of(session, resident_id, limit)]
