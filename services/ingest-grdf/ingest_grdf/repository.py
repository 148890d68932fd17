"""Every SQL statement of ingest-grdf: the shared ones on its collection tables, its own on access rights."""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ingest_grdf.models import access_rights, collected_ranges, cursors, cycles, raw_payloads
from metro.collection import CollectionStore

store = CollectionStore("grdf", cursors=cursors, collected_ranges=collected_ranges, cycles=cycles,
                        raw_payloads=raw_payloads)
upsert_cursor = store.upsert_cursor
deactivate = store.deactivate
make_all_due = store.make_all_due


# ---- access rights ----

async def access_right_of_consent(session: AsyncSession, consent_id: uuid.UUID) -> sa.Row | None:
    return (await session.execute(sa.select(access_rights).where(access_rights.c.consent_id == consent_id))
            ).one_or_none()


async def insert_access_right(session: AsyncSession, values: dict[str, Any]) -> None:
    stmt = insert(access_rights).values(**values)
    await session.execute(stmt.on_conflict_do_nothing(index_elements=[access_rights.c.consent_id]))


async def watched_access_rights(session: AsyncSession, statuses: list[str]) -> list[sa.Row]:
    """Rights whose GRDF state may still change something for the consent, oldest check first."""
    t = access_rights
    rows = await session.execute(sa.select(t).where(t.c.status.in_(statuses), t.c.revoke_requested_at.is_(None))
                                 .order_by(t.c.checked_at.asc().nullsfirst()))
    return list(rows)


async def unreported_access_rights(session: AsyncSession) -> list[sa.Row]:
    t = access_rights
    return list(await session.execute(sa.select(t).where(t.c.status != t.c.reported_status,
                                                         t.c.revoke_requested_at.is_(None))))


async def update_access_right(session: AsyncSession, access_right_id: str, **values: Any) -> None:
    await session.execute(sa.update(access_rights).where(access_rights.c.access_right_id == access_right_id)
                          .values(**values))


async def request_revocation(session: AsyncSession, consent_id: uuid.UUID | None, meter_id: uuid.UUID) -> None:
    t = access_rights
    where = [t.c.consent_id == consent_id] if consent_id is not None else [t.c.meter_id == meter_id]
    await session.execute(sa.update(t).where(*where, t.c.revoke_requested_at.is_(None),
                                             t.c.status.in_(["active", "awaiting_holder"]))
                          .values(revoke_requested_at=sa.func.now()))


async def revocations_due(session: AsyncSession, backoff: dt.timedelta) -> list[sa.Row]:
    t = access_rights
    rows = await session.execute(sa.select(t).where(
        t.c.revoke_requested_at.is_not(None), t.c.revoked_at_dso_at.is_(None),
        sa.or_(t.c.revoke_attempts == 0, t.c.checked_at < sa.func.now() - backoff)))
    return list(rows)


# ---- report ----

async def report(session: AsyncSession) -> dict[str, Any]:
    rights = dict((await session.execute(
        sa.select(access_rights.c.status, sa.func.count()).group_by(access_rights.c.status))).all())
    return {**await store.report(session), "access_rights": rights}
