"""Sandbox customers (PCE + supply contract) and their deterministic daily gas consumption.

Everything a customer consumes is derived from its PCE (seed), so two runs serve the same figures.
GRDF computes the energy from a finer volume than the integer index difference (a real line shows
4 m³ x 11.71 = 48 kWh), so the simulator keeps a hidden decimal volume per gas day, exposes integer
m³ indexes, and rounds the energy to integer kWh.
"""
from __future__ import annotations

import datetime as dt
import functools
import math
import random
import re
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
PCE_PATTERN = re.compile(r"^GI\d{6}$|^\d{14}$")
PROFILES = ("heating", "cooking")
SERIES_YEARS = 12


@dataclass(frozen=True)
class GasDay:
    day: dt.date
    volume_m3: float  # hidden decimal volume
    coeff_conversion: float  # kWh/m³ (PTA x PCS)
    energy_kwh: int
    index_start: int  # integer m³, raw index at 06:00 of the gas day
    index_end: int
    estimated: bool

    @property
    def volume_brut(self) -> int:
        return self.index_end - self.index_start


@dataclass
class Customer:
    pce: str
    postal_code: str
    holder_name: str | None = None
    company_name: str | None = None
    profile: str = "heating"
    city: str = "GRENOBLE"
    street: str = "RUE DES ALPES"
    street_number: str = "1"
    commissioning: dt.date = dt.date(2015, 1, 1)
    frequency: str = "1M"
    supply_ended: dt.date | None = None
    contract_format: str = "v1.9"  # v1.6 serves car/cja as numbers, v1.9 as objects
    holes: list[tuple[dt.date, dt.date]] = field(default_factory=list)  # inclusive gas-day ranges
    _series: dict[dt.date, GasDay] | None = field(default=None, repr=False)

    def in_hole(self, day: dt.date) -> bool:
        return any(start <= day <= end for start, end in self.holes)

    def series(self) -> dict[dt.date, GasDay]:
        if self._series is None:
            self._series = build_series(self.pce, self.profile, self.commissioning)
        return self._series

    def annual_kwh(self) -> int:
        days = self.series()
        first = self.commissioning + dt.timedelta(days=365)
        return sum(days[first + dt.timedelta(days=i)].energy_kwh for i in range(365))

    def tariff(self) -> str:
        car = self.annual_kwh()
        if car < 6_000:
            return "T1"
        return "T2" if car < 300_000 else "T3"


def outdoor_temperature(day: dt.date, rng: random.Random) -> float:
    """Grenoble-like daily mean: about 2 °C mid-January, 22 °C mid-July, with weather noise."""
    seasonal = 12.0 - 10.0 * math.cos(2 * math.pi * (day.timetuple().tm_yday - 15) / 365.25)
    return seasonal + rng.gauss(0.0, 2.5)


def daily_kwh(profile: str, day: dt.date, rng: random.Random) -> float:
    if profile == "cooking":
        weekend = 1.3 if day.weekday() >= 5 else 1.0
        return max(0.0, rng.gauss(1.6, 0.5) * weekend)
    hot_water_and_cooking = rng.gauss(7.0, 1.2)
    degree_days = max(0.0, 17.0 - outdoor_temperature(day, rng))
    return max(0.5, hot_water_and_cooking + 3.8 * degree_days)


def conversion_coefficient(pce: str, day: dt.date) -> float:
    return monthly_coefficient(pce, day.year, day.month)


@functools.lru_cache(maxsize=4096)
def monthly_coefficient(pce: str, year: int, month: int) -> float:
    return round(random.Random(f"{pce}:coeff:{year}-{month}").uniform(10.9, 11.6), 2)


def build_series(pce: str, profile: str, commissioning: dt.date) -> dict[dt.date, GasDay]:
    rng = random.Random(f"{pce}:meter")
    index = rng.uniform(100, 5000)
    out: dict[dt.date, GasDay] = {}
    day = commissioning
    for _ in range(SERIES_YEARS * 366):
        kwh = daily_kwh(profile, day, rng)
        coeff = conversion_coefficient(pce, day)
        volume = kwh / coeff
        start = index
        index += volume
        out[day] = GasDay(day=day, volume_m3=volume, coeff_conversion=coeff,
                          energy_kwh=int(round(volume * coeff)), index_start=math.floor(start),
                          index_end=math.floor(index), estimated=rng.random() < 0.01)
        day += dt.timedelta(days=1)
    return out


def gas_day_bounds(day: dt.date) -> tuple[str, str]:
    """A gas day runs from 06:00 to 06:00 local time (Europe/Paris)."""
    start = dt.datetime.combine(day, dt.time(6), PARIS)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(6), PARIS)
    return start.isoformat(), end.isoformat()


def years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def default_customers() -> list[Customer]:
    return [
        Customer(pce="38000000000001", holder_name="DUPONT", postal_code="38000", profile="heating"),
        Customer(pce="GI380002", holder_name="MARTIN", postal_code="38100", profile="cooking",
                 street="AVENUE JEAN PERROT", street_number="12"),
        Customer(pce="38000000000003", company_name="OPH GRENOBLE HABITAT", postal_code="38400",
                 profile="heating", city="SAINT-MARTIN-D'HERES"),
    ]
