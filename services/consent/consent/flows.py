"""How a consent is obtained on each DSO channel, and how DSO-reported facts move it.

Data Connect: the resident is sent to the Enedis consent page with a single-use ``state`` bound to the
account; the callback verifies it and asks ingest-enedis whether Enedis confirms the meter for this consent
(a redirect alone proves nothing). When Enedis has not listed it yet, it is asked again with backoff.
ADICT: ingest-grdf declares the access right; the holder confirms at GRDF; ingest-grdf reports the state.
SGE: an administrator records the subscription made by hand on the Enedis portal.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from consent import address, orgs, repository, service
from consent.lifecycle import COLLECTING, Status
from metro.errors import AppError, Conflict, NotFound
from metro.outbox import Outbox
from metro.schemas.consent import MeterDeclaration, MeterView
from metro.service_auth import Principal, ServiceClient

log = logging.getLogger(__name__)
DATACONNECT_DURATION = "P3Y"
CONSENT_YEARS = 3
HISTORY_DAYS = 3 * 365 + 15
# The reason an awaiting consent carries while Enedis has not confirmed its meter yet.
DSO_CONFIRMING = "dso_confirming"


@dataclass(frozen=True)
class Backoff:
    base: dt.timedelta
    cap: dt.timedelta

    def delay(self, attempts: int) -> dt.timedelta:
        return min(self.base * 2 ** min(attempts, 30), self.cap)


def _hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def _years_later(moment: dt.datetime, years: int) -> dt.datetime:
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year + years, day=28)


async def declare(session: AsyncSession, rt: Any, holder_id: uuid.UUID, body: MeterDeclaration,
                  max_meters: int) -> MeterView:
    """Declares the holder's meter (a resident's, or an organisation's) and starts its consent on its channel:
    the Enedis page's address, or the ADICT declaration and its warnings."""
    meter, consent = await service.declare_meter(session, rt.outbox, holder_id, body, max_meters)
    url, warnings = None, []
    if meter.channel == "dataconnect":
        url = await start_dataconnect(session, rt.outbox, rt.services, consent, rt.settings.consent_page_ttl)
    elif meter.channel == "adict":
        warnings = await declare_adict(session, rt.outbox, rt.services, consent, meter, body.grdf_holder)
    consent = await repository.get_consent(session, consent.id)
    return service.meter_view(meter, consent).model_copy(update={"consent": service.consent_view(
        consent, authorize_url=url, warnings=warnings)})


async def start_dataconnect(session: AsyncSession, outbox: Outbox, services: ServiceClient, consent: sa.Row,
                            state_ttl: dt.timedelta) -> str:
    """A fresh authorize URL; the consent waits for the holder at the Enedis page."""
    state = secrets.token_urlsafe(24)
    url = (await services.json("ingest_enedis", "GET", "/internal/consent/authorize-url",
                               params={"state": state, "duration": DATACONNECT_DURATION}))["url"]
    await repository.update_consent(session, consent.id, {
        "state_hash": _hash(state), "state_expires_at": service.utcnow() + state_ttl})
    if consent.status == Status.requested:
        await service.transition(session, outbox, consent, Status.awaiting_holder, actor="platform",
                                 evidence={"consent_page": "enedis.dataconnect", "duration": DATACONNECT_DURATION})
    return url


async def dataconnect_callback(session: AsyncSession, outbox: Outbox, services: ServiceClient,
                               principal: Principal, params: dict[str, str],
                               retry: Backoff) -> dict[str, Any]:
    state = params.get("state")
    if not state:
        raise AppError("the DSO's answer carries no state", code="consent_state_missing", status_code=400)
    consent = await repository.consent_by_state_hash(session, _hash(state))
    if consent is None or not await orgs.may_act_for(session, principal.account_id, consent.account_id):
        # Unknown, already used, or another account's: a forged or replayed callback records nothing.
        raise AppError("this consent answer is unknown or was already used", code="consent_state_invalid",
                       status_code=400)
    if consent.state_expires_at is None or consent.state_expires_at < service.utcnow():
        raise AppError("this consent request has expired; start again", code="consent_state_expired",
                       status_code=400)
    await repository.update_consent(session, consent.id, {"state_hash": None, "state_expires_at": None})
    meter = await repository.get_meter(session, consent.meter_id)
    evidence = {k: v for k, v in params.items() if k in ("usage_point_id", "autorisation_id", "error",
                                                          "error_description")}
    if params.get("error"):
        await service.transition(session, outbox, consent, Status.refused, actor="dso", reason="refused_at_dso",
                                 evidence=evidence)
        return {"meter_id": str(meter.id), "status": Status.refused.value, "warnings": []}
    try:
        answer = await services.json("ingest_enedis", "POST", "/internal/consent/redirect",
                                     json={"params": params, "prm": meter.identifier})
    except AppError as exc:
        if exc.code == "consent_refused":
            await service.transition(session, outbox, consent, Status.refused, actor="dso",
                                     reason="refused_at_dso", evidence=evidence)
            return {"meter_id": str(meter.id), "status": Status.refused.value, "warnings": []}
        raise
    evidence["generation"] = answer.get("generation")
    return await settle_dataconnect(session, outbox, services, consent, meter, answer, evidence, retry,
                                    actor="resident", dso_reference=params.get("autorisation_id"))


async def settle_dataconnect(session: AsyncSession, outbox: Outbox, services: ServiceClient, consent: sa.Row,
                             meter: sa.Row, answer: dict[str, Any], evidence: dict[str, Any],
                             retry: Backoff, *, actor: str, dso_reference: str | None) -> dict[str, Any]:
    """What Enedis said of the consent's meter decides: active only once the DSO itself names it."""
    prms = answer.get("usage_point_ids") or []
    verdict = answer.get("dso_confirmation")
    evidence.update({"usage_point_ids": prms, "dso_confirmation": verdict, "detail": answer.get("detail"),
                     **(answer.get("evidence") or {})})
    done = {"dso_check_at": None}
    if verdict == "pending":
        return await _wait_for_dso(session, consent, meter, evidence, retry, dso_reference)
    if prms and meter.identifier not in prms:
        return await _invalid(session, outbox, consent, meter, "consent_for_another_meter", evidence, done)
    if verdict != "confirmed":
        return await _invalid(session, outbox, consent, meter, "not_confirmed_by_dso", evidence, done)
    try:
        dso_address = await services.json("ingest_enedis", "GET",
                                          f"/internal/usage-points/{meter.identifier}/address")
    except AppError:
        dso_address = None
    warnings = address.address_warnings(await repository.get_dwelling(session, consent.account_id), dso_address)
    evidence["address_check"] = warnings or ["match"]
    check, parts = address.outcome(warnings)
    now = service.utcnow()
    current = await repository.get_consent(session, consent.id)
    await service.transition(session, outbox, current, Status.active, actor=actor, evidence=evidence, values={
        **done, "history_from": (now - dt.timedelta(days=HISTORY_DAYS)).date(),
        "expires_at": _years_later(now, CONSENT_YEARS),
        "dso_reference": dso_reference or current.dso_reference,
        "address_check": check, "address_mismatch": parts or None,
    })
    # Same transaction as consent.granted: the hold normally reaches consumption before any reading does.
    await address.publish_hold(session, outbox, meter, await repository.get_consent(session, consent.id))
    return {"meter_id": str(meter.id), "status": Status.active.value, "warnings": warnings}


async def _invalid(session: AsyncSession, outbox: Outbox, consent: sa.Row, meter: sa.Row, reason: str,
                   evidence: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    current = await repository.get_consent(session, consent.id)
    await service.transition(session, outbox, current, Status.invalid, actor="dso", reason=reason,
                             evidence=evidence, values=values)
    return {"meter_id": str(meter.id), "status": Status.invalid.value, "warnings": [reason]}


async def _wait_for_dso(session: AsyncSession, consent: sa.Row, meter: sa.Row, evidence: dict[str, Any],
                        retry: Backoff, dso_reference: str | None) -> dict[str, Any]:
    """Enedis has not listed the consent yet (or could not be asked): it stays awaiting the holder, visibly,
    and is asked again later, until the silent-consent time-out ends it."""
    current = await repository.get_consent(session, consent.id)
    attempts = current.dso_check_attempts
    await repository.update_consent(session, consent.id, {
        "reason": DSO_CONFIRMING, "dso_check_attempts": attempts + 1,
        "dso_check_at": service.utcnow() + retry.delay(attempts),
        "dso_reference": dso_reference or current.dso_reference})
    if current.reason != DSO_CONFIRMING:
        await repository.append_event(session, {"consent_id": consent.id, "from_status": current.status,
                                                "to_status": current.status, "actor": "dso",
                                                "reason": DSO_CONFIRMING, "evidence": evidence})
    return {"meter_id": str(meter.id), "status": current.status, "warnings": [DSO_CONFIRMING]}


async def recheck_dataconnect(session: AsyncSession, outbox: Outbox, services: ServiceClient,
                              consent_id: uuid.UUID, retry: Backoff) -> str | None:
    """Asks Enedis again about one consent it had not confirmed; None when it is no longer waiting."""
    consent = await repository.lock_due_dso_check(session, consent_id, service.utcnow(),
                                                  Status.awaiting_holder.value)
    if consent is None:
        return None
    meter = await repository.get_meter(session, consent.meter_id)
    try:
        answer = await services.json("ingest_enedis", "POST", "/internal/consent/confirmation",
                                     json={"prm": meter.identifier, "autorisation_id": consent.dso_reference})
    except AppError as exc:
        answer = {"dso_confirmation": "pending", "detail": exc.code}
    result = await settle_dataconnect(session, outbox, services, consent, meter, answer, {}, retry,
                                      actor="dso", dso_reference=consent.dso_reference)
    return result["status"]


async def renew(session: AsyncSession, outbox: Outbox, services: ServiceClient, account_id: uuid.UUID,
                meter_id: uuid.UUID, state_ttl: dt.timedelta, max_meters: int) -> dict[str, Any]:
    """A new consent for the same meter (after refusal, expiry or revocation, or to extend one); a meter whose
    claim was released is claimed again first."""
    meter = await service.own_meter(session, account_id, meter_id)
    await service.claim_again(session, meter, max_meters)
    latest = (await repository.latest_consents(session, [meter_id])).get(meter_id)
    if latest is not None and Status(latest.status) in (Status.requested, Status.awaiting_holder):
        consent = latest
    else:
        if latest is not None and Status(latest.status) in COLLECTING and meter.channel != "dataconnect":
            raise Conflict("this meter's consent is still active", code="consent_still_active")
        consent_id = uuid.uuid4()
        # A local operator's meter keeps the contract reference and holder it was declared with.
        holder = {"dso_reference": latest.dso_reference, "holder_name": latest.holder_name} \
            if latest is not None and meter.channel == "file" else {}
        await repository.insert_consent(session, {"id": consent_id, "meter_id": meter_id, "account_id": account_id,
                                                  "channel": meter.channel, "status": Status.requested.value,
                                                  **holder})
        await repository.append_event(session, {"consent_id": consent_id, "to_status": Status.requested.value,
                                                "actor": "resident", "evidence": {"renewal_of": str(latest.id)
                                                                                  if latest else None}})
        consent = await repository.get_consent(session, consent_id)
    url = None
    if meter.channel == "dataconnect":
        url = await start_dataconnect(session, outbox, services, consent, state_ttl)
    view = service.consent_view(await repository.get_consent(session, consent.id), authorize_url=url)
    return view.model_dump(mode="json")


async def record_sge_subscription(session: AsyncSession, outbox: Outbox, meter_id: uuid.UUID, reference: str,
                                  consent_end: dt.date, actor: str) -> sa.Row:
    meter = await repository.get_meter(session, meter_id)
    if meter is None:
        raise NotFound("no such meter", code="meter_not_found")
    if meter.released_at is not None:
        raise Conflict("the resident no longer claims this meter: they renew their consent or declare it "
                       "again first", code="meter_released")
    if meter.channel != "sge":
        raise AppError("this meter is not collected through the SGE channel", code="wrong_channel", status_code=422)
    if consent_end <= service.utcnow().date():
        raise AppError("the written consent has already ended", code="consent_end_past", status_code=422)
    latest = (await repository.latest_consents(session, [meter_id])).get(meter_id)
    if latest is None or Status(latest.status) not in (Status.requested, Status.awaiting_holder):
        consent_id = uuid.uuid4()
        await repository.insert_consent(session, {"id": consent_id, "meter_id": meter_id,
                                                  "account_id": meter.account_id, "channel": "sge",
                                                  "status": Status.requested.value})
        await repository.append_event(session, {"consent_id": consent_id, "to_status": Status.requested.value,
                                                "actor": actor, "evidence": {}})
        latest = await repository.get_consent(session, consent_id)
    end = dt.datetime.combine(consent_end, dt.time(0), tzinfo=dt.UTC)
    await service.transition(session, outbox, latest, Status.active, actor=actor,
                             evidence={"sge_subscription": reference, "written_consent_end": consent_end.isoformat()},
                             values={"dso_reference": reference, "expires_at": end,
                                     "history_from": service.utcnow().date()})
    return await repository.get_consent(session, latest.id)


async def sge_subscriptions(session: AsyncSession) -> list[dict[str, Any]]:
    rows = await repository.consents_on_channel(session, "sge", [s.value for s in COLLECTING])
    return [{"consent_id": r.id, "meter_id": r.meter_id, "account_id": r.account_id, "identifier": r.identifier,
             "status": r.status, "reference": r.dso_reference, "expires_at": r.expires_at, "since": r.updated_at}
            for r in rows]


async def end_sge_subscription(session: AsyncSession, outbox: Outbox, consent_id: uuid.UUID, note: str | None,
                               actor: str) -> sa.Row:
    """The subscription ends (cancelled on the Enedis portal): the consent is revoked and ingest-sge stops."""
    consent = await repository.get_consent(session, consent_id, lock=True)
    if consent is None or consent.channel != "sge":
        raise NotFound("no such SGE subscription", code="subscription_not_found")
    if Status(consent.status) not in COLLECTING:
        raise Conflict(f"this subscription has already ended ({consent.status})", code="subscription_already_ended")
    await service.transition(session, outbox, consent, Status.revoked, actor=actor, reason="subscription_ended",
                             evidence={"sge_subscription": consent.dso_reference, "note": note})
    return await repository.get_consent(session, consent_id)


async def dso_reported(session: AsyncSession, outbox: Outbox, consent_id: uuid.UUID, status: Status, *,
                       reason: str | None, evidence: dict[str, Any], values: dict[str, Any] | None = None) -> bool:
    consent = await repository.get_consent(session, consent_id, lock=True)
    if consent is None:
        raise NotFound("no such consent", code="consent_not_found")
    return await service.transition(session, outbox, consent, status, actor="dso", reason=reason,
                                    evidence=evidence, values=values)


async def declare_adict(session: AsyncSession, outbox: Outbox, services: ServiceClient, consent: sa.Row,
                        meter: sa.Row, holder) -> list[str]:
    """Declares the access right at GRDF through ingest-grdf (the declaration's holder, required by
    MeterDeclaration); the holder then confirms at GRDF."""
    today = service.utcnow().date()
    body = {"consent_id": str(consent.id), "meter_id": str(meter.id), "pce": meter.identifier,
            "holder_name": holder.holder_name, "postal_code": holder.postal_code, "email": holder.email,
            "start": today.isoformat(), "end": (today + dt.timedelta(days=CONSENT_YEARS * 365)).isoformat(),
            # An organisation's meter: ADICT names a legal person by its raison sociale.
            "holder_is_company": await repository.get_organisation(session, meter.account_id) is not None}
    try:
        answer = await services.json("ingest_grdf", "POST", "/internal/access-rights", json=body)
    except AppError as exc:
        if exc.status_code >= 500 or exc.code in ("upstream_unavailable", "not_found"):
            return ["declaration_pending"]
        await service.transition(session, outbox, consent, Status.invalid, actor="dso", reason=exc.code,
                                 evidence={"grdf_code": exc.code, "message": exc.detail})
        return [exc.code]
    target = Status(answer["status"])
    evidence = {"access_right_id": answer.get("access_right_id"), "dso_status": answer.get("dso_status"),
                "holder_name": holder.holder_name, "postal_code": holder.postal_code}
    await repository.update_consent(session, consent.id, {"dso_reference": answer.get("access_right_id")})
    consent = await repository.get_consent(session, consent.id)
    values = {}
    if target is Status.active:
        now = service.utcnow()
        values = {"history_from": (now - dt.timedelta(days=HISTORY_DAYS)).date(),
                  "expires_at": _years_later(now, CONSENT_YEARS)}
    await service.transition(session, outbox, consent, target, actor="dso", evidence=evidence, values=values)
    return []
