"""A meter's series over a period at one step: Wh, euros and CO2e per period, served as JSON built by
PostgreSQL."""
from __future__ import annotations

import datetime as dt
import uuid

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from consumption import repository
from consumption.access import check_access, check_shown
from consumption.catalogues import TARIFFS
from consumption.climate import EmissionFactor, bundled_emission_factors
from consumption.contracts import Pricing, resolve_pricing
from consumption.euros import eur_method, price_on_the_fly, pricing_key, pricing_notes
from consumption.periods import check_range, period_start
from metro.schemas.consumption import Step
from metro.service_auth import Principal

CO2E_ENERGY = {"electricity": "electricity", "gas": "gas", "heat": "heat_network", "water": "water",
               "fuel_oil": "fuel_oil", "wood": "wood_logs"}
# The platform's district heat is CCIAG's network (its DPE id): its own life-cycle CO2 content.
HEAT_NETWORK_ID = "3802C"


def co2e_factor_of(energy: str) -> EmissionFactor | None:
    """The emission factor of a meter's energy (data/emission_factors.csv), None for one without; for water, whose
    readings are litres, kgCO2e per m3 is gCO2e per litre."""
    name = CO2E_ENERGY.get(energy)
    if not name:
        return None
    return bundled_emission_factors().factor(name, heat_network_id=HEAT_NETWORK_ID if energy == "heat" else None)


def co2e_factor(energy: str) -> tuple[int, int] | None:
    """kgCO2e per kWh is gCO2e per Wh, kept as an exact fraction (numerator, denominator)."""
    factor = co2e_factor_of(energy)
    return factor.kg_per_kwh.as_integer_ratio() if factor else None


async def consumption_json(session: AsyncSession, meter_id: uuid.UUID, principal: Principal, start: dt.date,
                           end: dt.date, step: Step) -> bytes:
    meter, contracts = await repository.meter_and_contracts(session, meter_id)
    check_access(meter, principal)
    check_shown(meter)
    check_range(start, end, step)
    return await series_json(session, meter, start, end, step, await resolve_pricing(session, meter, contracts))


async def warm_reads(session: AsyncSession) -> None:
    """The statements of a one-year series, run once for no meter on each connection opened at start
    (Database.warm_up)."""
    nobody, today = uuid.UUID(int=0), dt.date.today()
    year_ago = today - dt.timedelta(days=365)
    await repository.meter_and_contracts(session, nobody)
    await TARIFFS.get(session)
    await repository.series_points(session, nobody, year_ago, year_ago, today, Step.day.value, None, key="")


async def series_json(session: AsyncSession, meter: sa.Row, start: dt.date, end: dt.date, step: Step,
                      pricing: Pricing) -> bytes:
    """A metro.schemas.consumption.ConsumptionSeries, serialised. The euros come from the priced days the pricing worker
    keeps; while some of them are not current (new readings, another contract or catalogue), the range is
    priced here and aggregated by the same statement. ``meter`` carries its ``priced_key``: when it names another
    pricing (a contract or a catalogue the worker has not priced yet), the read model is not even asked."""
    await TARIFFS.get(session)  # the catalogue versions in force, which the pricing key names
    first, co2e = period_start(start, step), co2e_factor(meter.energy)
    key, current = pricing_key(meter, pricing), False
    if meter.priced_key == key:  # checked again by the statement, in its own snapshot
        points, flags, current = await repository.series_points(
            session, meter.meter_id, first, start, end, step.value, co2e, key=key)
    if not current:
        rows, prices = await price_on_the_fly(session, meter, pricing, start, end)
        days = [(r.day, r.wh, r.quality, *prices.get(r.day, (None, 0))) for r in rows]
        points, flags, _ = await repository.series_points(session, meter.meter_id, first, start, end, step.value,
                                                          co2e, days=days)
    priced = pricing.contract is not None
    head = orjson.dumps({"meter_id": str(meter.meter_id), "unit": "Wh", "step": step.value,
                         "eur_estimated": priced and bool(pricing_notes(pricing, flags)),
                         "eur_method": eur_method(pricing, pricing_notes(pricing, flags)) if priced
                         else pricing.label})
    return head[:-1] + b',"points":' + points.encode() + b"}"
