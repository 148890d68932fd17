"""The meters as this service knows them: who holds them, whether they are shown or erased, their dwelling's profile and their contracts."""
from __future__ import annotations

import datetime as dt
import uuid
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from metro.erasure import subject_hash
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from consumption.models import contracts, meters, profiles
from consumption.models import erased_meters as erased_meters_table


async def erased_meters(session: AsyncSession, meter_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    hashes = {subject_hash(m): m for m in meter_ids}
    result = await session.execute(sa.select(erased_meters_table.c.subject_hash).where(
        erased_meters_table.c.subject_hash.in_(list(hashes))))
    return {hashes[h] for h in result.scalars()}


async def mark_erased(session: AsyncSession, meter_ids: list[uuid.UUID]) -> None:
    if meter_ids:
        await session.execute(insert(erased_meters_table).values(
            [{"subject_hash": subject_hash(m)} for m in meter_ids]).on_conflict_do_nothing())


async def upsert_meter(session: AsyncSession, meter_id: uuid.UUID, account_id: uuid.UUID, energy: str,
                       dso: str, address_hold: bool | None = None, hold_at: dt.datetime | None = None) -> None:
    """``address_hold`` None leaves the hold as it is; otherwise it applies unless a later decision is stored."""
    stmt = insert(meters).values(meter_id=meter_id, account_id=account_id, energy=energy, dso=dso,
                                 address_hold=bool(address_hold),
                                 hold_at=hold_at if address_hold is not None else None)
    newer = sa.and_(stmt.excluded.hold_at.is_not(None),
                    sa.or_(meters.c.hold_at.is_(None), stmt.excluded.hold_at >= meters.c.hold_at))
    await session.execute(stmt.on_conflict_do_update(
        index_elements=[meters.c.meter_id],
        set_={"account_id": stmt.excluded.account_id, "energy": stmt.excluded.energy, "dso": stmt.excluded.dso,
              "address_hold": sa.case((newer, stmt.excluded.address_hold), else_=meters.c.address_hold),
              "hold_at": sa.case((newer, stmt.excluded.hold_at), else_=meters.c.hold_at)},
        where=meters.c.erased_at.is_(None)))


async def meter_owner(session: AsyncSession, meter_id: uuid.UUID) -> tuple[uuid.UUID | None, str] | None:
    row = (await session.execute(sa.select(meters.c.account_id, meters.c.energy).where(
        meters.c.meter_id == meter_id, meters.c.erased_at.is_(None)))).first()
    return (row.account_id, row.energy) if row else None


# What every reader of a meter uses: whose it is, its energy, whether it is shown, and what it is priced under.
METER_COLUMNS = (meters.c.meter_id, meters.c.account_id, meters.c.energy, meters.c.address_hold, meters.c.priced_key,
                 meters.c.priced_version)


def _account_or_meters(account_id: uuid.UUID, meter_ids: list[uuid.UUID]) -> sa.ColumnElement[bool]:
    """The account's meters, and these (an erasure or an export names them too, as consent knows them)."""
    return sa.or_(meters.c.account_id == account_id, meters.c.meter_id.in_(meter_ids))


async def meter_info(session: AsyncSession, meter_id: uuid.UUID, *, lock: bool = False) -> sa.Row | None:
    """``lock``: for the workers, which write about the meter; an erasure waits until they commit, and a worker
    that comes after it finds no meter."""
    stmt = sa.select(*METER_COLUMNS).where(meters.c.meter_id == meter_id, meters.c.erased_at.is_(None))
    return (await session.execute(stmt.with_for_update(read=True) if lock else stmt)).first()


async def live_meters(session: AsyncSession, meter_ids: list[uuid.UUID]) -> list[sa.Row]:
    """meter_info(lock=True) of many meters in one statement, locked in meter order (as an erasure locks them);
    the unknown and erased ones left out."""
    return list((await session.execute(sa.select(*METER_COLUMNS).where(
        meters.c.meter_id.in_(meter_ids), meters.c.erased_at.is_(None))
        .order_by(meters.c.meter_id).with_for_update(read=True))).all())


CONTRACT_COLUMNS = [c for c in contracts.c if c.name not in ("meter_id", "updated_at")]


METER_AND_CONTRACTS = (
    sa.select(*METER_COLUMNS, *[c.label(f"contract_{c.name}") for c in CONTRACT_COLUMNS])
    .select_from(meters.outerjoin(contracts, contracts.c.meter_id == meters.c.meter_id))
    .where(meters.c.meter_id == sa.bindparam("meter"), meters.c.erased_at.is_(None)))


async def meter_and_contracts(session: AsyncSession,
                              meter_id: uuid.UUID) -> tuple[sa.Row | None, dict[str, Any]]:
    """meter_info and meter_contracts (the contracts' columns by name) in one statement, for the most requested
    read."""
    rows = (await session.execute(METER_AND_CONTRACTS, {"meter": meter_id})).all()
    if not rows:
        return None, {}
    found = {r.contract_origin: SimpleNamespace(**{c.name: r._mapping[f"contract_{c.name}"] for c in CONTRACT_COLUMNS})
             for r in rows if r.contract_origin is not None}
    return rows[0], found


async def lock_meters(session: AsyncSession, account_id: uuid.UUID, meter_ids: list[uuid.UUID]) -> None:
    """Waits for the workers writing about these meters, and keeps new ones out until the transaction ends."""
    await session.execute(sa.select(meters.c.meter_id).where(_account_or_meters(account_id, meter_ids))
                          .order_by(meters.c.meter_id).with_for_update())  # in meter order, as the workers take them


async def held_meters(session: AsyncSession, account_id: uuid.UUID, meter_ids: list[uuid.UUID]) -> list[uuid.UUID]:
    """The account's meters (or these) whose data consent's accuracy control holds back."""
    result = await session.execute(
        sa.select(meters.c.meter_id).where(_account_or_meters(account_id, meter_ids), meters.c.address_hold,
                                           meters.c.erased_at.is_(None)))
    return list(result.scalars())


async def account_meters(session: AsyncSession, account_id: uuid.UUID) -> list[sa.Row]:
    result = await session.execute(
        sa.select(*METER_COLUMNS)
        .where(meters.c.account_id == account_id, meters.c.erased_at.is_(None))
        .order_by(meters.c.declared_at, meters.c.meter_id))
    return list(result.all())


async def accounts_with_meters(session: AsyncSession) -> list[uuid.UUID]:
    result = await session.execute(
        sa.select(meters.c.account_id).where(meters.c.erased_at.is_(None), meters.c.account_id.is_not(None))
        .distinct().order_by(meters.c.account_id))
    return list(result.scalars())


async def upsert_profile(session: AsyncSession, account_id: uuid.UUID, profile: dict[str, Any]) -> None:
    stmt = insert(profiles).values(account_id=account_id, profile=profile)
    await session.execute(stmt.on_conflict_do_update(
        index_elements=[profiles.c.account_id],
        set_={"profile": stmt.excluded.profile, "updated_at": sa.func.now()}))


async def profile_of(session: AsyncSession, account_id: uuid.UUID | None) -> dict[str, Any] | None:
    if account_id is None:
        return None
    return (await session.execute(sa.select(profiles.c.profile)
                                  .where(profiles.c.account_id == account_id))).scalar_one_or_none()


async def upsert_contract(session: AsyncSession, meter_id: uuid.UUID, origin: str, values: dict[str, Any]) -> None:
    stmt = insert(contracts).values(meter_id=meter_id, origin=origin, **values)
    await session.execute(stmt.on_conflict_do_update(
        index_elements=[contracts.c.meter_id, contracts.c.origin],
        set_={**{k: stmt.excluded[k] for k in values}, "updated_at": sa.func.now()}))


async def meter_contracts(session: AsyncSession, meter_id: uuid.UUID) -> dict[str, sa.Row]:
    result = await session.execute(sa.select(contracts).where(contracts.c.meter_id == meter_id))
    return {r.origin: r for r in result.all()}


async def contracts_of(session: AsyncSession, meter_ids: list[uuid.UUID]) -> list[sa.Row]:
    """The stored contracts of these meters, each with whose meter it is and whether its data is held."""
    result = await session.execute(
        sa.select(contracts, meters.c.account_id, meters.c.address_hold)
        .join(meters, meters.c.meter_id == contracts.c.meter_id)
        .where(contracts.c.meter_id.in_(meter_ids), meters.c.erased_at.is_(None)))
    return list(result.all())


async def owned_meters(session: AsyncSession, account_id: uuid.UUID, meter_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Energy of each of these meters the account holds (not erased)."""
    rows = await session.execute(sa.select(meters.c.meter_id, meters.c.energy).where(
        meters.c.meter_id.in_(meter_ids), meters.c.account_id == account_id, meters.c.erased_at.is_(None)))
    return {r.meter_id: r.energy for r in rows}
