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
from consumption.catalogues import DEGREE_DAYS
from consumption.climate import normalise_heating
from consumption.comparison import DEFAULT_HEATING_SHARE
from consumption.contracts import Pricing, resolve_pricing
from consumption.euros import cents, eur_method, priced_days
from consumption.peers import DEFAULT_DEGREE_DAY_STATION
from consumption.periods import DAY, same_day_last_year
from consumption.pricing import to_date_totals
from consumption.series import CO2E_ENERGY, co2e_factor_of
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


def _grams(wh: int | None, factor: Decimal | None) -> int | None:
    """kgCO2e per kWh is gCO2e per Wh."""
    return None if wh is None or factor is None else int((wh * factor).to_integral_value(ROUND_HALF_UP))


def to_date(y: MeterYear) -> ToDateTotals:
    m = y.meter
    if y.as_of is None:
        return ToDateTotals(meter_id=m.meter_id, energy=m.energy, as_of=None)
    wh = to_date_totals(((r.day, r.wh) for r in y.rows), y.as_of)
    priced = y.pricing.contract is not None
    eur = to_date_totals(y.eur.items(), y.as_of) if priced else None
    factor = co2e_factor_of(m.energy)
    # Last year's same days: from its 1st of the month to the same day number.
    ly_start, ly_end = same_day_last_year(y.as_of.replace(day=1)), same_day_last_year(y.as_of)
    ly_rows = [r for r in y.rows if ly_start <= r.day <= ly_end]
    ly_eur = [y.eur.get(r.day) for r in ly_rows]
    ly_priced = priced and bool(ly_rows) and all(e is not None for e in ly_eur)
    month_wh = int(wh.month_total)
    forecast_wh = (int(wh.month_forecast.to_integral_value(ROUND_HALF_UP))
                   if wh.month_forecast is not None else None)
    return ToDateTotals(
        meter_id=m.meter_id, energy=m.energy, as_of=y.as_of,
        month_wh=month_wh, month_eur=cents(eur.month_total) if eur else None,
        month_days=wh.month_days_with_data, month_days_missing=len(wh.month_missing_days),
        month_partial=bool(wh.month_missing_days),
        forecast_wh=forecast_wh,
        forecast_eur=cents(eur.month_forecast) if eur and eur.month_forecast is not None else None,
        forecast_method=wh.forecast_method,
        year_wh=int(wh.year_total), year_eur=cents(eur.year_total) if eur else None,
        year_days=wh.year_days_with_data, year_days_missing=len(wh.year_missing_days),
        year_partial=bool(wh.year_missing_days),
        eur_estimated=priced and bool(y.pricing.notes),
        eur_method=eur_method(y.pricing) if priced else y.pricing.label,
        month_co2e_g=_grams(month_wh, factor.kg_per_kwh if factor else None),
        forecast_co2e_g=_grams(forecast_wh, factor.kg_per_kwh if factor else None),
        co2e_factor=f"{factor.kg_per_kwh} {factor.unit_basis} ({factor.reference})" if factor else None,
        last_year_month_wh=sum(r.wh for r in ly_rows) if ly_rows else None,
        last_year_month_eur=cents(sum(ly_eur, Decimal(0))) if ly_priced else None,
        last_year_month_days_missing=(ly_end - ly_start).days + 1 - len(ly_rows) if ly_rows else None)


async def with_weather(session: AsyncSession, y: MeterYear, t: ToDateTotals) -> ToDateTotals:
    """Last year's same days as if they had had this year's weather, where the degree days of both periods are
    known and the home is heated with this meter's energy (only the heating share varies with the weather)."""
    if t.last_year_month_wh is None or y.as_of is None:
        return t
    profile = await repository.profile_of(session, y.meter.account_id) or {}
    if profile.get("heating_energy") != CO2E_ENERGY.get(y.meter.energy):
        return t
    degree_days = await DEGREE_DAYS.get(session)
    start, end = y.as_of.replace(day=1), y.as_of + DAY
    now = degree_days.period_and_reference(DEFAULT_DEGREE_DAY_STATION, start, end)
    before = degree_days.period_and_reference(DEFAULT_DEGREE_DAY_STATION, same_day_last_year(start),
                                              same_day_last_year(end))
    if not now or not before or before[0] <= 0:
        return t
    share = float(profile.get("heating_share", DEFAULT_HEATING_SHARE))
    t.last_year_month_wh_normalised = round(normalise_heating(t.last_year_month_wh, before[0], now[0], share))
    t.last_year_weather_normalised = True
    return t


async def totals(session: AsyncSession, meter_id: uuid.UUID, principal: Principal,
                 as_of: dt.date | None) -> ToDateTotals:
    meter = await authorize_meter(session, meter_id, principal)
    check_shown(meter)
    y = await load_meter_year(session, meter, as_of)
    return await with_weather(session, y, to_date(y))
