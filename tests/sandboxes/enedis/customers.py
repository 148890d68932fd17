"""Synthetic Linky meters: deterministic daily energy, peak power, contract and address for any PRM.

Everything is a pure function of the PRM (and of the attributes given at creation), so the metering API
and the ground truth serve the same numbers, and a benchmark run is reproducible.
"""
from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field, replace
from functools import cached_property

PRM_PATTERN = re.compile(r"^\d{14}$")
PROFILES = ("electric_heating", "non_heating", "self_consumption", "production")
TARIFF_OPTIONS = ("BASE", "HC", "Tempo")
CONTRACT_STATUSES = ("active", "terminated")

# DSO-side distribution tariffs (TURPE options) shown for each supplier tariff option. The DSO does not know
# the supplier offer: "Tempo" customers sit on a four-period distribution tariff here, a sandbox convention.
DISTRIBUTION_TARIFF = {"BASE": "BTINFMUST", "HC": "BTINFMUDT", "Tempo": "BTINFMU4"}
DISTRIBUTION_TARIFF_LABEL = {
    "BTINFMUST": "Tarif BT<=36kVA Moyenne Utilisation sans différenciation temporelle",
    "BTINFMUDT": "Tarif BT<=36kVA Moyenne Utilisation heures pleines heures creuses",
    "BTINFMU4": "Tarif BT<=36kVA Moyenne Utilisation heures pleines heures creuses associées à deux saisons",
}

_MASK = 0xFFFFFFFF
# Mean daily temperature in the Grenoble basin: about 2 °C mid-January, 22 °C mid-July.
_TEMPERATURE = [12.0 - 10.0 * math.cos(2 * math.pi * (doy - 15) / 365.25) for doy in range(367)]
_DAYLIGHT = [0.5 - 0.5 * math.cos(2 * math.pi * (doy - 172 + 182.6) / 365.25) for doy in range(367)]
_COMFORT = [1.0 + 0.25 * math.cos(2 * math.pi * (doy - 15) / 365.25) for doy in range(367)]
_HEATING_BASE_C = 17.0

GRENOBLE_COMMUNES = (
    ("38000", "38185", "GRENOBLE"), ("38100", "38185", "GRENOBLE"), ("38400", "38421", "SAINT-MARTIN-D'HERES"),
    ("38130", "38151", "ECHIROLLES"), ("38600", "38169", "FONTAINE"), ("38120", "38382", "SAINT-EGREVE"),
    ("38240", "38229", "MEYLAN"), ("38700", "38516", "LA TRONCHE"), ("38320", "38158", "EYBENS"),
    ("38610", "38179", "GIERES"), ("38170", "38485", "SEYSSINET-PARISET"), ("38180", "38486", "SEYSSINS"),
)
_STREETS = ("rue Félix Poulat", "avenue Alsace-Lorraine", "cours Jean Jaurès", "rue Lesdiguières",
            "boulevard Gambetta", "rue de la République", "avenue Jean Perrot", "rue des Alpes",
            "chemin du Vercors", "allée de la Chartreuse", "rue Général Mangin", "place Victor Hugo")
_OFFPEAK = ("HC (22H00-6H00)", "HC (23H00-7H00)", "HC (22H30-6H30)", "HC (1H30-8H00;12H30-14H00)",
            "HC (0H50-6H50;14H20-16H20)")


def mix(*values: int) -> int:
    """A small, fast integer hash (murmur3 finaliser) so each (meter, day) gets its own noise."""
    h = 0x9E3779B9
    for value in values:
        h = (h ^ (value & _MASK)) * 0x85EBCA6B & _MASK
        h ^= h >> 13
        h = h * 0xC2B2AE35 & _MASK
        h ^= h >> 16
    return h


def unit(*values: int) -> float:
    return mix(*values) / 4294967296.0


def _day_hash(seed: int, ordinal: int) -> int:
    h = (seed ^ ordinal * 0x9E3779B1) & _MASK
    h = (h ^ h >> 16) * 0x85EBCA6B & _MASK
    h = (h ^ h >> 13) * 0xC2B2AE35 & _MASK
    return h ^ h >> 16


_SKY = [unit(i, 99) for i in range(997)]  # cloud cover of the day, shared by every meter


def weather_anomaly(ordinal: int) -> float:
    """Shared by every meter on a day (a cold spell hits the whole Métropole), in °C."""
    return 2.5 * math.sin(ordinal * 0.21) + 1.8 * math.sin(ordinal * 0.057 + 1.3) + 1.2 * math.sin(ordinal * 0.43)


@dataclass(frozen=True)
class Address:
    street: str
    postal_code: str
    insee_code: str
    city: str
    locality: str = ""
    country: str = "France"


@dataclass(frozen=True)
class Contract:
    tariff_option: str
    subscribed_kva: int
    offpeak_hours: str | None
    status: str
    contract_start: dt.date
    last_change: dt.date
    terminated_on: dt.date | None = None

    @property
    def distribution_tariff(self) -> str:
        return DISTRIBUTION_TARIFF[self.tariff_option]

    @property
    def dso_status(self) -> str:
        return "RESIL" if self.status == "terminated" else "SERVC"


@dataclass(frozen=True)
class Meter:
    prm: str
    profile: str
    activation_date: dt.date
    contract: Contract
    address: Address
    size: float = 1.0
    hole_rate: float = 0.0
    hole_weekdays: frozenset[int] = frozenset()
    load_curve_enabled: bool = True

    @property
    def direction(self) -> str:
        return "production" if self.profile == "production" else "consumption"

    @cached_property
    def seed(self) -> int:
        return int(self.prm) & _MASK ^ int(self.prm) >> 32

    def daily_energy(self, day: dt.date) -> int | None:
        """Energy of one local day in Wh, None where the meter has a hole."""
        series = self.daily_series(day, day + dt.timedelta(days=1))
        return series[0][1] if series else None

    def daily_series(self, start: dt.date, end: dt.date) -> list[tuple[dt.date, int]]:
        """Daily energy in Wh over [start, end[, holes left out. Kept tight: a benchmark asks for years."""
        first = max(start, self.activation_date).toordinal()
        last = end.toordinal()
        if self.contract.terminated_on is not None:
            last = min(last, self.contract.terminated_on.toordinal())
        seed, size, profile = self.seed, self.size, self.profile
        hole_rate, hole_weekdays = self.hole_rate, self.hole_weekdays
        fromordinal = dt.date.fromordinal
        out: list[tuple[dt.date, int]] = []
        year_start = dt.date(fromordinal(first).year if first < last else 1, 1, 1).toordinal()
        next_year = dt.date(fromordinal(year_start).year + 1, 1, 1).toordinal()
        for ordinal in range(first, last):
            if ordinal >= next_year:
                year_start, next_year = next_year, dt.date(fromordinal(next_year).year + 1, 1, 1).toordinal()
            weekday = (ordinal - 1) % 7
            if weekday in hole_weekdays:
                continue
            h = _day_hash(seed, ordinal)
            if hole_rate and (h >> 16) / 65536.0 < hole_rate:
                continue
            doy = ordinal - year_start + 1
            noise = 0.88 + 0.24 * (h & 0xFFFF) / 65536.0
            if profile == "production":
                value = size * 12000 * (0.15 + 0.85 * _DAYLIGHT[doy]) * (0.3 + 0.7 * _SKY[ordinal % 997])
            else:
                base = size * (8064 if weekday >= 5 else 7200)
                if profile == "electric_heating":
                    degree_days = _HEATING_BASE_C - _TEMPERATURE[doy] - weather_anomaly(ordinal)
                    if degree_days > 0:
                        base += size * 2400 * degree_days
                elif profile == "self_consumption":
                    base -= size * 4500 * _DAYLIGHT[doy] * (0.3 + 0.7 * _SKY[ordinal % 997])
                else:
                    base *= _COMFORT[doy]
                value = base * noise
            out.append((fromordinal(ordinal), int(value) if value > 0 else 0))
        return out

    def max_power(self, day: dt.date, energy_wh: int) -> tuple[int, dt.datetime]:
        """Daily peak apparent power in VA and its local time (a morning or evening peak)."""
        h = mix(self.seed, day.toordinal(), 3)
        ratio = 2.2 + 2.0 * (h & 0xFFFF) / 65536.0
        va = min(int(energy_wh / 24 * ratio), self.contract.subscribed_kva * 1000)
        hour = (7, 8, 12, 18, 19, 20, 21)[h % 7]
        moment = dt.datetime.combine(day, dt.time(hour, (h >> 8) % 60, (h >> 16) % 60))
        return va, moment


@dataclass
class Customer:
    customer_id: str
    meters: list[Meter] = field(default_factory=list)

    @property
    def prms(self) -> list[str]:
        return [m.prm for m in self.meters]


def default_meter(prm: str, today: dt.date, *, profile: str | None = None) -> Meter:
    """Attributes every PRM gets unless the creator overrides them, all drawn from the PRM itself."""
    seed = int(prm) & _MASK ^ int(prm) >> 32
    h = mix(seed, 1)
    if profile is None:
        profile = ("electric_heating", "non_heating", "non_heating")[h % 3]
    if h % 10 == 7:
        activation = dt.date(today.year - 1, 1 + (h >> 4) % 12, 1 + (h >> 8) % 28)
    else:
        activation = dt.date(2012, 1, 1) + dt.timedelta(days=(h >> 4) % 2900)
    tariff = ("BASE", "HC", "HC", "Tempo")[(h >> 12) % 4]
    kva = (6, 9, 12) if profile == "electric_heating" else (3, 6, 6, 9)
    subscribed = kva[(h >> 14) % len(kva)]
    postal, insee, city = GRENOBLE_COMMUNES[(h >> 16) % len(GRENOBLE_COMMUNES)]
    street = f"{1 + (h >> 20) % 120} {_STREETS[(h >> 8) % len(_STREETS)]}"
    contract = Contract(
        tariff_option=tariff, subscribed_kva=subscribed,
        offpeak_hours=None if tariff == "BASE" else _OFFPEAK[(h >> 24) % len(_OFFPEAK)],
        status="active", contract_start=activation, last_change=activation + dt.timedelta(days=(h >> 3) % 400),
    )
    return Meter(
        prm=prm, profile=profile, activation_date=activation, contract=contract,
        address=Address(street=street, postal_code=postal, insee_code=insee, city=city),
        size=0.6 + 1.0 * unit(seed, 2), hole_rate=0.004,
    )


def with_overrides(meter: Meter, *, profile: str | None = None, activation_date: dt.date | None = None,
                   hole_rate: float | None = None, contract: dict | None = None,
                   address: dict | None = None) -> Meter:
    changes: dict = {}
    if profile is not None:
        changes["profile"] = profile
    if activation_date is not None:
        changes["activation_date"] = activation_date
        changes["contract"] = replace(meter.contract, contract_start=activation_date,
                                      last_change=max(activation_date, meter.contract.last_change))
    if hole_rate is not None:
        changes["hole_rate"] = hole_rate
    if contract:
        base = changes.get("contract", meter.contract)
        fields = {k: v for k, v in contract.items() if v is not None}
        if fields.get("tariff_option") == "BASE" and "offpeak_hours" not in fields:
            fields["offpeak_hours"] = None
        if fields.get("tariff_option") in ("HC", "Tempo") and base.offpeak_hours is None \
                and "offpeak_hours" not in fields:
            fields["offpeak_hours"] = "HC (22H00-6H00)"
        changes["contract"] = replace(base, **fields)
    if address:
        changes["address"] = replace(meter.address, **{k: v for k, v in address.items() if v is not None})
    return replace(meter, **changes)


def official_customers(today: dt.date) -> dict[str, Customer]:
    """The fake customers of the real Data Connect sandbox, picked by the last digit of `state`."""
    def meter(prm: str, **overrides) -> Meter:
        base = default_meter(prm, today, profile=overrides.pop("profile", "electric_heating"))
        return replace(with_overrides(base, activation_date=overrides.pop("activation_date", dt.date(2015, 12, 1)),
                                      hole_rate=0.0), **overrides)

    customers = {
        "0": [meter("22516914714270", size=1.4)],
        "1": [meter("11453290002823", activation_date=dt.date(2019, 8, 27))],
        "2": [meter("32320647321714", profile="non_heating", load_curve_enabled=False)],
        "3": [meter("12345678901234"), meter("10284856584123", profile="production")],
        "4": [meter("42900589957123", hole_weekdays=frozenset({1, 2}))],
        "5": [meter("24880057139941", profile="production")],
        "6": [meter("12655648759651", profile="self_consumption")],
        "7": [meter("64975835695673"), meter("63695879465986", profile="non_heating"),
              meter("22315546958763", profile="non_heating")],
        "8": [meter("26584978546985")],
    }
    return {f"sandbox-{digit}": Customer(f"sandbox-{digit}", meters) for digit, meters in customers.items()}


REVOKED_OFFICIAL_PRMS = frozenset({"26584978546985"})
