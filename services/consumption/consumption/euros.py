"""A meter's days in euros: priced once by the pricing worker into the priced-days read model, or here while
it is behind, and what makes them an estimate."""
from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import uuid
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from consumption import repository
from consumption.catalogues import TARIFFS
from consumption.contracts import Pricing, resolve_pricing
from consumption.pricing import CENT, DailyPricer, DayPrice, hc_share_method
from consumption.tariffs import Catalogue

def cents(value: Decimal | None) -> str | None:
    return None if value is None else str(value.quantize(CENT, rounding=ROUND_HALF_UP))


def _split(extra: Any) -> dict[str, int] | None:
    if not isinstance(extra, dict):
        return None
    hp, hc = extra.get("HP", extra.get("hp_wh")), extra.get("HC", extra.get("hc_wh"))
    if hp is None or hc is None:
        return None
    return {"HP": int(hp), "HC": int(hc)}


# Per priced day: what makes its euros an estimate (OR-ed over a period into the notes of eur_method).
SPLIT_ESTIMATED = 1  # an off-peak contract priced from a daily total, without the DSO's HP/HC split
CARRIED = 2  # a price or a subscription carried from an earlier version of the catalogue
EXAMPLE = 4  # a heat or water tariff the catalogue marks as an example, not the operator's published one


def day_prices(rows: Sequence[Any], pricing: Pricing,
               catalogue: Catalogue) -> dict[dt.date, tuple[Decimal | None, int]]:
    """Each row (day, wh[, extra]) priced under the pricing: its euros and flags, by day (none without a
    contract)."""
    if pricing.contract is None:
        return {}
    off_peak = pricing.contract.option != "BASE" and pricing.contract.energy == "electricity"
    pricer = DailyPricer(pricing.contract, catalogue)
    out = {}
    for r in rows:
        split = _split(getattr(r, "extra", None)) if off_peak else None
        p = pricer.price(r.day, r.wh, split)
        flags = 0
        if p.estimated:
            flags |= SPLIT_ESTIMATED if off_peak and split is None else 0
            flags |= CARRIED if "carried" in p.method else 0
            flags |= EXAMPLE if "example tariff" in p.method else 0
        out[r.day] = (day_eur(p), flags)
    return out


async def price_on_the_fly(session: AsyncSession, meter: sa.Row, pricing: Pricing, start: dt.date,
                           end: dt.date) -> tuple[list[Any], dict[dt.date, tuple[Decimal | None, int]]]:
    """The meter's readings of [start, end) priced here, while the priced days the worker keeps are behind."""
    off_peak = pricing.contract is not None and pricing.contract.option != "BASE"
    rows = await repository.daily(session, meter.meter_id, start, end, with_extra=off_peak)
    return rows, day_prices(rows, pricing, await TARIFFS.get(session))


def pricing_notes(pricing: Pricing, flags: int) -> list[str]:
    """Why euros over days with these flags are estimated, and how."""
    notes = []
    if pricing.assumed:
        notes.append(pricing.assumed)
    if flags & SPLIT_ESTIMATED and pricing.contract is not None:
        if pricing.contract.option == "TEMPO":
            notes.append("Tempo day colours are not collected: each day is priced at the average over a Tempo "
                         "year (300 blue, 43 white, 22 red days)")
        notes.append(f"off-peak contract with daily totals only: {hc_share_method(pricing.contract)}")
    if flags & CARRIED:
        notes.append("some prices or subscriptions are carried from the previous published version")
    if flags & EXAMPLE:
        notes.append("the tariff in the catalogue is an example, not the operator's published tariff")
    return notes


async def priced_days(session: AsyncSession, meter: sa.Row, pricing: Pricing, start: dt.date,
                      end: dt.date) -> tuple[list[Any], dict[dt.date, Decimal | None]]:
    """The meter's readings of [start, end) and the euros of each day, from the priced days the pricing worker
    keeps, or priced here while some of them are not current; `pricing.notes` then says what in them is
    estimated."""
    await TARIFFS.get(session)  # the catalogue versions in force, which the pricing key names
    rows = await repository.priced_range(session, meter.meter_id, start, end, pricing_key(meter, pricing))
    if all(r.current for r in rows):
        prices = {r.day: (r.eur, r.flags) for r in rows}
    else:
        rows, prices = await price_on_the_fly(session, meter, pricing, start, end)
    flags = 0
    for _, f in prices.values():
        flags |= f
    pricing.notes = pricing_notes(pricing, flags)
    return rows, {day: eur for day, (eur, _) in prices.items()}


def pricing_key(meter: sa.Row, pricing: Pricing) -> str:
    """What a meter's priced days depend on: its contract as priced and the catalogue version of its energy."""
    identity = repr((pricing.contract, TARIFFS.versions.get(meter.energy)))
    return hashlib.blake2b(identity.encode(), digest_size=12).hexdigest()


def eur_method(pricing: Pricing, notes: list[str] | None = None) -> str:
    base = f"{pricing.label}: kWh × price in force that day + yearly subscription ÷ days in the year"
    return "; ".join([base, *(pricing.notes if notes is None else notes)])


def day_eur(p: DayPrice | None) -> Decimal | None:
    if p is None or p.eur is None:
        return None
    return p.energy_eur + p.subscription_eur


async def price_meter(session: AsyncSession, meter_id: uuid.UUID,
                      months: set[tuple[uuid.UUID, dt.date]] | None = None) -> int:
    """price_meters for one meter."""
    return await price_meters(session, [meter_id], months)


async def price_meters(session: AsyncSession, meter_ids: list[uuid.UUID],
                       months: set[tuple[uuid.UUID, dt.date]] | None = None,
                       since: dict[uuid.UUID, dt.date | None] | None = None) -> int:
    """The pricing worker's step, in a few statements for the whole batch: the meters' readings not yet priced
    under the pricing in force are priced and stored (all of them when the contract or the catalogue changed), and
    the months they fall in rolled up again: here, or by the caller when it passes ``months``. ``since``: the
    earliest new reading of each meter as queued (its earlier days are not looked at unless its pricing changed).
    Returns the days priced."""
    catalogue = await TARIFFS.get(session)
    found = await repository.meters_to_price(session, sorted(meter_ids))
    pricings, keys = {}, {}
    for meter, contracts, profile in found:
        pricings[meter.meter_id] = await resolve_pricing(session, meter, contracts, profile)
        keys[meter.meter_id] = pricing_key(meter, pricings[meter.meter_id])
    changed = [m.meter_id for m, _, _ in found if keys[m.meter_id] != m.priced_key]
    await repository.clear_priced_days(session, changed)
    rows = await repository.unpriced_readings(session, {m: None if m in changed else (since or {}).get(m)
                                                        for m in keys})
    records, touched = [], set()
    for meter_id, group in itertools.groupby(rows, key=lambda r: r.meter_id):
        group = list(group)
        prices = day_prices(group, pricings[meter_id], catalogue)
        records.extend((meter_id, r.day, r.wh, r.extra_json, *prices.get(r.day, (None, 0))) for r in group)
        touched.update((meter_id, r.day.replace(day=1)) for r in group)
    await repository.store_priced_days(session, keys, records)
    if months is None:
        await repository.roll_up(session, touched)
    else:
        months |= touched
    return len(records)
