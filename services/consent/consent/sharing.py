"""Adviser sharing and the access log: who may read a resident's data besides the resident, and who did."""
from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from consent.models import access_log, shares
from metro.errors import Conflict, NotFound

SCOPES = ("consumption", "profile")


async def create(session: AsyncSession, resident_id: uuid.UUID, adviser_id: uuid.UUID, adviser_name: str,
                 scopes: list[str]) -> dict[str, Any]:
    if adviser_id == resident_id:
        raise Conflict("you cannot share with yourself", code="share_with_self")
    existing = (await session.execute(sa.select(shares.c.id).where(
        shares.c.resident_id == resident_id, shares.c.adviser_id == adviser_id, shares.c.revoked_at.is_(None)))).first()
    if existing:
        raise Conflict("you already share with this adviser; take it back first to change it",
                       code="share_exists")
    share_id = uuid.uuid4()
    await session.execute(sa.insert(shares).values(id=share_id, resident_id=resident_id, adviser_id=adviser_id,
                                                   adviser_name=adviser_name, scopes=sorted(set(scopes))))
    return await get(session, share_id)


async def get(session: AsyncSession, share_id: uuid.UUID) -> dict[str, Any]:
    row = (await session.execute(sa.select(shares).where(shares.c.id == share_id))).first()
    return dict(row._mapping)


async def list_for_resident(session: AsyncSession, resident_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = (await session.execute(sa.select(shares).where(shares.c.resident_id == resident_id)
                                  .order_by(shares.c.created_at.desc()))).all()
    return [dict(r._mapping) for r in rows]


async def list_for_adviser(session: AsyncSession, adviser_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = (await session.execute(sa.select(shares).where(shares.c.adviser_id == adviser_id,
                                                          shares.c.revoked_at.is_(None))
                                  .order_by(shares.c.created_at.desc()))).all()
    return [dict(r._mapping) for r in rows]


async def revoke(session: AsyncSession, resident_id: uuid.UUID, share_id: uuid.UUID) -> dict[str, Any]:
    result = await session.execute(sa.update(shares).where(
        shares.c.id == share_id, shares.c.resident_id == resident_id, shares.c.revoked_at.is_(None))
        .values(revoked_at=sa.func.now()).returning(shares.c.id))
    if result.first() is None:
        raise NotFound("no such active share", code="share_not_found")
    return await get(session, share_id)


async def authorize_read(session: AsyncSession, reader_id: uuid.UUID, reader_role: str, reader_name: str,
                         resident_id: uuid.UUID, scope: str, what: str) -> None:
    """An adviser needs an active share with the scope; an administrator may read. Either way it is logged."""
    if reader_role == "adviser":
        allowed = (await session.execute(sa.select(shares.c.id).where(
            shares.c.resident_id == resident_id, shares.c.adviser_id == reader_id, shares.c.revoked_at.is_(None),
            shares.c.scopes.any(scope)))).first()
        if allowed is None:
            raise NotFound("no such resident shared with you", code="resident_not_found")
    await session.execute(sa.insert(access_log).values(resident_id=resident_id, reader_id=reader_id,
                                                       reader_role=reader_role, reader_name=reader_name, what=what))


async def access_log_of(session: AsyncSession, resident_id: uuid.UUID, limit: int = 500) -> list[dict[str, Any]]:
    rows = (await session.execute(sa.select(access_log.c.reader_role, access_log.c.reader_name, access_log.c.what,
                                            access_log.c.at)
                                  .where(access_log.c.resident_id == resident_id)
                                  .order_by(access_log.c.at.desc()).limit(limit))).all()
    return [dict(r._mapping) for r in rows]
