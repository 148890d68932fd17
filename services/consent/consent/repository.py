"""Every SQL statement of the consent service."""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from consent.models import access_log, consent_events, consents, dwellings, meters, shares


async def upsert_dwelling(session: AsyncSession, account_id: uuid.UUID, values: dict[str, Any]) -> None:
    stmt = insert(dwellings).values(account_id=account_id, **values)
    await session.execute(stmt.on_conflict_do_update(
        index_elements=[dwellings.c.account_id], set_={**values, "updated_at": sa.func.now()}))


async def get_dwelling(session: AsyncSession, account_id: uuid.UUID) -> sa.Row | None:
    return (await session.execute(sa.select(dwellings).where(dwellings.c.account_id == account_id))).first()


async def active_claim(session: AsyncSession, dso: str, identifier: str) -> sa.Row | None:
    return (await session.execute(sa.select(meters).where(
        meters.c.dso == dso, meters.c.identifier == identifier, meters.c.released_at.is_(None)))).first()


async def insert_meter(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(sa.insert(meters).values(**values))


async def lock_account_claims(session: AsyncSession, account_id: uuid.UUID) -> None:
    """Until the transaction ends: two declarations of one account are counted one after the other."""
    await session.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(f"claims:{account_id}"))))


async def count_claims(session: AsyncSession, account_id: uuid.UUID) -> int:
    return (await session.execute(sa.select(sa.func.count()).select_from(meters).where(
        meters.c.account_id == account_id, meters.c.released_at.is_(None)))).scalar_one()


async def released_meter(session: AsyncSession, account_id: uuid.UUID, dso: str,
                         identifier: str) -> sa.Row | None:
    """The account's own meter of this number, released since: declared again, it is claimed again."""
    return (await session.execute(sa.select(meters).where(
        meters.c.account_id == account_id, meters.c.dso == dso, meters.c.identifier == identifier,
        meters.c.released_at.is_not(None)).order_by(meters.c.created_at.desc()).limit(1))).first()


async def claim_again(session: AsyncSession, meter_id: uuid.UUID, values: dict[str, Any]) -> None:
    await session.execute(sa.update(meters).where(meters.c.id == meter_id).values(released_at=None, **values))


async def release_meter(session: AsyncSession, meter_id: uuid.UUID, *,
                        unless_live: list[str] | None = None) -> bool:
    """Gives the meter's claim up (another account may declare it); with ``unless_live``, only when none of
    its consents is in one of these statuses. True when released now."""
    stmt = sa.update(meters).where(meters.c.id == meter_id, meters.c.released_at.is_(None))
    if unless_live:
        live = sa.exists().where(consents.c.meter_id == meter_id, consents.c.status.in_(unless_live))
        stmt = stmt.where(~live)
    result = await session.execute(stmt.values(released_at=sa.func.now()))
    return (result.rowcount or 0) > 0


async def account_meters(session: AsyncSession, account_id: uuid.UUID) -> list[sa.Row]:
    """Every meter of the account, released ones included: their history stays the resident's."""
    return list((await session.execute(sa.select(meters).where(
        meters.c.account_id == account_id).order_by(meters.c.created_at))).all())


async def account_meter_ids(session: AsyncSession, account_id: uuid.UUID) -> list[uuid.UUID]:
    """Every meter the account ever claimed, released ones included."""
    return list((await session.execute(sa.select(meters.c.id).where(
        meters.c.account_id == account_id))).scalars())


async def get_meter(session: AsyncSession, meter_id: uuid.UUID) -> sa.Row | None:
    return (await session.execute(sa.select(meters).where(meters.c.id == meter_id))).first()


async def latest_consents(session: AsyncSession, meter_ids: list[uuid.UUID]) -> dict[uuid.UUID, sa.Row]:
    if not meter_ids:
        return {}
    rows = (await session.execute(
        sa.select(consents).distinct(consents.c.meter_id)
        .where(consents.c.meter_id.in_(meter_ids))
        .order_by(consents.c.meter_id, consents.c.requested_at.desc()))).all()
    return {r.meter_id: r for r in rows}


async def file_consents(session: AsyncSession, dso: str, ended_since: dt.datetime) -> list[sa.Row]:
    """The latest consent of each meter of a local operator, live or ended since ``ended_since``."""
    latest = (sa.select(consents, meters.c.dso, meters.c.energy, meters.c.identifier)
              .join(meters, meters.c.id == consents.c.meter_id)
              .where(meters.c.dso == dso, consents.c.channel == "file")
              .distinct(consents.c.meter_id)
              .order_by(consents.c.meter_id, consents.c.requested_at.desc())).subquery()
    live = latest.c.status.in_(["requested", "awaiting_holder", "active", "expiring"])
    return list((await session.execute(sa.select(latest).where(
        sa.or_(live, latest.c.updated_at >= ended_since)))).all())


async def get_consent(session: AsyncSession, consent_id: uuid.UUID, *, lock: bool = False) -> sa.Row | None:
    q = sa.select(consents).where(consents.c.id == consent_id)
    if lock:
        q = q.with_for_update()
    return (await session.execute(q)).first()


async def consent_by_state_hash(session: AsyncSession, state_hash: str) -> sa.Row | None:
    return (await session.execute(sa.select(consents).where(consents.c.state_hash == state_hash)
                                  .with_for_update())).first()


async def insert_consent(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(sa.insert(consents).values(**values))


async def update_consent(session: AsyncSession, consent_id: uuid.UUID, values: dict[str, Any]) -> None:
    await session.execute(sa.update(consents).where(consents.c.id == consent_id)
                          .values(**values, updated_at=sa.func.now()))


async def append_event(session: AsyncSession, values: dict[str, Any]) -> None:
    owner = sa.select(consents.c.account_id).where(consents.c.id == values["consent_id"]).scalar_subquery()
    await session.execute(sa.insert(consent_events).values(account_id=owner, **values))


async def meter_consents(session: AsyncSession, meter_id: uuid.UUID) -> list[sa.Row]:
    return list((await session.execute(sa.select(consents).where(consents.c.meter_id == meter_id)
                                       .order_by(consents.c.requested_at))).all())


async def lock_unanswered_consents(session: AsyncSession, requested_before: dt.datetime,
                                   status: str) -> list[sa.Row]:
    return list((await session.execute(sa.select(consents).where(
        consents.c.status == status, consents.c.requested_at < requested_before)
        .with_for_update(skip_locked=True))).all())


async def due_dso_checks(session: AsyncSession, now: dt.datetime, status: str, limit: int) -> list[uuid.UUID]:
    return list((await session.execute(sa.select(consents.c.id).where(
        consents.c.dso_check_at <= now, consents.c.status == status)
        .order_by(consents.c.dso_check_at).limit(limit))).scalars())


async def lock_due_dso_check(session: AsyncSession, consent_id: uuid.UUID, now: dt.datetime,
                             status: str) -> sa.Row | None:
    """The consent if it still waits for the DSO's word and is due; None if another replica holds it."""
    return (await session.execute(sa.select(consents).where(
        consents.c.id == consent_id, consents.c.dso_check_at <= now, consents.c.status == status)
        .with_for_update(skip_locked=True))).first()


async def lock_ending_consents(session: AsyncSession, statuses: list[str]) -> list[sa.Row]:
    """Consents in these statuses that have an end date, with their meter's DSO."""
    return list((await session.execute(
        sa.select(consents, meters.c.dso).join(meters, meters.c.id == consents.c.meter_id)
        .where(consents.c.status.in_(statuses), consents.c.expires_at.is_not(None))
        .with_for_update(of=consents, skip_locked=True))).all())


async def consent_history(session: AsyncSession, consent_id: uuid.UUID) -> list[sa.Row]:
    return list((await session.execute(sa.select(consent_events).where(
        consent_events.c.consent_id == consent_id).order_by(consent_events.c.id))).all())


async def pending_address_checks(session: AsyncSession, statuses: list[str],
                                 checks: list[str]) -> list[sa.Row]:
    """Consents whose meter's DSO address differs from the dwelling and no administrator has resolved yet."""
    return list((await session.execute(
        sa.select(consents.c.id.label("consent_id"), consents.c.meter_id, consents.c.account_id,
                  consents.c.status, consents.c.channel, consents.c.address_mismatch,
                  consents.c.address_check,
                  consents.c.updated_at.label("since"), meters.c.dso, meters.c.identifier)
        .join(meters, meters.c.id == consents.c.meter_id)
        .where(consents.c.address_check.in_(checks), consents.c.status.in_(statuses),
               meters.c.released_at.is_(None))
        .order_by(consents.c.updated_at))).all())


async def active_share_id(session: AsyncSession, resident_id: uuid.UUID, adviser_id: uuid.UUID,
                          scope: str | None = None) -> uuid.UUID | None:
    """The resident's live share with the adviser, if any (and covering the scope, when one is given)."""
    q = sa.select(shares.c.id).where(shares.c.resident_id == resident_id, shares.c.adviser_id == adviser_id,
                                     shares.c.revoked_at.is_(None))
    if scope is not None:
        q = q.where(shares.c.scopes.any(scope))
    return (await session.execute(q)).scalar()


async def insert_share(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(sa.insert(shares).values(**values))


async def get_share(session: AsyncSession, share_id: uuid.UUID) -> sa.Row | None:
    return (await session.execute(sa.select(shares).where(shares.c.id == share_id))).first()


async def resident_shares(session: AsyncSession, resident_id: uuid.UUID) -> list[sa.Row]:
    return list((await session.execute(sa.select(shares).where(shares.c.resident_id == resident_id)
                                       .order_by(shares.c.created_at.desc()))).all())


async def adviser_active_shares(session: AsyncSession, adviser_id: uuid.UUID) -> list[sa.Row]:
    return list((await session.execute(sa.select(shares).where(shares.c.adviser_id == adviser_id,
                                                               shares.c.revoked_at.is_(None))
                                       .order_by(shares.c.created_at.desc()))).all())


async def revoke_share(session: AsyncSession, resident_id: uuid.UUID, share_id: uuid.UUID) -> bool:
    """False when the resident has no such live share."""
    result = await session.execute(sa.update(shares).where(
        shares.c.id == share_id, shares.c.resident_id == resident_id, shares.c.revoked_at.is_(None))
        .values(revoked_at=sa.func.now()).returning(shares.c.id))
    return result.first() is not None


async def log_access(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(sa.insert(access_log).values(**values))


async def access_log_of(session: AsyncSession, resident_id: uuid.UUID, limit: int) -> list[sa.Row]:
    return list((await session.execute(
        sa.select(access_log.c.reader_role, access_log.c.reader_name, access_log.c.what, access_log.c.at)
        .where(access_log.c.resident_id == resident_id)
        .order_by(access_log.c.at.desc()).limit(limit))).all())
