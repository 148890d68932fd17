"""A meter's month and year to date, in Wh and euros, with the month's forecast."""
from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from consumption import repository
from consumption.access import authorize_meter, check_shown
from consumption.contracts import Pricing, resolve_pricing
from consumption.catalogues import TARIFFS
from consumption.euros import cents, eur_method, priced_days, pricing_key, pricing_notes
from consumption.periods import DAY, next_period
from consumption.pricing import to_date_totals
from metro.schemas.consumption import Step, ToDateTotals
from metro.service_auth import Principal

@dataclass
class Earlier:
    """The months of as_of's year before its month, from the rollups: the year to date is theirs plus the days of
    as_of's month."""
    wh: int = 0
    days: int = 0
    days_missing: int = 0
    eur: Decimal = Decimal(0)


@dataclass
class MeterYear:
    """What the summary, the totals and the month report read for one meter: rows up to `as_of`, priced (with
    ``earlier``, only as_of's month and the same month last year)."""
    meter: sa.Row
    as_of: dt.date | None
    rows: list[Any]
    pricing: Pricing
    eur: dict[dt.date, Decimal | None]
    earlier: Earlier | None = None


async def load_meter_year(session: AsyncSession, meter: sa.Row, as_of: dt.date | None = None) -> MeterYear:
    pricing = await resolve_pricing(session, meter)
    if as_of is None:
        as_of = await repository.last_day(session, meter.meter_id)
    if as_of is None:
        return MeterYear(meter, None, [], pricing, {})
    start = min(as_of.replace(month=1, day=1), as_of.replace(day=1, year=as_of.year - 1))
    rows, eur = await priced_days(session, meter, pricing, start, as_of + DAY)
    return MeterYear(meter, as_of, rows, pricing, eur)


async def load_recent(session: AsyncSession, meter: sa.Row) -> MeterYear:
    """load_meter_year for the summary in one statement: as_of's month and the same month last year by day, the
    year's earlier months from the rollups. While the meter waits for the pricing worker (new readings, another
    contract or catalogue), the days are read and priced as load_meter_year does."""
    pricing = await resolve_pricing(session, meter)
    await TARIFFS.get(session)  # the catalogue versions in force, which the pricing key names
    key = pricing_key(meter, pricing)
    rows = await repository.summary_data(session, meter.meter_id, key) if meter.priced_key == key else []
    if not rows:
        return await load_meter_year(session, meter)
    as_of = next(r.day for r in rows if r.kind == "as_of")
    if not all(r.current for r in rows):
        return await load_meter_year(session, meter, as_of)
    days = [r for r in rows if r.kind == "day"]
    months = {r.day: r for r in rows if r.kind == "month"}
    earlier, flags = Earlier(), 0
    year_start, month_start = as_of.replace(month=1, day=1), as_of.replace(day=1)
    for r in rows:
        flags |= r.flags or 0
    month = year_start
    while month < month_start:
        r = months.get(month)
        following = next_period(month, Step.month)
        earlier.days_missing += (following - month).days - (r.present if r else 0)
        if r:
            earlier.wh += r.wh
            earlier.days += r.present
            earlier.eur += r.eur or 0
        month = following
    pricing.notes = pricing_notes(pricing, flags)
    return MeterYear(meter, as_of, days, pricing, {r.day: r.eur for r in days}, earlier)


def to_date(y: MeterYear) -> ToDateTotals:
    m = y.meter
    if y.as_of is None:
        return ToDateTotals(meter_id=m.meter_id, energy=m.energy, as_of=None)
    wh = to_date_totals(((r.day, r.wh) for r in y.rows), y.as_of)
    priced = y.pricing.contract is not None
    eur = to_date_totals(y.eur.items(), y.as_of) if priced else None
    year_wh, year_days, year_missing = wh.year_total, wh.year_days_with_data, len(wh.year_missing_days)
    year_eur = eur.year_total if eur else None
    if y.earlier is not None:
        e = y.earlier
        year_wh, year_days = wh.month_total + e.wh, wh.month_days_with_data + e.days
        year_missing = len(wh.month_missing_days) + e.days_missing
        year_eur = eur.month_total + e.eur if eur else None
    return ToDateTotals(
        meter_id=m.meter_id, energy=m.energy, as_of=y.as_of,
        month_wh=int(wh.month_total), month_eur=cents(eur.month_total) if eur else None,
        month_days=wh.month_days_with_data, month_days_missing=len(wh.month_missing_days),
        month_partial=bool(wh.month_missing_days),
        forecast_wh=int(wh.month_forecast.to_integral_value(ROUND_HALF_UP))
        if wh.month_forecast is not None else None,
        forecast_eur=cents(eur.month_forecast) if eur and eur.month_forecast is not None else None,
        forecast_method=wh.forecast_method,
        year_wh=int(year_wh), year_eur=cents(year_eur),
        year_days=year_days, year_days_missing=year_missing, year_partial=bool(year_missing),
        eur_estimated=priced and bool(y.pricing.notes),
        eur_method=eur_method(y.pricing) if priced else y.pricing.label)


async def totals(session: AsyncSession, meter_id: uuid.UUID, principal: Principal,
                 as_of: dt.date | None) -> ToDateTotals:
    meter = await authorize_meter(session, meter_id, principal)
    check_shown(meter)
    return to_date(await load_meter_year(session, meter, as_of))
