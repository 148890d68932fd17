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
from consumption.catalogues import DEGREE_DAYS, TARIFFS
from consumption.climate import normalise_heating
from consumption.comparison import DEFAULT_HEATING_SHARE
from consumption.euros import cents, eur_method, priced_days, pricing_key, pricing_notes
from consumption.peers import DEFAULT_DEGREE_DAY_STATION
from consumption.periods import DAY, next_period, same_day_last_year
from consumption.pricing import to_date_totals
from consumption.series import CO2E_ENERGY, co2e_factor_of
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
    year_wh, year_days, year_missing = wh.year_total, wh.year_days_with_data, len(wh.year_missing_days)
    year_eur = eur.year_total if eur else None
    if y.earlier is not None:
        e = y.earlier
        year_wh, year_days = wh.month_total + e.wh, wh.month_days_with_data + e.days
        year_missing = len(wh.month_missing_days) + e.days_missing
        year_eur = eur.month_total + e.eur if eur else None
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
        year_wh=int(year_wh), year_eur=cents(year_eur),
        year_days=year_days, year_days_missing=year_missing, year_partial=bool(year_missing),
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
