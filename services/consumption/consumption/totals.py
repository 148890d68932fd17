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
from consumption.euros import cents, eur_method, priced_days
from consumption.periods import DAY
from consumption.pricing import to_date_totals
from metro.schemas.consumption import ToDateTotals
from metro.service_auth import Principal

@dataclass
class MeterYear:
    """What the summary, the totals and the month report read for one meter: rows up to `as_of`, priced."""
    meter: sa.Row
    as_of: dt.date | None
    rows: list[Any]
    pricing: Pricing
    eur: dict[dt.date, Decimal | None]


async def load_meter_year(session: AsyncSession, meter: sa.Row, as_of: dt.date | None = None) -> MeterYear:
    pricing = await resolve_pricing(session, meter)
    if as_of is None:
        as_of = await repository.last_day(session, meter.meter_id)
    if as_of is None:
        return MeterYear(meter, None, [], pricing, {})
    start = min(as_of.replace(month=1, day=1), as_of.replace(day=1, year=as_of.year - 1))
    rows, eur = await priced_days(session, meter, pricing, start, as_of + DAY)
    return MeterYear(meter, as_of, rows, pricing, eur)


def to_date(y: MeterYear) -> ToDateTotals:
    m = y.meter
    if y.as_of is None:
        return ToDateTotals(meter_id=m.meter_id, energy=m.energy, as_of=None)
    wh = to_date_totals(((r.day, r.wh) for r in y.rows), y.as_of)
    priced = y.pricing.contract is not None
    eur = to_date_totals(y.eur.items(), y.as_of) if priced else None
    return ToDateTotals(
        meter_id=m.meter_id, energy=m.energy, as_of=y.as_of,
        month_wh=int(wh.month_total), month_eur=cents(eur.month_total) if eur else None,
        month_days=wh.month_days_with_data, month_days_missing=len(wh.month_missing_days),
        month_partial=bool(wh.month_missing_days),
        forecast_wh=int(wh.month_forecast.to_integral_value(ROUND_HALF_UP))
        if wh.month_forecast is not None else None,
        forecast_eur=cents(eur.month_forecast) if eur and eur.month_forecast is not None else None,
        forecast_method=wh.forecast_method,
        year_wh=int(wh.year_total), year_eur=cents(eur.year_total) if eur else None,
        year_days=wh.year_days_with_data, year_days_missing=len(wh.year_missing_days),
        year_partial=bool(wh.year_missing_days),
        eur_estimated=priced and bool(y.pricing.notes),
        eur_method=eur_method(y.pricing) if priced else y.pricing.label)


async def totals(session: AsyncSession, meter_id: uuid.UUID, principal: Principal,
                 as_of: dt.date | None) -> ToDateTotals:
    meter = await authorize_meter(session, meter_id, principal)
    check_shown(meter)
    return to_date(await load_meter_year(session, meter, as_of))
