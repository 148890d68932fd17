"""Decisions of the consent service: dwellings, meter claims, and moves along the consent life cycle."""
from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from consent import repository
from consent.lifecycle import COLLECTING, FINAL, LIVE, REVOKE_REASONS, Status, allowed
from metro.errors import AppError, Conflict, NotFound
from metro.events import ConsentGranted, ConsentRevoked, DwellingProfile, DwellingUpdated, MeterDeclared
from metro.outbox import Outbox
from metro.schemas.collection import Freshness
from metro.schemas.consent import (MANUAL, ClaimReleased, ConsentView, Dwelling, FileConsent, MeterDeclaration,
                                   MeterView)

log = logging.getLogger(__name__)


async def put_dwelling(session: AsyncSession, outbox: Outbox, account_id: uuid.UUID, body: Dwelling) -> Dwelling:
    values = body.model_dump(mode="json")
    await repository.upsert_dwelling(session, account_id, values)
    # Peer groups need the profile, never the address: only the comparison criteria leave this service.
    profile = DwellingProfile.model_validate({k: values[k] for k in DwellingProfile.model_fields})
    await outbox.add(session, DwellingUpdated(account_id=account_id, profile=profile))
    return body


async def get_dwelling(session: AsyncSession, account_id: uuid.UUID) -> Dwelling:
    row = await repository.get_dwelling(session, account_id)
    if row is None:
        raise NotFound("no dwelling described yet", code="dwelling_not_found")
    return Dwelling.model_validate({k: v for k, v in row._mapping.items()
                                    if k not in ("account_id", "updated_at")})


def consent_view(row: sa.Row | None, **extra: Any) -> ConsentView | None:
    if row is None:
        return None
    warnings = list(extra.pop("warnings", None) or [])
    if row.status == Status.awaiting_holder.value and row.reason == "dso_confirming" and \
            "dso_confirming" not in warnings:
        # The resident came back from the Enedis page; Enedis has not listed the consent yet.
        warnings.append("dso_confirming")
    if row.address_check in ("mismatch", "resident_confirmed", "rejected"):
        # Which part differs, never the DSO's address itself: it may be a neighbour's.
        warnings += [f"address_{part}_mismatch" for part in row.address_mismatch or []
                     if f"address_{part}_mismatch" not in warnings]
    return ConsentView(id=row.id, status=row.status, channel=row.channel, expires_at=row.expires_at,
                       history_from=row.history_from, reason=row.reason, address_check=row.address_check,
                       dso_reference=row.dso_reference, warnings=warnings, **extra)


def meter_view(row: sa.Row, consent: sa.Row | None, **extra: Any) -> MeterView:
    """The connectors know the rest of a collecting meter's freshness; the gateway asks them."""
    collecting = consent is not None and consent.status in COLLECTING
    return MeterView(id=row.id, energy=row.energy, dso=row.dso, channel=row.channel, identifier=row.identifier,
                     label=row.label, created_at=row.created_at, consent=consent_view(consent),
                     freshness=None if collecting else Freshness.no_consent, **extra)


async def _check_room(session: AsyncSession, account_id: uuid.UUID, max_meters: int) -> None:
    await repository.lock_account_claims(session, account_id)
    if await repository.count_claims(session, account_id) >= max_meters:
        raise Conflict(f"an account holds at most {max_meters} meters; give one up before declaring another",
                       code="meter_limit_reached")


async def claim_again(session: AsyncSession, meter: sa.Row, max_meters: int,
                      values: dict[str, Any] | None = None) -> None:
    """The account's released meter is claimed again (for a new consent), unless another account holds it."""
    if meter.released_at is None:
        return
    await _check_room(session, meter.account_id, max_meters)
    try:
        async with session.begin_nested():
            await repository.claim_again(session, meter.id, values or {})
    except IntegrityError as exc:
        raise Conflict("this meter is now claimed by another account; if it is yours, contact support",
                       code="meter_already_claimed") from exc


async def declare_meter(session: AsyncSession, outbox: Outbox, account_id: uuid.UUID,
                        body: MeterDeclaration, max_meters: int) -> tuple[sa.Row, sa.Row]:
    if body.channel == MANUAL:
        # Nobody else reads it: its own id names it, and no claim can collide.
        body = body.model_copy(update={"identifier": f"{MANUAL}-{uuid.uuid4().hex[:16]}"})
    claim = await repository.active_claim(session, body.dso, body.identifier)
    if claim is not None:
        if claim.account_id == account_id:
            raise Conflict("you have already declared this meter", code="meter_already_declared")
        raise Conflict("this meter is already claimed by another account; if it is yours, contact support",
                       code="meter_already_claimed")
    values = {"energy": body.energy.value, "channel": body.channel, "label": body.label}
    released = await repository.released_meter(session, account_id, body.dso, body.identifier)
    if released is not None:
        meter_id = released.id
        await claim_again(session, released, max_meters, values)
    else:
        await _check_room(session, account_id, max_meters)
        meter_id = uuid.uuid4()
        try:
            async with session.begin_nested():
                await repository.insert_meter(session, {
                    "id": meter_id, "account_id": account_id, "dso": body.dso, "identifier": body.identifier,
                    **values})
        except IntegrityError as exc:
            raise Conflict("this meter was claimed at the same moment", code="meter_already_claimed") from exc
    consent_id = uuid.uuid4()
    holder, evidence = {}, {"channel": body.channel}
    if body.local_holder is not None:
        # The agreement lets the operator deliver data for residents who consented here: the consent is recorded
        # now and sent in the operator's next list; the operator's first file confirms the holder.
        holder = {"dso_reference": body.local_holder.contract_reference,
                  "holder_name": body.local_holder.holder_name}
        evidence |= {"contract_reference": body.local_holder.contract_reference,
                     "holder_name": body.local_holder.holder_name, "operator_list": body.dso}
    await repository.insert_consent(session, {"id": consent_id, "meter_id": meter_id, "account_id": account_id,
                                              "channel": body.channel, "status": Status.requested.value, **holder})
    await repository.append_event(session, {"consent_id": consent_id, "from_status": None,
                                            "to_status": Status.requested.value, "actor": "resident",
                                            "evidence": evidence})
    await outbox.add(session, MeterDeclared(meter_id=meter_id, account_id=account_id, energy=body.energy.value,
                                            dso=body.dso, channel=body.channel))
    consent = await repository.get_consent(session, consent_id)
    if body.channel == MANUAL:
        # The resident's own statements are the only source: nothing to ask a DSO, nothing to wait for.
        await transition(session, outbox, consent, Status.active, actor="resident",
                         evidence={"channel": MANUAL, "statements": "entered by the resident"})
        consent = await repository.get_consent(session, consent_id)
    meter = await repository.get_meter(session, meter_id)
    return meter, consent


async def list_meters(session: AsyncSession, account_id: uuid.UUID) -> list[MeterView]:
    rows = await repository.account_meters(session, account_id)
    latest = await repository.latest_consents(session, [r.id for r in rows])
    return [meter_view(r, latest.get(r.id)) for r in rows]


async def own_meter(session: AsyncSession, account_id: uuid.UUID, meter_id: uuid.UUID) -> sa.Row:
    """The account's meter, released or not: a released claim leaves the resident their history."""
    meter = await repository.get_meter(session, meter_id)
    if meter is None or meter.account_id != account_id:
        raise NotFound("no such meter", code="meter_not_found")
    return meter


async def transition(session: AsyncSession, outbox: Outbox, consent: sa.Row, target: Status, *, actor: str,
                     reason: str | None = None, evidence: dict[str, Any] | None = None,
                     values: dict[str, Any] | None = None) -> bool:
    """Moves a consent if the life cycle allows it; a late fact never overrides a final state.

    Returns False (and changes nothing) when the move is not allowed from the current state.
    """
    current = Status(consent.status)
    if current == target or not allowed(current, target):
        return False
    if target is Status.revoked and reason not in REVOKE_REASONS:
        raise AppError(f"unknown revocation reason {reason!r}", code="invalid_reason", status_code=422)
    await repository.update_consent(session, consent.id, {"status": target.value, "reason": reason,
                                                          **(values or {})})
    await repository.append_event(session, {"consent_id": consent.id, "from_status": current.value,
                                            "to_status": target.value, "actor": actor, "reason": reason,
                                            "evidence": evidence or {}})
    meter = await repository.get_meter(session, consent.meter_id)
    base = {"consent_id": consent.id, "meter_id": consent.meter_id, "account_id": consent.account_id,
            "dso": meter.dso, "channel": consent.channel, "identifier": meter.identifier}
    if target is Status.active and current not in COLLECTING:
        fresh = await repository.get_consent(session, consent.id)
        await outbox.add(session, ConsentGranted(**base, energy=meter.energy, history_from=fresh.history_from,
                                                 expires_at=fresh.expires_at, dso_reference=fresh.dso_reference))
    elif target in (Status.revoked, Status.expired) and current in COLLECTING:
        await outbox.add(session, ConsentRevoked(**base, reason=reason if target is Status.revoked else "expired",
                                                 dso_reference=consent.dso_reference))
    if target in FINAL:
        # A claim without a live consent would block the meter's real holder for good.
        await repository.release_meter(session, consent.meter_id, unless_live=[s.value for s in LIVE])
    return True


async def revoke_by_resident(session: AsyncSession, outbox: Outbox, account_id: uuid.UUID,
                             meter_id: uuid.UUID) -> ConsentView:
    await own_meter(session, account_id, meter_id)
    latest = (await repository.latest_consents(session, [meter_id])).get(meter_id)
    if latest is None:
        raise NotFound("this meter has no consent", code="consent_not_found")
    consent = await repository.get_consent(session, latest.id, lock=True)
    status = Status(consent.status)
    if status in FINAL:
        raise Conflict(f"the consent is already {status.value}", code="consent_not_revocable")
    if status in COLLECTING:
        await transition(session, outbox, consent, Status.revoked, actor="resident", reason="user")
    else:
        # Not yet granted: the request is withdrawn; the life cycle's closest final state is `refused`.
        await transition(session, outbox, consent, Status.refused, actor="resident", reason="withdrawn")
    return consent_view(await repository.get_consent(session, consent.id))


async def history(session: AsyncSession, meter_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = await repository.meter_consents(session, meter_id)
    return [{"id": r.id, "channel": r.channel, "purpose": r.purpose, "status": r.status,
             "requested_at": r.requested_at, "expires_at": r.expires_at,
             "history": [dict(e._mapping) for e in await repository.consent_history(session, r.id)]} for r in rows]


async def file_consents(session: AsyncSession, dso: str, withdrawn_within: dt.timedelta) -> list[FileConsent]:
    """What ingest-local sends a local operator: each meter's latest consent, live or withdrawn lately."""
    now = utcnow()
    rows = await repository.file_consents(session, dso, now - withdrawn_within)
    return [FileConsent(consent_id=r.id, meter_id=r.meter_id, account_id=r.account_id, dso=r.dso, energy=r.energy,
                        identifier=r.identifier, status=r.status, contract_reference=r.dso_reference,
                        holder_name=r.holder_name, since=r.requested_at,
                        ended_at=None if Status(r.status) in LIVE else r.updated_at) for r in rows]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


DSO_WITHOUT_REVOCATION_API = {
    "enedis": "Data Connect offers no call to withdraw a consent: withdraw it yourself in your Enedis customer "
              "space (mon-compte-client.enedis.fr → « Gérer mes autorisations »). MétroEnergies has stopped "
              "collecting already.",
}


async def revoke_all(session: AsyncSession, outbox: Outbox, account_id: uuid.UUID, reason: str) -> list[dict]:
    """Revokes every live consent of the account at once; says which DSOs the resident must tell themselves."""
    actions: list[dict] = []
    meter_ids = await repository.account_meter_ids(session, account_id)
    latest = await repository.latest_consents(session, meter_ids)
    for meter_id, consent in latest.items():
        consent = await repository.get_consent(session, consent.id, lock=True)
        status = Status(consent.status)
        if status in FINAL:
            continue
        target = Status.revoked if status in COLLECTING else Status.refused
        await transition(session, outbox, consent, target, actor="resident", reason=reason)
        meter = await repository.get_meter(session, meter_id)
        if status in COLLECTING and meter.dso in DSO_WITHOUT_REVOCATION_API and meter.channel == "dataconnect":
            actions.append({"meter_id": str(meter_id), "dso": meter.dso, "identifier": meter.identifier,
                            "action": DSO_WITHOUT_REVOCATION_API[meter.dso]})
    return actions


async def release_claim(session: AsyncSession, outbox: Outbox, actor: str, dso: str, identifier: str,
                        note: str | None) -> ClaimReleased:
    """An administrator gives a meter's claim up: a live consent on it ends (reason ``claim_released``), the
    release goes into the consent's history, and another account may declare the meter."""
    claim = await repository.active_claim(session, dso, identifier)
    if claim is None:
        raise NotFound("no account holds a claim on this meter", code="claim_not_found")
    latest = (await repository.latest_consents(session, [claim.id])).get(claim.id)
    evidence = {"claim_released": True, "note": note}
    if latest is not None:
        consent = await repository.get_consent(session, latest.id, lock=True)
        status = Status(consent.status)
        if status in LIVE:
            target = Status.revoked if status in COLLECTING else Status.refused
            await transition(session, outbox, consent, target, actor=actor, reason="claim_released",
                             evidence=evidence)
        else:
            await repository.append_event(session, {"consent_id": consent.id, "from_status": status.value,
                                                    "to_status": status.value, "actor": actor,
                                                    "reason": "claim_released", "evidence": evidence})
    await repository.release_meter(session, claim.id)
    log.info("meter claim released by an administrator",
             extra={"meter_id": str(claim.id), "account_id": str(claim.account_id), "actor": actor})
    meter = await repository.get_meter(session, claim.id)
    fresh = await repository.get_consent(session, latest.id) if latest is not None else None
    return ClaimReleased(meter_id=meter.id, account_id=meter.account_id, released_at=meter.released_at,
                         consent=consent_view(fresh))
