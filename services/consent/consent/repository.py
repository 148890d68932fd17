"""Every SQL statement of the consent service."""
from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from consent.models import consent_events, consents, dwellings, meters  # noqa: F401 (re-exported)


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


async def account_meters(session: AsyncSession, account_id: uuid.UUID) -> list[sa.Row]:
    return list((await session.execute(sa.select(meters).where(
        meters.c.account_id == account_id, meters.c.released_at.is_(None)).order_by(meters.c.created_at))).all())


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


async def consent_history(session: AsyncSession, consent_id: uuid.UUID) -> list[sa.Row]:
    return list((await session.execute(sa.select(consent_events).where(
        consent_events.c.consent_id == consent_id).order_by(consent_events.c.id))).all())


async def pending_address_checks(session: AsyncSession, statuses: list[str]) -> list[sa.Row]:
    """Consents whose meter's DSO address differs from the dwelling and nobody has resolved it yet."""
    return list((await session.execute(
        sa.select(consents.c.id.label("consent_id"), consents.c.meter_id, consents.c.account_id,
                  consents.c.status, consents.c.channel, consents.c.address_mismatch,
                  consents.c.updated_at.label("since"), meters.c.dso, meters.c.identifier)
        .join(meters, meters.c.id == consents.c.meter_id)
        .where(consents.c.address_check == "mismatch", consents.c.status.in_(statuses),
               meters.c.released_at.is_(None))
        .order_by(consents.c.updated_at))).all())
