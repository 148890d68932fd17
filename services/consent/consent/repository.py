"""Every SQL statement of the consent service."""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from consent.models import (access_log, addresses, advice_notes, building_meters, buildings, consent_events, consents,
                            dwellings, meters, org_members, organisations, shares)


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


async def consents_on_channel(session: AsyncSession, channel: str, statuses: list[str]) -> list[sa.Row]:
    return list((await session.execute(
        sa.select(consents.c.id, consents.c.meter_id, consents.c.account_id, consents.c.status,
                  consents.c.dso_reference, consents.c.expires_at, consents.c.updated_at, meters.c.identifier)
        .join(meters, meters.c.id == consents.c.meter_id)
        .where(consents.c.channel == channel, consents.c.status.in_(statuses))
        .order_by(consents.c.expires_at.nulls_last(), meters.c.identifier))).all())


def _live(today: dt.date):
    return sa.and_(shares.c.revoked_at.is_(None), shares.c.ends_on >= today)


async def active_share(session: AsyncSession, resident_id: uuid.UUID, adviser_id: uuid.UUID, today: dt.date,
                       scope: str | None = None) -> sa.Row | None:
    """The resident's live share with the adviser (neither taken back nor past its end), if any, and covering
    the scope when one is given."""
    q = sa.select(shares).where(shares.c.resident_id == resident_id, shares.c.adviser_id == adviser_id,
                                _live(today))
    if scope is not None:
        q = q.where(shares.c.scopes.any(scope))
    return (await session.execute(q)).first()


async def insert_share(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(sa.insert(shares).values(**values))


async def get_share(session: AsyncSession, share_id: uuid.UUID) -> sa.Row | None:
    return (await session.execute(sa.select(shares).where(shares.c.id == share_id))).first()


async def resident_shares(session: AsyncSession, resident_id: uuid.UUID) -> list[sa.Row]:
    return list((await session.execute(sa.select(shares).where(shares.c.resident_id == resident_id)
                                       .order_by(shares.c.created_at.desc()))).all())


async def adviser_active_shares(session: AsyncSession, adviser_id: uuid.UUID, today: dt.date) -> list[sa.Row]:
    return list((await session.execute(sa.select(shares).where(shares.c.adviser_id == adviser_id, _live(today))
                                       .order_by(shares.c.resident_name, shares.c.created_at.desc()))).all())


async def revoke_share(session: AsyncSession, resident_id: uuid.UUID, share_id: uuid.UUID) -> bool:
    """False when the resident has no such share still to take back."""
    result = await session.execute(sa.update(shares).where(
        shares.c.id == share_id, shares.c.resident_id == resident_id, shares.c.revoked_at.is_(None))
        .values(revoked_at=sa.func.now()).returning(shares.c.id))
    return result.first() is not None


async def lock_resident_share(session: AsyncSession, resident_id: uuid.UUID, share_id: uuid.UUID) -> sa.Row | None:
    return (await session.execute(sa.select(shares).where(shares.c.id == share_id,
                                                          shares.c.resident_id == resident_id)
                                  .with_for_update())).first()


async def renew_share(session: AsyncSession, share_id: uuid.UUID, ends_on: dt.date) -> None:
    await session.execute(sa.update(shares).where(shares.c.id == share_id)
                          .values(ends_on=ends_on, renewed_at=sa.func.now()))


async def insert_note(session: AsyncSession, values: dict[str, Any]) -> sa.Row:
    return (await session.execute(sa.insert(advice_notes).values(**values).returning(advice_notes))).one()


async def resident_notes(session: AsyncSession, resident_id: uuid.UUID,
                         adviser_id: uuid.UUID | None = None) -> list[sa.Row]:
    q = sa.select(advice_notes).where(advice_notes.c.resident_id == resident_id)
    if adviser_id is not None:
        q = q.where(advice_notes.c.adviser_id == adviser_id)
    return list((await session.execute(q.order_by(advice_notes.c.created_at.desc()))).all())


async def delete_note(session: AsyncSession, resident_id: uuid.UUID, note_id: uuid.UUID) -> bool:
    result = await session.execute(sa.delete(advice_notes).where(
        advice_notes.c.id == note_id, advice_notes.c.resident_id == resident_id).returning(advice_notes.c.id))
    return result.first() is not None


async def log_access(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(sa.insert(access_log).values(**values))


async def access_log_of(session: AsyncSession, resident_id: uuid.UUID, limit: int) -> list[sa.Row]:
    return list((await session.execute(
        sa.select(access_log.c.reader_role, access_log.c.reader_name, access_log.c.what, access_log.c.at)
        .where(access_log.c.resident_id == resident_id)
        .order_by(access_log.c.at.desc()).limit(limit))).all())


# --- organisations ---------------------------------------------------------------------------------------------

async def insert_organisation(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(sa.insert(organisations).values(**values))


async def get_organisation(session: AsyncSession, org_id: uuid.UUID) -> sa.Row | None:
    return (await session.execute(sa.select(organisations).where(organisations.c.id == org_id))).first()


async def member_role(session: AsyncSession, org_id: uuid.UUID, account_id: uuid.UUID) -> str | None:
    return (await session.execute(sa.select(org_members.c.role).where(
        org_members.c.org_id == org_id, org_members.c.account_id == account_id))).scalar_one_or_none()


async def upsert_member(session: AsyncSession, org_id: uuid.UUID, account_id: uuid.UUID, role: str) -> None:
    stmt = insert(org_members).values(org_id=org_id, account_id=account_id, role=role)
    await session.execute(stmt.on_conflict_do_update(
        index_elements=[org_members.c.org_id, org_members.c.account_id], set_={"role": role}))


async def delete_member(session: AsyncSession, org_id: uuid.UUID, account_id: uuid.UUID) -> bool:
    result = await session.execute(sa.delete(org_members).where(
        org_members.c.org_id == org_id, org_members.c.account_id == account_id))
    return (result.rowcount or 0) > 0


async def lock_org(session: AsyncSession, org_id: uuid.UUID) -> None:
    """Until the transaction ends: membership changes of one organisation happen one after the other."""
    await session.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(f"org:{org_id}"))))


async def count_managers(session: AsyncSession, org_id: uuid.UUID) -> int:
    return (await session.execute(sa.select(sa.func.count()).select_from(org_members).where(
        org_members.c.org_id == org_id, org_members.c.role == "manager"))).scalar_one()


async def org_members_of(session: AsyncSession, org_id: uuid.UUID) -> list[sa.Row]:
    return list((await session.execute(sa.select(org_members).where(org_members.c.org_id == org_id)
                                       .order_by(org_members.c.added_at))).all())


async def account_organisations(session: AsyncSession, account_id: uuid.UUID) -> list[sa.Row]:
    """The organisations the account belongs to, each with the account's role."""
    return list((await session.execute(
        sa.select(organisations, org_members.c.role.label("my_role"))
        .join(org_members, org_members.c.org_id == organisations.c.id)
        .where(org_members.c.account_id == account_id).order_by(organisations.c.name))).all())


async def insert_building(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(sa.insert(buildings).values(**values))


async def get_building(session: AsyncSession, org_id: uuid.UUID, building_id: uuid.UUID) -> sa.Row | None:
    return (await session.execute(sa.select(buildings).where(
        buildings.c.id == building_id, buildings.c.org_id == org_id))).first()


async def org_buildings(session: AsyncSession, org_id: uuid.UUID) -> list[sa.Row]:
    return list((await session.execute(sa.select(buildings).where(buildings.c.org_id == org_id)
                                       .order_by(buildings.c.site.nulls_last(), buildings.c.name))).all())


async def attach_meter(session: AsyncSession, building_id: uuid.UUID, meter_id: uuid.UUID) -> None:
    """A meter belongs to one building; attached again, it moves."""
    stmt = insert(building_meters).values(building_id=building_id, meter_id=meter_id)
    await session.execute(stmt.on_conflict_do_update(index_elements=[building_meters.c.meter_id],
                                                     set_={"building_id": building_id}))


async def building_meter_rows(session: AsyncSession, building_ids: list[uuid.UUID]) -> list[sa.Row]:
    """(building_id, meter row) for the buildings' meters, released ones left out."""
    if not building_ids:
        return []
    return list((await session.execute(
        sa.select(building_meters.c.building_id, meters)
        .join(meters, meters.c.id == building_meters.c.meter_id)
        .where(building_meters.c.building_id.in_(building_ids), meters.c.released_at.is_(None))
        .order_by(meters.c.created_at))).all())


# --- the address base ---------------------------------------------------------------------------------------

_ADDRESS_FIELDS = ("id", "number", "street", "postal_code", "insee_code", "municipality", "lon", "lat", "search")
_staged = sa.Table("address_import", sa.MetaData(), *(sa.Column(c, addresses.c[c].type) for c in _ADDRESS_FIELDS))


async def open_address_import(session: AsyncSession) -> None:
    await session.execute(sa.text("CREATE TEMPORARY TABLE address_import (LIKE consent.addresses INCLUDING DEFAULTS) ON COMMIT DROP"))


async def close_address_import(session: AsyncSession) -> None:
    await session.execute(sa.text("DROP TABLE IF EXISTS address_import"))


async def stage_addresses(session: AsyncSession, rows: list[dict[str, Any]]) -> int:
    """Into the import's table (an id staged twice is merged once, see merge_staged_addresses)."""
    await session.execute(sa.insert(_staged), rows)
    return len(rows)


async def merge_staged_addresses(session: AsyncSession) -> tuple[int, int]:
    """(added, changed): the staged addresses upserted, a row rewritten only when a field differs."""
    fields = [c for c in _ADDRESS_FIELDS if c != "id"]
    row = (await session.execute(sa.text(f"""
        WITH merged AS (
          INSERT INTO consent.addresses AS a ({', '.join(_ADDRESS_FIELDS)})
          SELECT DISTINCT ON (id) {', '.join(_ADDRESS_FIELDS)} FROM address_import
          ON CONFLICT (id) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in fields)}, updated_at = now()
          WHERE ({', '.join(f'a.{c}' for c in fields)}) IS DISTINCT FROM ({', '.join(f'excluded.{c}' for c in fields)})
          RETURNING (xmax = 0) AS added)
        SELECT count(*) FILTER (WHERE added), count(*) FILTER (WHERE NOT added) FROM merged"""))).one()
    return int(row[0]), int(row[1])


async def remove_unstaged_addresses(session: AsyncSession) -> int:
    result = await session.execute(sa.text(
        "DELETE FROM consent.addresses a WHERE NOT EXISTS (SELECT 1 FROM address_import i WHERE i.id = a.id)"))
    return result.rowcount or 0


async def count_addresses(session: AsyncSession) -> int:
    return (await session.execute(sa.select(sa.func.count()).select_from(addresses))).scalar_one()


async def address_municipalities(session: AsyncSession) -> int:
    return (await session.execute(sa.select(sa.func.count(sa.distinct(addresses.c.insee_code))))).scalar_one()


async def search_addresses(session: AsyncSession, terms: list[str], query: str, limit: int) -> list[sa.Row]:
    """Addresses holding every term, the closest to the whole query first (trigram similarity)."""
    a = addresses.c
    return list((await session.execute(
        sa.select(a.id, a.number, a.street, a.postal_code, a.insee_code, a.municipality)
        .where(*(a.search.contains(t, autoescape=True) for t in terms))
        .order_by(sa.func.similarity(a.search, query).desc(), a.street, a.number).limit(limit))).all())
