"""The accuracy control of issue 3: while the DSO's address of a meter differs from the declared dwelling and
nobody has resolved it, the meter's data is withheld (consumption learns it from `meter.declared`).

The resident resolves it by correcting the dwelling (the check runs again); a resident who states the meter
is theirs all the same (`resident_confirmed`) still waits for an administrator, who clears it or rejects the
consent: a statement alone must not show a neighbour's consumption. Each resolution is appended to the
consent's history as evidence; the consent's status moves only along the life cycle (a rejection revokes it).
"""
from __future__ import annotations

import logging
import unicodedata
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from consent import repository, service
from consent.lifecycle import COLLECTING, Status
from metro.errors import AppError, Conflict, Forbidden, NotFound
from metro.events import MeterDeclared
from metro.outbox import Outbox
from metro.schemas.consent import ConsentView
from metro.service_auth import Principal, ServiceClient

log = logging.getLogger(__name__)
PARTS = {"address_municipality_mismatch": "municipality", "address_postal_code_mismatch": "postal_code",
         "address_street_mismatch": "street"}
# Checks under which nothing is shown: a rejected meter may well be a neighbour's.
WITHHELD = frozenset({"mismatch", "resident_confirmed", "rejected"})
# What an administrator has to review.
IN_REVIEW = ("mismatch", "resident_confirmed")
# Checked again when the dwelling changes: a mismatch may be corrected, an unchecked meter may turn out elsewhere.
RECHECKED = frozenset({"mismatch", "resident_confirmed", "unknown", None})


def outcome(warnings: list[str]) -> tuple[str, list[str]]:
    """address_warnings → (address_check, the parts that differ)."""
    parts = [PARTS[w] for w in warnings if w in PARTS]
    if parts:
        return "mismatch", parts
    return ("unknown" if warnings else "match"), []


def normalise(text: str | None) -> str:
    text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode().lower()
    return " ".join("".join(c if c.isalnum() else " " for c in text).split())


def address_warnings(dwelling: sa.Row | None, dso_address: dict[str, Any] | None) -> list[str]:
    """The seed's accuracy control: the DSO's address of the usage point against the declared dwelling."""
    if dso_address is None:
        return ["address_unavailable"]
    if dwelling is None:
        return ["dwelling_missing"]
    warnings = []
    if dso_address.get("insee_code") and dso_address["insee_code"] != dwelling.insee_code:
        warnings.append("address_municipality_mismatch")
    elif dso_address.get("postal_code") and dso_address["postal_code"] != dwelling.postal_code:
        warnings.append("address_postal_code_mismatch")
    street = normalise(dso_address.get("street"))
    declared = normalise(dwelling.street)
    if street and declared and not (set(street.split()) & set(declared.split()) - {"rue", "de", "la", "du", "avenue",
                                                                                  "chemin", "des", "le", "bd"}):
        warnings.append("address_street_mismatch")
    return warnings


def withheld(consent: sa.Row | None) -> bool:
    return consent is not None and consent.address_check in WITHHELD


async def publish_hold(session: AsyncSession, outbox: Outbox, meter: sa.Row, consent: sa.Row) -> None:
    """`meter.declared` again, carrying whether the meter's data may be shown (a projection: latest wins)."""
    await outbox.add(session, MeterDeclared(meter_id=meter.id, account_id=meter.account_id, energy=meter.energy,
                                            dso=meter.dso, channel=meter.channel, address_hold=withheld(consent)))


async def _record(session: AsyncSession, outbox: Outbox, consent: sa.Row, check: str, *, actor: str, reason: str,
                  evidence: dict[str, Any], parts: list[str] | None = None) -> sa.Row:
    """A resolution is a fact in the history, not a move of the life cycle: from and to are the same status."""
    values: dict[str, Any] = {"address_check": check}
    if parts is not None:
        values["address_mismatch"] = parts
    await repository.update_consent(session, consent.id, values)
    await repository.append_event(session, {"consent_id": consent.id, "from_status": consent.status,
                                            "to_status": consent.status, "actor": actor, "reason": reason,
                                            "evidence": {"address_check": check, **evidence}})
    fresh = await repository.get_consent(session, consent.id)
    await publish_hold(session, outbox, await repository.get_meter(session, consent.meter_id), fresh)
    return fresh


async def _in_question(session: AsyncSession, meter_id: uuid.UUID, checks=IN_REVIEW) -> sa.Row:
    latest = (await repository.latest_consents(session, [meter_id])).get(meter_id)
    consent = await repository.get_consent(session, latest.id, lock=True) if latest else None
    if consent is None or consent.address_check not in checks:
        raise Conflict("this meter's address is not in question", code="address_not_in_question")
    return consent


async def confirm_by_resident(session: AsyncSession, outbox: Outbox, account_id: uuid.UUID,
                              meter_id: uuid.UUID) -> ConsentView:
    """The resident's statement goes to an administrator's review; the data stays withheld until then."""
    await service.own_meter(session, account_id, meter_id)
    consent = await _in_question(session, meter_id, checks=("mismatch",))
    fresh = await _record(session, outbox, consent, "resident_confirmed", actor="resident",
                          reason="address_confirmed",
                          evidence={"mismatch": consent.address_mismatch or [],
                                    "statement": "the resident confirms this meter supplies their dwelling"})
    return service.consent_view(fresh)


async def recheck_after_dwelling(session: AsyncSession, outbox: Outbox, services: ServiceClient,
                                 account_id: uuid.UUID) -> None:
    """The dwelling changed: every withheld meter, and every one that could not be checked (no dwelling yet, the
    DSO's address unavailable), is checked again against the address the DSO gives. A meter first shown
    unchecked is held if the dwelling now described is elsewhere."""
    meters = await repository.account_meters(session, account_id)
    latest = await repository.latest_consents(session, [m.id for m in meters])
    dwelling = await repository.get_dwelling(session, account_id)
    for meter in meters:
        consent = latest.get(meter.id)
        if (consent is None or meter.channel != "dataconnect" or Status(consent.status) not in COLLECTING
                or consent.address_check not in RECHECKED):
            continue
        try:
            dso_address = await services.json("ingest_enedis", "GET",
                                              f"/internal/usage-points/{meter.identifier}/address")
        except AppError as exc:
            log.warning("address recheck of meter %s failed: %s", meter.id, exc.code)
            continue
        check, parts = outcome(address_warnings(dwelling, dso_address))
        # A mismatch the resident already vouched for stays in review while the same parts differ.
        same = (check == consent.address_check
                or (check, consent.address_check) == ("mismatch", "resident_confirmed"))
        if check == "unknown" or (same and parts == (consent.address_mismatch or [])):
            continue
        consent = await repository.get_consent(session, consent.id, lock=True)
        reason = "dwelling_corrected" if consent.address_check in IN_REVIEW else "address_checked"
        await _record(session, outbox, consent, check, actor="resident", reason=reason,
                      evidence={"mismatch": parts, "previous_mismatch": consent.address_mismatch or []}, parts=parts)


async def pending(session: AsyncSession) -> list[dict[str, Any]]:
    rows = await repository.pending_address_checks(session, [s.value for s in COLLECTING], list(IN_REVIEW))
    return [{"consent_id": r.consent_id, "meter_id": r.meter_id, "account_id": r.account_id, "dso": r.dso,
             "channel": r.channel, "identifier": r.identifier, "status": r.status,
             "address_check": r.address_check,
             "mismatch": r.address_mismatch or [], "since": r.since} for r in rows]


async def decide(session: AsyncSession, outbox: Outbox, principal: Principal, meter_id: uuid.UUID, decision: str,
                 note: str | None) -> ConsentView:
    if not principal.has("admin"):
        raise Forbidden("only an administrator resolves an address mismatch", code="forbidden_role")
    meter = await repository.get_meter(session, meter_id)
    if meter is None or meter.released_at is not None:
        raise NotFound("no such meter", code="meter_not_found")
    consent = await _in_question(session, meter_id)
    actor = f"admin:{principal.account_id}"
    evidence = {"mismatch": consent.address_mismatch or [], "note": note}
    if decision == "clear":
        return service.consent_view(await _record(session, outbox, consent, "cleared", actor=actor,
                                                  reason="address_cleared", evidence=evidence))
    await repository.update_consent(session, consent.id, {"address_check": "rejected"})
    consent = await repository.get_consent(session, consent.id)
    if Status(consent.status) in COLLECTING:
        await service.transition(session, outbox, consent, Status.revoked, actor=actor, reason="address_rejected",
                                 evidence={"address_check": "rejected", **evidence})
    else:
        await repository.append_event(session, {"consent_id": consent.id, "from_status": consent.status,
                                                "to_status": consent.status, "actor": actor,
                                                "reason": "address_rejected",
                                                "evidence": {"address_check": "rejected", **evidence}})
    fresh = await repository.get_consent(session, consent.id)
    await publish_hold(session, outbox, meter, fresh)
    return service.consent_view(fresh)
