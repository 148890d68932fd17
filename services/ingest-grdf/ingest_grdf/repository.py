"""Every SQL statement of ingest-grdf: the shared ones on its collection tables, its own on access rights."""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ingest_grdf.models import (access_rights, collected_ranges, cursors, cycles, ended_consents, gaps,
                                raw_payloads, revocations)
from metro.collection import CollectionStore

store = CollectionStore("grdf", cursors=cursors, collected_ranges=collected_ranges, cycles=cycles,
                        raw_payloads=raw_payloads, ended_consents=ended_consents, gaps=gaps)
deactivate = store.deactivate


async def cursor_of(session: AsyncSession, meter_id: uuid.UUID) -> sa.Row | None:
    return (await session.execute(sa.select(cursors).where(cursors.c.meter_id == meter_id))).one_or_none()


async def try_advisory_xact_lock(session: AsyncSession, key: int) -> bool:
    """Held until the transaction ends; False when another transaction holds it."""
    return (await session.execute(sa.select(sa.func.pg_try_advisory_xact_lock(key)))).scalar()


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


async def record_revocation_attempt(session: AsyncSession, access_right_id: str, **values: Any) -> None:
    """One more attempt at giving the right up at GRDF, with what came of it."""
    await update_access_right(session, access_right_id, checked_at=sa.func.now(),
                              revoke_attempts=access_rights.c.revoke_attempts + 1, **values)


# GRDF states in which the right still gives access, or will once the holder validates it.
LIVE = ["active", "awaiting_holder", "to_recheck"]


async def request_revocation(session: AsyncSession, consent_id: uuid.UUID | None, meter_id: uuid.UUID) -> None:
    t = access_rights
    where = [t.c.consent_id == consent_id] if consent_id is not None else [t.c.meter_id == meter_id]
    ids = (await session.execute(sa.update(t).where(*where, t.c.revoke_requested_at.is_(None), t.c.status.in_(LIVE))
                                 .values(revoke_requested_at=sa.func.now())
                                 .returning(t.c.access_right_id))).scalars().all()
    await queue_revocations(session, list(ids))


async def live_access_rights(session: AsyncSession, meter_ids: list[uuid.UUID]) -> list[str]:
    t = access_rights
    return list((await session.execute(sa.select(t.c.access_right_id).where(
        t.c.meter_id.in_(meter_ids), t.c.status.in_(LIVE), t.c.revoked_at_dso_at.is_(None)))).scalars())


async def queue_revocations(session: AsyncSession, access_right_ids: list[str]) -> None:
    if access_right_ids:
        await session.execute(insert(revocations).values([{"access_right_id": i} for i in access_right_ids])
                              .on_conflict_do_nothing(index_elements=[revocations.c.access_right_id]))


async def revocations_due(session: AsyncSession, backoff: dt.timedelta) -> list[sa.Row]:
    r = revocations
    return list(await session.execute(sa.select(r).where(
        sa.or_(r.c.attempts == 0, r.c.tried_at < sa.func.now() - backoff)).order_by(r.c.requested_at)))


async def revocation_done(session: AsyncSession, access_right_id: str) -> None:
    await session.execute(sa.delete(revocations).where(revocations.c.access_right_id == access_right_id))


async def revocation_failed(session: AsyncSession, access_right_id: str, error: str) -> None:
    r = revocations
    await session.execute(sa.update(r).where(r.c.access_right_id == access_right_id).values(
        attempts=r.c.attempts + 1, tried_at=sa.func.now(), last_error=error))


# ---- report ----

async def report(session: AsyncSession) -> dict[str, Any]:
    rights = dict((await session.execute(
        sa.select(access_rights.c.status, sa.func.count()).group_by(access_rights.c.status))).all())
    return {**await store.report(session), "access_rights": rights}
