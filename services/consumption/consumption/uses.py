"""What the actions of the three pathways read of an account's consumption: each energy's year of use and
the price of one more kWh (to estimate a saving in kWh and €), and the measured effect since a commitment.

Measured effect over [start, end), end = start + at most EFFECT_MAX_DAYS, at least EFFECT_MIN_DAYS measured:
baseline = the same days a year earlier, or, when those lack readings, as many days just before `start`.
For a heating use (the dwelling's heating energy, or fuel oil, wood, district heat) both periods are
weather-normalised to the 1991-2020 normal (climate.normalise_heating with the comparison's heating share) when
the degree days of both are known; otherwise they are compared as measured and `weather_normalised` is false.
"""
from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from consumption import repository
from consumption.catalogues import DEGREE_DAYS, TARIFFS
from consumption.climate import normalise_heating
from consumption.comparison import DEFAULT_HEATING_SHARE
from consumption.contracts import resolve_pricing
from consumption.peers import MIN_PEER_COVERAGE, PEERS
from consumption.periods import DAY, same_day_last_year
from consumption.pricing import DailyPricer
from consumption.statements import heating_use
from metro.schemas.consumption import AccountUses, EnergyUse, MeasuredEffect

MIN_DAYS = 28
EFFECT_MIN_DAYS = 28
EFFECT_MAX_DAYS = 56
WINTER = (11, 12, 1, 2, 3)


async def _shown(session: AsyncSession, account_id: uuid.UUID, energy: str | None = None) -> list:
    return [m for m in await repository.account_meters(session, account_id)
            if not m.address_hold and (energy is None or m.energy == energy)]


async def uses(session: AsyncSession, account_id: uuid.UUID) -> AccountUses:
    profile = await repository.profile_of(session, account_id) or {}
    by_energy: dict[str, list] = {}
    for meter in await _shown(session, account_id):
        by_energy.setdefault(meter.energy, []).append(meter)
    catalogue = await TARIFFS.get(session)
    out = []
    for energy, meters in by_energy.items():
        newest = max((d for d in [await repository.last_day(session, m.meter_id) for m in meters] if d),
                     default=None)
        if newest is None:
            out.append(EnergyUse(energy=energy))
            continue
        start, end = newest - dt.timedelta(days=364), newest + DAY
        wh = winter = 0
        days: set[dt.date] = set()
        energy_eur, priced_wh = Decimal(0), 0
        for meter in meters:
            rows = await repository.daily(session, meter.meter_id, start, end)
            pricing = await resolve_pricing(session, meter)
            pricer = DailyPricer(pricing.contract, catalogue) if pricing.contract is not None else None
            for r in rows:
                wh += r.wh
                days.add(r.day)
                winter += r.wh if r.day.month in WINTER else 0
                if pricer is not None and r.wh:
                    price = pricer.price(r.day, r.wh)
                    if price.energy_eur is not None:
                        energy_eur += price.energy_eur
                        priced_wh += r.wh
        anomalies = await repository.recent_episodes(session, [m.meter_id for m in meters],
                                                     newest - dt.timedelta(days=90))
        out.append(EnergyUse(
            energy=energy, days=len(days),
            kwh_year=round(wh / 1000 * 365 / len(days), 1) if len(days) >= MIN_DAYS else None,
            eur_per_kwh=round(float(energy_eur) * 1000 / priced_wh, 4) if priced_wh else None,
            winter_share=round(winter / wh, 3) if wh > 0 and len(days) >= 300 else None,
            anomalies_90_days=len(anomalies)))
    return AccountUses(heating_energy=profile.get("heating_energy"), hot_water_energy=profile.get("hot_water_energy"),
                       dwelling_type=profile.get("dwelling_type"), heating_mode=profile.get("heating_mode"),
                       energies=out)


async def _period(session: AsyncSession, meters: list, start: dt.date, end: dt.date) -> tuple[int, bool]:
    """Wh of the meters over [start, end), and whether (nearly) every day of each has a reading."""
    wh, complete = 0, True
    for meter in meters:
        total, present = await repository.meter_days_total(session, meter.meter_id, start, end)
        wh += total
        complete = complete and present >= (end - start).days * MIN_PEER_COVERAGE
    return wh, complete


async def _normalised(session: AsyncSession, wh: int, start: dt.date, end: dt.date, share: float) -> float | None:
    dju = (await DEGREE_DAYS.get(session)).period_and_reference(PEERS.station, start, end)
    if dju is None or dju[0] <= 0:
        return None
    return normalise_heating(wh / 1000, dju[0], dju[1], share)


async def effect(session: AsyncSession, account_id: uuid.UUID, energy: str, start: dt.date) -> MeasuredEffect:
    view = MeasuredEffect(energy=energy, start=start)
    meters = await _shown(session, account_id, energy)
    if not meters:
        view.reason = "no_meter"
        return view
    newest = max((d for d in [await repository.last_day(session, m.meter_id) for m in meters] if d), default=None)
    end = min(start + dt.timedelta(days=EFFECT_MAX_DAYS), newest + DAY) if newest else start
    view.end = end
    if (end - start).days < EFFECT_MIN_DAYS:
        view.reason = "too_early"
        return view
    wh, complete = await _period(session, meters, start, end)
    if not complete:
        view.reason = "missing_days"
        return view
    last_year = (same_day_last_year(start), same_day_last_year(end))
    before = (start - (end - start), start)
    for kind, (b_start, b_end) in (("last_year", last_year), ("before", before)):
        base_wh, base_complete = await _period(session, meters, b_start, b_end)
        if base_complete and base_wh > 0:
            break
    else:
        view.reason = "no_baseline"
        return view
    kwh, base_kwh = wh / 1000, base_wh / 1000
    profile = await repository.profile_of(session, account_id)
    if heating_use(energy, profile):
        share = float((profile or {}).get("heating_share", DEFAULT_HEATING_SHARE))
        now = await _normalised(session, wh, start, end, share)
        then = await _normalised(session, base_wh, b_start, b_end, share)
        if now is not None and then is not None:
            kwh, base_kwh, view.weather_normalised = now, then, True
    view.available, view.baseline = True, kind
    view.kwh, view.baseline_kwh = round(kwh, 1), round(base_kwh, 1)
    view.change_pct = round((kwh - base_kwh) / base_kwh * 100, 1)
    return view
