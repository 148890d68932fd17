"""Every SQL statement of the ingest-sge service."""
from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from ingest_sge.models import cycles, ended_consents, files, index_state, raw_files, subscriptions
from ingest_sge.energy import IndexState, LastIndex
from metro import collection


async def grant(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Upserts subscriptions; a consent already revoked here is never revived by a late grant."""
    if not rows:
        return
    stmt = insert(subscriptions).values(rows)
    await session.execute(stmt.on_conflict_do_update(
        index_elements=[subscriptions.c.prm],
        set_={c: stmt.excluded[c] for c in ("meter_id", "consent_id", "account_id", "dso_reference",
                                              "history_from", "expires_at", "active")}
        | {"updated_at": sa.func.now()},
        where=sa.or_(subscriptions.c.consent_id != stmt.excluded.consent_id, subscriptions.c.active)))


async def revoke(session: AsyncSession, consent_ids: list[uuid.UUID]) -> int:
    result = await session.execute(sa.update(subscriptions).where(
        subscriptions.c.consent_id.in_(consent_ids), subscriptions.c.active)
        .values(active=False, updated_at=sa.func.now()))
    return result.rowcount or 0


async def end_consents(session: AsyncSession, consent_ids: list[uuid.UUID | None], reason: str) -> None:
    await collection.end_consents(session, ended_consents, consent_ids, reason)


async def subscription_consents(session: AsyncSession, account_id: uuid.UUID,
                                meter_ids: list[uuid.UUID]) -> list[uuid.UUID]:
    owned = sa.or_(subscriptions.c.account_id == account_id, subscriptions.c.meter_id.in_(meter_ids))
    return list((await session.execute(sa.select(subscriptions.c.consent_id).where(owned))).scalars())


async def expire_due(session: AsyncSession, now: dt.datetime) -> list[sa.Row]:
    """Deactivates the subscriptions past their end and returns them, locked, so each expires once."""
    result = await session.execute(
        sa.update(subscriptions)
        .where(subscriptions.c.active, subscriptions.c.expires_at <= now)
        .values(active=False, updated_at=sa.func.now())
        .returning(*subscriptions.c))
    return list(result)


async def active_subscriptions(session: AsyncSession) -> dict[str, sa.Row]:
    result = await session.execute(sa.select(subscriptions).where(subscriptions.c.active))
    return {r.prm: r for r in result}


async def count_active_subscriptions(session: AsyncSession) -> int:
    return (await session.execute(sa.select(sa.func.count()).select_from(subscriptions)
                                  .where(subscriptions.c.active))).scalar_one()


async def collection_of(session: AsyncSession, meter_ids: list[uuid.UUID]) -> list[sa.Row]:
    """Each subscribed meter's newest index day, one an earlier consent on the same PRM left out."""
    since_consent = sa.or_(subscriptions.c.history_from.is_(None),
                           index_state.c.day >= subscriptions.c.history_from)
    last_day = sa.case((since_consent, index_state.c.day), else_=None).label("last_day")
    result = await session.execute(
        sa.select(subscriptions.c.meter_id, subscriptions.c.active, subscriptions.c.history_from,
                  subscriptions.c.updated_at, last_day)
        .select_from(subscriptions.outerjoin(index_state, index_state.c.prm == subscriptions.c.prm))
        .where(subscriptions.c.meter_id.in_(meter_ids)))
    return list(result)


async def index_states(session: AsyncSession, prms: Iterable[str]) -> dict[str, LastIndex]:
    result = await session.execute(sa.select(index_state.c.prm, index_state.c.day, index_state.c.calendar,
                                             index_state.c.registers)
                                   .where(index_state.c.prm.in_(list(prms))))
    return {r.prm: IndexState(r.day, r.calendar, r.registers) for r in result}


async def save_index_states(session: AsyncSession, states: Mapping[str, LastIndex],
                            meters: dict[str, uuid.UUID]) -> None:
    if not states:
        return
    rows = [{"prm": p, "meter_id": meters.get(p), "day": s.day, "calendar": s.calendar,
             "registers": dict(s.registers)} for p, s in states.items()]
    for i in range(0, len(rows), 2000):
        stmt = insert(index_state).values(rows[i:i + 2000])
        await session.execute(stmt.on_conflict_do_update(
            index_elements=[index_state.c.prm],
            set_={"meter_id": stmt.excluded.meter_id, "day": stmt.excluded.day,
                  "calendar": stmt.excluded.calendar, "registers": stmt.excluded.registers,
                  "updated_at": sa.func.now()}))


async def known_files(session: AsyncSession, names: list[str]) -> set[tuple[str, str]]:
    result = await session.execute(sa.select(files.c.name, files.c.sha256).where(files.c.name.in_(names)))
    return {(r.name, r.sha256) for r in result}


async def add_file(session: AsyncSession, *, name: str, sha256: str, size: int, status: str,
                   reason: str | None = None, detail: str | None = None, counts: dict | None = None,
                   raw: bytes | None = None, raw_kind: str = "received") -> int:
    file_id = (await session.execute(insert(files).values(
        name=name, sha256=sha256, size=size, status=status, reason=reason, detail=detail,
        counts=counts or {}).returning(files.c.id))).scalar_one()
    if raw is not None:
        await session.execute(insert(raw_files).values(file_id=file_id, kind=raw_kind, content=raw))
    return file_id


async def purge_raw(session: AsyncSession, before: dt.datetime) -> int:
    result = await session.execute(sa.delete(raw_files).where(raw_files.c.stored_at < before))
    return result.rowcount or 0


async def kept_zips(session: AsyncSession, stored_since: dt.datetime) -> list[int]:
    """Imported files whose decrypted zip is still within its retention, in the order they were imported."""
    return list((await session.execute(
        sa.select(raw_files.c.file_id).where(raw_files.c.kind == "zip", raw_files.c.stored_at >= stored_since)
        .order_by(raw_files.c.file_id))).scalars())


async def kept_zip(session: AsyncSession, file_id: int) -> bytes:
    stmt = sa.select(raw_files.c.content).where(raw_files.c.file_id == file_id)
    return (await session.execute(stmt)).scalar_one()


async def subscriptions_to_replay(session: AsyncSession, meter_ids: list[uuid.UUID],
                                  prms: list[str]) -> dict[str, sa.Row]:
    """Active subscriptions among those named (by meter or PRM), every active one if none is."""
    stmt = sa.select(subscriptions).where(subscriptions.c.active)
    if meter_ids or prms:
        stmt = stmt.where(sa.or_(subscriptions.c.meter_id.in_(meter_ids), subscriptions.c.prm.in_(prms)))
    return {r.prm: r for r in await session.execute(stmt)}


async def add_cycle(session: AsyncSession, *, trigger: str, outcome: str, started_at: dt.datetime,
                    finished_at: dt.datetime, report: dict) -> None:
    await session.execute(insert(cycles).values(trigger=trigger, outcome=outcome, started_at=started_at,
                                                finished_at=finished_at, report=report))


async def last_cycle(session: AsyncSession) -> sa.Row | None:
    return (await session.execute(sa.select(cycles).order_by(cycles.c.id.desc()).limit(1))).first()


async def last_successful_cycle(session: AsyncSession) -> dt.datetime | None:
    return (await session.execute(sa.select(sa.func.max(cycles.c.finished_at))
                                  .where(cycles.c.outcome == "ok"))).scalar_one()


async def cycle_outcomes(session: AsyncSession, since: dt.datetime) -> dict[str, int]:
    result = await session.execute(sa.select(cycles.c.outcome, sa.func.count()).where(
        cycles.c.started_at >= since).group_by(cycles.c.outcome))
    return {o: n for o, n in result}


async def file_counts(session: AsyncSession) -> dict[str, int]:
    result = await session.execute(sa.select(files.c.status, sa.func.count()).group_by(files.c.status))
    return {s: n for s, n in result}


async def quarantined(session: AsyncSession, limit: int = 100) -> list[sa.Row]:
    result = await session.execute(
        sa.select(files.c.name, files.c.reason, files.c.detail, files.c.processed_at)
        .where(files.c.status == "quarantined").order_by(files.c.id.desc()).limit(limit))
    return list(result)


async def reading_counts(session: AsyncSession) -> dict[str, int]:
    """What the imported files held, summed over every file: published, unsubscribed, gaps by cause."""
    counts = sa.func.jsonb_each_text(files.c.counts).table_valued("key", "value").render_derived()
    result = await session.execute(sa.select(counts.c.key, sa.func.sum(sa.cast(counts.c.value, sa.BigInteger)))
                                   .select_from(files).join(counts, sa.true()).group_by(counts.c.key))
    return {k: int(v) for k, v in result}


async def try_cycle_lock(conn: AsyncConnection, key: int) -> bool:
    """Held until the connection's transaction ends; False when another transaction holds it."""
    return await conn.scalar(sa.select(sa.func.pg_try_advisory_xact_lock(key)))
