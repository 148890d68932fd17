"""Every SQL statement of the ingest-local service."""
from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, UUID, insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from ingest_local.models import (cycles, ended_consents, files, heat_shares, indexes, lists_sent, raw_files,
                                 subscriptions)
from metro import collection
from metro.collection.repository import ended_among

SUBSCRIPTION_FIELDS = ("meter_id", "consent_id", "account_id", "energy", "history_from", "expires_at", "active")


async def grant(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Upserts subscriptions; a consent already revoked here is never revived by a late grant."""
    if not rows:
        return
    stmt = insert(subscriptions).values(rows)
    await session.execute(stmt.on_conflict_do_update(
        index_elements=[subscriptions.c.dso, subscriptions.c.identifier],
        set_={c: stmt.excluded[c] for c in SUBSCRIPTION_FIELDS} | {"updated_at": sa.func.now()},
        where=sa.or_(subscriptions.c.consent_id != stmt.excluded.consent_id, subscriptions.c.active)))


async def revoke(session: AsyncSession, consent_ids: list[uuid.UUID]) -> int:
    result = await session.execute(sa.update(subscriptions).where(
        subscriptions.c.consent_id.in_(consent_ids), subscriptions.c.active)
        .values(active=False, updated_at=sa.func.now()))
    return result.rowcount or 0


async def end_consents(session: AsyncSession, consent_ids: list[uuid.UUID | None], reason: str) -> None:
    await collection.end_consents(session, ended_consents, consent_ids, reason)


async def ended(session: AsyncSession, consent_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Consents already ended here (revoked, erased): a pending one among them is never activated."""
    return await ended_among(session, ended_consents, consent_ids)


async def subscription_consents(session: AsyncSession, account_id: uuid.UUID,
                                meter_ids: list[uuid.UUID]) -> list[uuid.UUID]:
    owned = sa.or_(subscriptions.c.account_id == account_id, subscriptions.c.meter_id.in_(meter_ids))
    return list((await session.execute(sa.select(subscriptions.c.consent_id).where(owned))).scalars())


async def forget_indexes(session: AsyncSession, account_id: uuid.UUID, meter_ids: list[uuid.UUID]) -> None:
    owned = sa.or_(subscriptions.c.account_id == account_id, subscriptions.c.meter_id.in_(meter_ids))
    theirs = sa.select(subscriptions.c.dso, subscriptions.c.identifier).where(owned)
    await session.execute(sa.delete(indexes).where(sa.tuple_(indexes.c.dso, indexes.c.identifier).in_(theirs)))


async def expire_due(session: AsyncSession, now: dt.datetime) -> list[sa.Row]:
    result = await session.execute(
        sa.update(subscriptions)
        .where(subscriptions.c.active, subscriptions.c.expires_at <= now)
        .values(active=False, updated_at=sa.func.now())
        .returning(*subscriptions.c))
    return list(result)


async def active_subscriptions(session: AsyncSession, dso: str) -> dict[str, sa.Row]:
    result = await session.execute(sa.select(subscriptions).where(subscriptions.c.active,
                                                                  subscriptions.c.dso == dso))
    return {r.identifier: r for r in result}


async def subscriptions_to_replay(session: AsyncSession, meter_ids: list[uuid.UUID],
                                  identifiers: list[str]) -> list[sa.Row]:
    stmt = sa.select(subscriptions).where(subscriptions.c.active)
    if meter_ids or identifiers:
        stmt = stmt.where(sa.or_(subscriptions.c.meter_id.in_(meter_ids),
                                 subscriptions.c.identifier.in_(identifiers)))
    return list(await session.execute(stmt))


async def count_active_subscriptions(session: AsyncSession) -> dict[str, int]:
    result = await session.execute(sa.select(subscriptions.c.dso, sa.func.count())
                                   .where(subscriptions.c.active).group_by(subscriptions.c.dso))
    return {d: n for d, n in result}


async def collection_of(session: AsyncSession, meter_ids: list[uuid.UUID]) -> list[sa.Row]:
    result = await session.execute(
        sa.select(subscriptions.c.meter_id, subscriptions.c.dso, subscriptions.c.active,
                  subscriptions.c.history_from, subscriptions.c.updated_at, subscriptions.c.last_day)
        .where(subscriptions.c.meter_id.in_(meter_ids)))
    return list(result)


async def advance_last_day(session: AsyncSession, last: dict[uuid.UUID, dt.date]) -> None:
    if not last:
        return
    given = sa.select(sa.func.unnest(sa.cast(sa.literal(list(last)), ARRAY(UUID(as_uuid=True)))).label("meter_id"),
                      sa.func.unnest(sa.cast(sa.literal(list(last.values())), ARRAY(sa.Date))).label("day")).subquery()
    await session.execute(sa.update(subscriptions).where(subscriptions.c.meter_id == given.c.meter_id).values(
        last_day=sa.func.greatest(sa.func.coalesce(subscriptions.c.last_day, given.c.day), given.c.day)))


async def save_indexes(session: AsyncSession, dso: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    stmt = insert(indexes)
    await session.execute(stmt.on_conflict_do_update(
        index_elements=[indexes.c.dso, indexes.c.identifier, indexes.c.day, indexes.c.serial],
        set_={"index_wh": stmt.excluded.index_wh, "install_wh": stmt.excluded.install_wh}),
        [{"dso": dso, **r} for r in rows])


async def indexes_around(session: AsyncSession, dso: str, identifiers: list[str], first: dt.date,
                         last: dt.date) -> list[sa.Row]:
    """The indexes of these meters from the day before ``first`` to the day after ``last``."""
    result = await session.execute(
        sa.select(indexes.c.identifier, indexes.c.day, indexes.c.serial, indexes.c.index_wh, indexes.c.install_wh)
        .where(indexes.c.dso == dso, indexes.c.identifier.in_(identifiers),
               indexes.c.day.between(first - dt.timedelta(days=1), last + dt.timedelta(days=1))))
    return list(result)


async def replace_shares(session: AsyncSession, dso: str, rows: list[dict[str, Any]]) -> None:
    """The list of a substation's dwellings replaces the one before it."""
    substations = sorted({r["substation"] for r in rows})
    await session.execute(sa.delete(heat_shares).where(heat_shares.c.dso == dso,
                                                       heat_shares.c.substation.in_(substations)))
    if rows:
        await session.execute(insert(heat_shares).values([{"dso": dso, **r} for r in rows]))


async def shares_of(session: AsyncSession, dso: str, substations: Iterable[str]) -> dict[str, dict[str, Decimal]]:
    result = await session.execute(sa.select(heat_shares.c.substation, heat_shares.c.dwelling, heat_shares.c.share)
                                   .where(heat_shares.c.dso == dso, heat_shares.c.substation.in_(list(substations))))
    out: dict[str, dict[str, Decimal]] = {}
    for r in result:
        out.setdefault(r.substation, {})[r.dwelling] = Decimal(r.share)
    return out


async def known_files(session: AsyncSession, operator: str, names: list[str]) -> set[tuple[str, str]]:
    result = await session.execute(sa.select(files.c.name, files.c.sha256).where(
        files.c.operator == operator, files.c.name.in_(names)))
    return {(r.name, r.sha256) for r in result}


async def add_file(session: AsyncSession, *, operator: str, name: str, sha256: str, size: int, via: str,
                   status: str, profile: str | None = None, reason: str | None = None, detail: str | None = None,
                   counts: dict | None = None, raw: bytes | None = None) -> int:
    file_id = (await session.execute(insert(files).values(
        operator=operator, name=name, sha256=sha256, size=size, via=via, profile=profile, status=status,
        reason=reason, detail=detail, counts=counts or {}).returning(files.c.id))).scalar_one()
    if raw is not None:
        await session.execute(insert(raw_files).values(file_id=file_id, content=raw))
    return file_id


async def purge_raw(session: AsyncSession, before: dt.datetime) -> int:
    result = await session.execute(sa.delete(raw_files).where(raw_files.c.stored_at < before))
    return result.rowcount or 0


async def kept_files(session: AsyncSession, stored_since: dt.datetime) -> list[sa.Row]:
    """Imported files still within their retention, in the order they were imported."""
    return list(await session.execute(
        sa.select(files.c.id, files.c.operator, files.c.name).select_from(files.join(raw_files))
        .where(files.c.status == "imported", raw_files.c.stored_at >= stored_since).order_by(files.c.id)))


async def kept_file(session: AsyncSession, file_id: int) -> bytes:
    return (await session.execute(sa.select(raw_files.c.content).where(raw_files.c.file_id == file_id))).scalar_one()


async def last_list(session: AsyncSession, operator: str) -> sa.Row | None:
    return (await session.execute(sa.select(lists_sent).where(lists_sent.c.operator == operator)
                                  .order_by(lists_sent.c.id.desc()).limit(1))).first()


async def add_list(session: AsyncSession, **values: Any) -> None:
    await session.execute(insert(lists_sent).values(**values))


async def add_cycle(session: AsyncSession, *, trigger: str, outcome: str, started_at: dt.datetime,
                    finished_at: dt.datetime, report: dict) -> None:
    await session.execute(insert(cycles).values(trigger=trigger, outcome=outcome, started_at=started_at,
                                                finished_at=finished_at, report=report))


async def last_cycle(session: AsyncSession) -> sa.Row | None:
    return (await session.execute(sa.select(cycles).order_by(cycles.c.id.desc()).limit(1))).first()


async def last_successful_cycle(session: AsyncSession) -> dt.datetime | None:
    return (await session.execute(sa.select(sa.func.max(cycles.c.finished_at))
                                  .where(cycles.c.outcome == "ok"))).scalar_one()


async def file_counts(session: AsyncSession) -> dict[str, int]:
    result = await session.execute(sa.select(files.c.status, sa.func.count()).group_by(files.c.status))
    return {s: n for s, n in result}


async def quarantined(session: AsyncSession, limit: int = 100) -> list[sa.Row]:
    result = await session.execute(
        sa.select(files.c.operator, files.c.name, files.c.reason, files.c.detail, files.c.processed_at)
        .where(files.c.status == "quarantined").order_by(files.c.id.desc()).limit(limit))
    return list(result)


async def try_cycle_lock(conn: AsyncConnection, key: int) -> bool:
    return await conn.scalar(sa.select(sa.func.pg_try_advisory_xact_lock(key)))
