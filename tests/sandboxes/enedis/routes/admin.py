"""The control API under /_sandbox/: customers and meters, the logged-in session, consents, injected faults,
quotas, the clock, ground truth and counters. Not part of Data Connect."""
from __future__ import annotations

import datetime as dt
import secrets
import time
from dataclasses import asdict, replace
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from ..customers import (CONTRACT_STATUSES, PRM_PATTERN, PROFILES, TARIFF_OPTIONS, Customer, default_meter, mix,
                         with_overrides)
from ..curves import curve_series
from ..dates import history_deadline
from ..gateway import ApiError, Sandbox
from ..state import SandboxState

router = APIRouter(prefix="/_sandbox", tags=["control"])


class AddressIn(BaseModel):
    street: str | None = None
    postal_code: str | None = None
    insee_code: str | None = None
    city: str | None = None
    locality: str | None = None


class ContractIn(BaseModel):
    tariff_option: str | None = Field(None, description="BASE, HC or Tempo")
    subscribed_kva: int | None = None
    offpeak_hours: str | None = None
    status: str | None = Field(None, description="active or terminated")
    terminated_on: dt.date | None = None


class CustomerIn(BaseModel):
    customer_id: str | None = None
    prms: list[str] | None = None
    count: int = Field(1, ge=1, le=20, description="PRMs to generate when prms is not given")
    profile: str | None = None
    activation_date: dt.date | None = None
    hole_rate: float | None = Field(None, ge=0.0, le=1.0)
    address: AddressIn | None = None
    contract: ContractIn | None = None
    consent: bool = Field(False, description="grant consent to every registered client without the page")
    consent_days: int = 1095
    load_curve: bool = Field(True, description="false: the customer objected to the load curve (ADAM-ERR0075)")


class BulkIn(BaseModel):
    count: int = Field(..., ge=1, le=100_000)
    seed: int = 0
    profile: str | None = None
    consent: bool = True


class SessionIn(BaseModel):
    customer_id: str | None


class FaultsIn(BaseModel):
    latency_ms: int | None = Field(None, ge=0)
    fail_next_500: int | None = Field(None, ge=0)
    fail_next_429: int | None = Field(None, ge=0)
    truncate_next: int | None = Field(None, ge=0)
    outage_minutes: float | None = Field(None, ge=0)
    empty_listing_next: int | None = Field(None, ge=0, description="Services souscrits answers an empty list")


class QuotasIn(BaseModel):
    per_second: int | None = Field(None, ge=1)
    per_hour: int | None = Field(None, ge=1)


class ClockIn(BaseModel):
    now: dt.datetime
    frozen: bool = True


class AdvanceIn(BaseModel):
    seconds: float


class ConsentIn(BaseModel):
    client_id: str | None = None


def build_customer(state: SandboxState, spec: CustomerIn, customer_id: str, prms: list[str]) -> Customer:
    if spec.profile is not None and spec.profile not in PROFILES:
        raise ApiError(422, {"error": "unknown_profile", "detail": f"profile must be one of {PROFILES}"})
    contract = spec.contract.model_dump(exclude_none=True) if spec.contract else None
    if contract:
        if contract.get("tariff_option") not in (None, *TARIFF_OPTIONS):
            raise ApiError(422, {"error": "unknown_tariff_option", "detail": f"one of {TARIFF_OPTIONS}"})
        if contract.get("status") not in (None, *CONTRACT_STATUSES):
            raise ApiError(422, {"error": "unknown_contract_status", "detail": f"one of {CONTRACT_STATUSES}"})
        if contract.get("status") == "terminated" and "terminated_on" not in contract:
            contract["terminated_on"] = state.clock.today()
    meters = []
    for prm in prms:
        if not PRM_PATTERN.match(prm):
            raise ApiError(422, {"error": "invalid_prm", "detail": f"{prm} is not 14 digits"})
        meter = with_overrides(default_meter(prm, state.clock.today(), profile=spec.profile),
                               activation_date=spec.activation_date, hole_rate=spec.hole_rate, contract=contract,
                               address=spec.address.model_dump(exclude_none=True) if spec.address else None)
        meters.append(replace(meter, load_curve_enabled=spec.load_curve))
    return Customer(customer_id, meters)


def fresh_prm(state: SandboxState) -> str:
    while True:
        prm = f"{secrets.randbelow(10**14):014d}"
        if prm not in state.meters:
            return prm


def grant_all(state: SandboxState, prms: list[str], days: int) -> None:
    expires = state.clock.now() + dt.timedelta(days=days)
    for client_id in state.clients:
        for prm in prms:
            state.grant(client_id, prm, expires)


def describe(customer: Customer) -> dict[str, Any]:
    return {"customer_id": customer.customer_id, "login_hint": customer.customer_id,
            "prms": customer.prms, "meters": [meter_view(m) for m in customer.meters]}


def meter_view(meter) -> dict[str, Any]:
    contract = asdict(meter.contract)
    contract["distribution_tariff"] = meter.contract.distribution_tariff
    return {"prm": meter.prm, "profile": meter.profile, "direction": meter.direction,
            "activation_date": meter.activation_date, "hole_rate": meter.hole_rate,
            "hole_weekdays": sorted(meter.hole_weekdays), "contract": contract,
            "address": asdict(meter.address)}


@router.post("/customers", status_code=201)
async def create_customer(spec: CustomerIn, state: Sandbox) -> dict[str, Any]:
    customer_id = spec.customer_id or f"customer-{secrets.token_hex(4)}"
    if customer_id in state.customers:
        raise ApiError(409, {"error": "customer_exists", "detail": customer_id})
    prms = spec.prms or [fresh_prm(state) for _ in range(spec.count)]
    taken = [p for p in prms if p in state.meters]
    if taken:
        raise ApiError(409, {"error": "prm_taken", "detail": ",".join(taken)})
    customer = build_customer(state, spec, customer_id, prms)
    state.add_customer(customer)
    if spec.consent:
        grant_all(state, prms, spec.consent_days)
    return describe(customer)


@router.post("/customers/bulk", status_code=201)
async def create_customers_in_bulk(spec: BulkIn, state: Sandbox) -> dict[str, Any]:
    """One single-PRM customer per PRM, PRMs derived from the seed so a benchmark can be replayed."""
    prms = []
    for i in range(spec.count):
        prm = f"{(mix(spec.seed, i, 11) * 4294967296 + mix(spec.seed, i, 12)) % 10**14:014d}"
        if prm in state.meters:
            continue
        customer = build_customer(state, CustomerIn(profile=spec.profile), f"bulk-{spec.seed}-{i}", [prm])
        state.add_customer(customer)
        prms.append(prm)
    if spec.consent:
        grant_all(state, prms, 1095)
    return {"count": len(prms), "prms": prms}


@router.get("/customers/{customer_id}")
async def read_customer(customer_id: str, state: Sandbox) -> dict[str, Any]:
    if customer_id not in state.customers:
        raise ApiError(404, {"error": "unknown_customer", "detail": customer_id})
    return describe(state.customers[customer_id])


@router.get("/meters/{prm}")
async def read_meter(prm: str, state: Sandbox) -> dict[str, Any]:
    if prm not in state.meters:
        raise ApiError(404, {"error": "unknown_prm", "detail": prm})
    consents = {client_id: {"granted_at": c.granted_at, "expires_at": c.expires_at, "revoked_at": c.revoked_at,
                            "valid": c.valid(state.clock.now())}
                for (client_id, p), c in state.consents.items() if p == prm}
    return {**meter_view(state.meters[prm]), "consents": consents}


@router.put("/session")
async def set_session(body: SessionIn, state: Sandbox) -> dict[str, Any]:
    if body.customer_id is not None and body.customer_id not in state.customers:
        raise ApiError(404, {"error": "unknown_customer", "detail": body.customer_id})
    state.session_customer = body.customer_id
    return {"customer_id": body.customer_id}


def consents_for(state: SandboxState, prm: str, client_id: str | None) -> list:
    found = [c for (cid, p), c in state.consents.items() if p == prm and client_id in (None, cid)]
    if not found:
        raise ApiError(404, {"error": "unknown_consent", "detail": prm})
    return found


@router.post("/consents/{prm}/revoke")
async def revoke_consent(prm: str, state: Sandbox, body: ConsentIn | None = None) -> dict[str, Any]:
    for consent in consents_for(state, prm, body.client_id if body else None):
        consent.revoked_at = state.clock.now()
    return {"prm": prm, "state": "revoked"}


@router.post("/consents/{prm}/expire")
async def expire_consent(prm: str, state: Sandbox, body: ConsentIn | None = None) -> dict[str, Any]:
    for consent in consents_for(state, prm, body.client_id if body else None):
        consent.expires_at = min(consent.expires_at, state.clock.now())
    return {"prm": prm, "state": "expired"}


@router.post("/consents/{prm}/grant")
async def grant_consent(prm: str, state: Sandbox, body: ConsentIn | None = None) -> dict[str, Any]:
    if prm not in state.meters:
        raise ApiError(404, {"error": "unknown_prm", "detail": prm})
    clients = [body.client_id] if body and body.client_id else list(state.clients)
    for client_id in clients:
        state.grant(client_id, prm, state.clock.now() + dt.timedelta(days=1095))
    return {"prm": prm, "state": "granted"}


def faults_view(state: SandboxState) -> dict[str, Any]:
    return asdict(state.faults)


@router.put("/faults")
async def set_faults(body: FaultsIn, state: Sandbox) -> dict[str, Any]:
    for name in ("latency_ms", "fail_next_500", "fail_next_429", "truncate_next", "empty_listing_next"):
        value = getattr(body, name)
        if value is not None:
            setattr(state.faults, name, value)
    if body.outage_minutes is not None:
        state.faults.outage_until = (state.clock.now() + dt.timedelta(minutes=body.outage_minutes)
                                     if body.outage_minutes else None)
    return faults_view(state)


@router.delete("/faults")
async def clear_faults(state: Sandbox) -> dict[str, Any]:
    state.faults = replace(state.faults, latency_ms=0, fail_next_500=0, fail_next_429=0, truncate_next=0,
                           outage_until=None, empty_listing_next=0)
    return faults_view(state)


@router.put("/quotas")
async def set_quotas(body: QuotasIn, state: Sandbox) -> dict[str, Any]:
    if body.per_second is not None:
        state.per_second_quota = body.per_second
    if body.per_hour is not None:
        state.hourly_quota = body.per_hour
    state.windows.clear()
    return {"per_second": state.per_second_quota, "per_hour": state.hourly_quota}


def clock_view(state: SandboxState) -> dict[str, Any]:
    now = state.clock.now()
    return {"now": now, "frozen": state.clock.fixed is not None, "today": state.clock.today(),
            "last_published_day": state.clock.last_published_day(),
            "history_deadline": history_deadline(state.clock.today())}


@router.get("/clock")
async def read_clock(state: Sandbox) -> dict[str, Any]:
    return clock_view(state)


@router.put("/clock")
async def set_clock(body: ClockIn, state: Sandbox) -> dict[str, Any]:
    if body.now.tzinfo is None:
        raise ApiError(422, {"error": "naive_datetime", "detail": "give an offset, e.g. +01:00 or Z"})
    state.clock.set(body.now.astimezone(dt.UTC), body.frozen)
    return clock_view(state)


@router.post("/clock/advance")
async def advance_clock(body: AdvanceIn, state: Sandbox) -> dict[str, Any]:
    state.clock.advance(body.seconds)
    return clock_view(state)


@router.delete("/clock")
async def real_clock(state: Sandbox) -> dict[str, Any]:
    state.clock.reset()
    return clock_view(state)


@router.get("/ground_truth/{prm}")
async def ground_truth(prm: str, state: Sandbox, start: dt.date | None = None, end: dt.date | None = None,
                       published_only: bool = True) -> dict[str, Any]:
    meter = state.meters.get(prm)
    if meter is None:
        raise ApiError(404, {"error": "unknown_prm", "detail": prm})
    today = state.clock.today()
    start = start or meter.activation_date
    end = min(end or today, today)
    if published_only:
        end = min(end, state.clock.last_published_day() + dt.timedelta(days=1))
    series = meter.daily_series(start, end)
    peaks = [meter.max_power(day, wh) for day, wh in series]
    return {"prm": prm, "unit": "Wh", "start": start, "end": end, "activation_date": meter.activation_date,
            "last_published_day": state.clock.last_published_day(),
            "days": [{"date": day.isoformat(), "value": wh} for day, wh in series],
            "max_power": [{"date": day.isoformat(), "value": va, "at": moment.isoformat()}
                          for (day, _), (va, moment) in zip(series, peaks)]}


@router.get("/load_curve/{prm}")
async def load_curve_truth(prm: str, state: Sandbox, start: dt.date, end: dt.date) -> dict[str, Any]:
    """The meter's load curve as the API serves it: each point's interval start (UTC), minutes and W."""
    meter = state.meters.get(prm)
    if meter is None:
        raise ApiError(404, {"error": "unknown_prm", "detail": prm})
    end = min(end, state.clock.last_published_day() + dt.timedelta(days=1))
    points = curve_series(meter, meter.daily_series(start, end)) if meter.load_curve_enabled else []
    return {"prm": prm, "unit": "W", "enabled": meter.load_curve_enabled,
            "points": [{"start": at.isoformat(), "minutes": minutes, "w": w} for at, minutes, w in points]}


@router.get("/counters")
async def counters(state: Sandbox) -> dict[str, Any]:
    return {name: state.counters[name] for name in ("calls", "served", "throttled", "tokens_issued",
                                                    "load_curve_calls", "max_power_calls")} | {
            "status": dict(state.status_counts),
            "peak_calls_in_one_second": state.peak_per_second,
            "quotas": {"per_second": state.per_second_quota, "per_hour": state.hourly_quota}}


@router.get("/counters/{prm}")
async def prm_counters(prm: str, state: Sandbox) -> dict[str, Any]:
    """Calls that named this PRM since the counters were reset: `data` (metering), `customers` (contract,
    address), `subscriptions` (Services souscrits resolving to it); refused calls count too."""
    calls = state.prm_calls.get(prm, {})
    return {"prm": prm} | {kind: calls.get(kind, 0) for kind in ("data", "customers", "subscriptions")}


@router.delete("/counters")
async def reset_counters(state: Sandbox) -> dict[str, Any]:
    state.reset_counters()
    return {"reset": True}


@router.post("/reset")
async def reset(state: Sandbox) -> dict[str, Any]:
    state.reset()
    return {"reset": True}


@router.get("/health")
async def health(request: Request) -> dict[str, Any]:
    return {"status": "ok", "uptime_s": round(time.monotonic() - request.app.state.started, 1)}
