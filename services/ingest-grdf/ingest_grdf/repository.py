"""Every SQL statement of ingest-grdf outside the shared collection machinery."""
from __future__ import annotations

import datetime as dt
import uuid
import zlib
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ingest_grdf.models import access_rights, cursors, cycles, raw_payloads

DSO = "grdf"
FAILING = ["transient", "quota_exceeded", "bad_request"]


# ---- cursors ----

async def upsert_cursor(session: AsyncSession, p: dict[str, Any]) -> None:
    """A consent (new or renewed) makes the meter due now; collected history stays."""
    values = {
        "meter_id": uuid.UUID(p["meter_id"]), "consent_id": uuid.UUID(p["consent_id"]),
        "account_id": uuid.UUID(p["account_id"]) if p.get("account_id") else None,
        "identifier": p["identifier"], "dso_reference": p.get("dso_reference"),
        "history_from": dt.date.fromisoformat(p["history_from"][:10]) if p.get("history_from") else None,
        "expires_at": dt.datetime.fromisoformat(p["expires_at"]) if p.get("expires_at") else None,
        "active": True, "next_due_at": sa.func.now(), "attempts": 0,
    }
    stmt = insert(cursors).values(**values)
    await session.execute(stmt.on_conflict_do_update(
        index_elements=[cursors.c.meter_id],
        set_={k: stmt.excluded[k] for k in values if k != "meter_id"}))


async def deactivate(session: AsyncSession, meter_id: uuid.UUID, consent_id: uuid.UUID | None,
                     outcome: str) -> None:
    stmt = sa.update(cursors).where(cursors.c.meter_id == meter_id)
    if consent_id is not None:
        # A late revocation of an older consent must not stop a renewed one.
        stmt = stmt.where(cursors.c.consent_id == consent_id)
    await session.execute(stmt.values(active=False, last_outcome=outcome, lease_owner=None, lease_until=None))


async def make_all_due(session: AsyncSession) -> int:
    result = await session.execute(sa.update(cursors).where(cursors.c.active).values(next_due_at=sa.func.now()))
    return result.rowcount


# ---- raw payloads ----

async def keep_raw(session: AsyncSession, meter_id: uuid.UUID, kind: str, body: Any, retention_days: int,
                   period: tuple[dt.date, dt.date] | None = None) -> None:
    await session.execute(sa.insert(raw_payloads).values(
        meter_id=meter_id, kind=kind, period_start=period[0] if period else None,
        period_end=period[1] if period else None,
        retain_until=dt.datetime.now(dt.UTC) + dt.timedelta(days=retention_days),
        body=zlib.compress(orjson.dumps(body))))


async def purge_raw(session: AsyncSession) -> int:
    result = await session.execute(sa.delete(raw_payloads).where(raw_payloads.c.retain_until < sa.func.now()))
    return result.rowcount


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
    c = cursors.c
    last = (await session.execute(sa.select(cycles).where(cycles.c.dso == DSO)
                                  .order_by(cycles.c.started_at.desc()).limit(1))).one_or_none()
    since = last.started_at if last is not None else dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    collected = (await session.execute(sa.select(sa.func.count()).where(c.last_success_at >= since))).scalar_one()
    active = (await session.execute(sa.select(sa.func.count()).where(c.active))).scalar_one()
    by_outcome = dict((await session.execute(
        sa.select(c.last_outcome, sa.func.count()).where(c.active, c.last_outcome.in_(FAILING))
        .group_by(c.last_outcome))).all())
    failing = (await session.execute(
        sa.select(c.meter_id, c.last_outcome, c.last_error, c.attempts, c.next_due_at)
        .where(c.active, c.last_outcome.in_(FAILING)).order_by(c.next_due_at).limit(20))).all()
    rights = dict((await session.execute(
        sa.select(access_rights.c.status, sa.func.count()).group_by(access_rights.c.status))).all())
    return {"last_cycle": last, "meters_collected": collected, "meters_active": active, "access_rights": rights,
            "failures": {**by_outcome, "meters": [
                {"meter_id": str(r.meter_id), "outcome": r.last_outcome, "error": r.last_error,
                 "attempts": r.attempts, "next_attempt_at": r.next_due_at.isoformat()} for r in failing]}}
