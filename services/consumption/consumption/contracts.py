"""A meter's contract: the DSO's (from its events) or the resident's declaration, and the pricing it resolves
to, with what is assumed when neither says enough."""
from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from consumption import repository
from consumption.access import authorize_meter, readable
from consumption.pricing import Contract
from consumption.tariffs import OPTION_PERIODS
from metro.errors import AppError, NotFound
from metro.events import ContractChanged
from metro.schemas.consumption import ContractDeclaration, ContractView
from metro.service_auth import Principal

ASSUMED_KVA = 6
ASSUMED_OFFPEAK_HOURS = Decimal(8)

_RANGE = re.compile(r"(\d{1,2})\s*[hH:]\s*(\d{2})?\s*-\s*(\d{1,2})\s*[hH:]\s*(\d{2})?")
DSO_OPTIONS = {"BASE": "BASE", "HC": "HPHC", "HPHC": "HPHC", "HC_SEASONAL": "HPHC", "TEMPO": "TEMPO"}


def offpeak_hours_per_day(text: str | None) -> Decimal | None:
    """'HC (22H00-6H00)', '22:00-06:00' or '01:30-08:00;12:30-14:00' → hours per day (8, 8, 8)."""
    if not text:
        return None
    minutes = 0
    for h1, m1, h2, m2 in _RANGE.findall(text):
        start, end = int(h1) * 60 + int(m1 or 0), int(h2) * 60 + int(m2 or 0)
        if start > 24 * 60 or end > 24 * 60:
            return None
        minutes += (end - start) % (24 * 60)
    return (Decimal(minutes) / 60).quantize(Decimal("0.01")) if minutes else None


def _contract_values(option: str, kva: int | None, offpeak: str | None, start: Any = None, end: Any = None,
                     status: str | None = None) -> dict[str, Any]:
    return {"tariff_option": option, "subscribed_kva": kva, "offpeak_hours": offpeak,
            "offpeak_hours_per_day": offpeak_hours_per_day(offpeak),
            "start": dt.date.fromisoformat(start[:10]) if isinstance(start, str) else start,
            "end": dt.date.fromisoformat(end[:10]) if isinstance(end, str) else end, "status": status}


async def record_dso_contract(session: AsyncSession, contract: ContractChanged) -> None:
    raw = (contract.tariff_option or "").upper()
    await repository.upsert_contract(session, contract.meter_id, "dso", _contract_values(
        DSO_OPTIONS.get(raw, raw), contract.subscribed_kva, contract.offpeak_hours, contract.start, contract.end,
        contract.status))


async def declare_contract(session: AsyncSession, meter_id: uuid.UUID, principal: Principal,
                           body: ContractDeclaration) -> ContractView:
    meter = await authorize_meter(session, meter_id, principal)
    if meter.account_id != principal.account_id:
        raise NotFound("no such meter", code="meter_not_found")
    if meter.energy != "electricity":
        raise AppError("a tariff option is declared for an electricity meter", code="contract_not_electricity",
                       status_code=422)
    if body.tariff_option != "BASE" and offpeak_hours_per_day(body.offpeak_hours) is None:
        raise AppError("an off-peak contract needs its off-peak hours, e.g. '22:00-06:00'",
                       code="offpeak_hours_required", status_code=422)
    values = _contract_values(body.tariff_option, body.subscribed_kva,
                              body.offpeak_hours if body.tariff_option != "BASE" else None)
    await repository.upsert_contract(session, meter_id, "resident",
                                     {**values, "supplier_offer": (body.supplier_offer or "").strip() or None})
    await repository.queue_pricing(session, [meter_id])
    return await contract_view(session, meter_id, principal)


@dataclass
class Pricing:
    contract: Contract | None
    view: ContractView
    label: str
    assumed: str | None = None
    notes: list[str] = field(default_factory=list)


async def resolve_pricing(session: AsyncSession, meter: sa.Row, contracts: dict[str, Any] | None = None,
                          profile: dict[str, Any] | None = None) -> Pricing:
    """The contract that prices a meter: the DSO's, else the resident's declaration, else an assumption.
    ``contracts`` (the meter's, by origin) and ``profile`` (its dwelling's): when the caller has read them already."""
    if meter.energy == "gas":
        if profile is None:
            profile = await repository.profile_of(session, meter.account_id) or {}
        band = "chauffage" if profile.get("heating_energy") == "gas" else "cuisson_eau_chaude"
        why = ("gas heating declared in the dwelling" if band == "chauffage"
               else "no gas heating declared in the dwelling")
        return Pricing(Contract(energy="gas", gas_band=band),
                       ContractView(meter_id=meter.meter_id, origin="assumed", tariff_option=band),
                       f"CRE gas benchmark price, profile {band} ({why})")
    if meter.energy in ("heat", "water"):
        what = "district-heat tariff R1/R2" if meter.energy == "heat" else "water tariff per m3 and subscription"
        return Pricing(Contract(energy=meter.energy),
                       ContractView(meter_id=meter.meter_id, origin="assumed", tariff_option=meter.energy),
                       f"the {what} of the catalogue in force")
    if meter.energy != "electricity":
        return Pricing(None, ContractView(meter_id=meter.meter_id, origin="assumed", tariff_option="none"),
                       f"no regulated tariff for {meter.energy}: euros are not computed")
    rows = contracts if contracts is not None else await repository.meter_contracts(session, meter.meter_id)
    row = next((rows[o] for o in ("dso", "resident") if o in rows and rows[o].tariff_option in OPTION_PERIODS),
               None)
    if row is None:
        view = ContractView(meter_id=meter.meter_id, origin="assumed", tariff_option="BASE",
                            subscribed_kva=ASSUMED_KVA)
        return Pricing(Contract(option="BASE", kva=ASSUMED_KVA), view, f"TRVE BASE {ASSUMED_KVA} kVA",
                       assumed=f"no contract known (neither from the DSO nor declared): priced as Tarif Bleu "
                               f"BASE {ASSUMED_KVA} kVA")
    view = ContractView(meter_id=meter.meter_id, origin=row.origin, tariff_option=row.tariff_option,
                        subscribed_kva=row.subscribed_kva, offpeak_hours=row.offpeak_hours,
                        offpeak_hours_per_day=float(row.offpeak_hours_per_day)
                        if row.offpeak_hours_per_day is not None else None,
                        start=row.start, end=row.end, status=row.status,
                        supplier_offer=rows["resident"].supplier_offer if "resident" in rows else None)
    assumed = []
    kva = row.subscribed_kva
    if kva is None:
        kva = ASSUMED_KVA
        assumed.append(f"subscribed power unknown: {ASSUMED_KVA} kVA assumed")
    hours = row.offpeak_hours_per_day
    if row.tariff_option != "BASE" and hours is None:
        hours = ASSUMED_OFFPEAK_HOURS
        assumed.append(f"off-peak hours unknown: {ASSUMED_OFFPEAK_HOURS} h assumed")
    origin = "DSO contract" if row.origin == "dso" else "contract declared by the resident"
    return Pricing(Contract(option=row.tariff_option, kva=kva, offpeak_hours=Decimal(hours or 8)), view,
                   f"TRVE {row.tariff_option} {kva} kVA ({origin})", assumed="; ".join(assumed) or None)


async def contract_view(session: AsyncSession, meter_id: uuid.UUID, principal: Principal) -> ContractView:
    meter = await authorize_meter(session, meter_id, principal)
    return (await resolve_pricing(session, meter)).view


async def known_contracts(session: AsyncSession, meter_ids: list[uuid.UUID],
                          principal: Principal) -> list[ContractView]:
    """The contract of each of these meters the principal may read: the DSO's, else the resident's declaration;
    none for a meter with neither, nor for one whose data consent's accuracy control holds (it may be a
    neighbour's contract)."""
    found: dict[uuid.UUID, sa.Row] = {}
    for row in await repository.contracts_of(session, meter_ids):
        if readable(row, principal) and not row.address_hold and \
                (row.meter_id not in found or row.origin == "dso"):
            found[row.meter_id] = row
    return [ContractView(meter_id=r.meter_id, origin=r.origin, tariff_option=r.tariff_option,
                         subscribed_kva=r.subscribed_kva, offpeak_hours=r.offpeak_hours,
                         offpeak_hours_per_day=float(r.offpeak_hours_per_day)
                         if r.offpeak_hours_per_day is not None else None,
                         start=r.start, end=r.end, status=r.status, supplier_offer=r.supplier_offer)
            for r in found.values()]
