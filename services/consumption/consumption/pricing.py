"""Daily euros from daily energy, month/year-to-date totals and the month forecast.

Model (all TTC, Decimal):
    eur(day) = energy_eur + subscription_eur
    energy_eur = Σ_period kWh(period) × price(period) of the tariff version in force that day
    subscription_eur = annual subscription of that version ÷ days in the day's calendar year (365 or 366)

"Split across a tariff change": a daily value covers the local day [00:00, 24:00) Europe/Paris, and tariff
versions change at 00:00 local on their `valid_from`, so a daily value is never cut by a change. A period
that spans a change is split at the day boundary: every day before `valid_from` is priced with the old
version, every day from it with the new one. (A DSO value covering several days is not a daily value:
spread it over its days before calling this.)

Rounding: energy_eur and subscription_eur keep 6 decimals; `eur` is their sum rounded to the cent
(half up). Period totals add the unrounded parts and round once, so they do not drift by a cent a day.

Off-peak contracts with a daily total only (no HP/HC split from the DSO) are estimated: the HC share is the
off-peak hours ÷ 24 (uniform load through the day: 8 h → 1/3), unless the contract carries a measured share.
Tempo days without a known colour use the average price over a Tempo year (300 blue, 43 white, 22 red days).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import Iterable, Mapping, Sequence

from consumption.tariffs import Catalogue, ElectricityTariff, TariffNotFound

CENT = Decimal("0.01")
MICRO = Decimal("0.000001")
TEMPO_COLOUR_DAYS = {"BLEU": 300, "BLANC": 43, "ROUGE": 22}


def days_in_year(year: int) -> int:
    return 366 if calendar.isleap(year) else 365


@dataclass(frozen=True)
class Contract:
    energy: str = "electricity"
    option: str = "BASE"
    kva: int = 6
    offpeak_hours: Decimal = Decimal(8)
    # A measured HC share (e.g. from last year's HP/HC indexes) replaces the hours-based estimate.
    hc_share: Decimal | None = None
    # Gas: CRE profile name or annual kWh PCS.
    gas_band: str | int | None = None
    tempo_colours: Mapping[date, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DayPrice:
    day: date
    wh: int | None
    eur: Decimal | None
    subscription_eur: Decimal | None
    energy_eur: Decimal | None
    estimated: bool
    method: str
    tariff_valid_from: date | None = None


@dataclass(frozen=True)
class PeriodTotal:
    start: date
    end: date  # exclusive
    days: int
    priced_days: int
    wh: int
    eur: Decimal
    energy_eur: Decimal
    subscription_eur: Decimal
    missing_days: list[date]
    unpriced_days: list[date]
    estimated_days: int

    @property
    def partial(self) -> bool:
        return bool(self.missing_days or self.unpriced_days)

    @property
    def estimated(self) -> bool:
        return self.estimated_days > 0


def _q(value: Decimal) -> Decimal:
    return value.quantize(MICRO, rounding=ROUND_HALF_EVEN)


def _fmt(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _hc_share(contract: Contract) -> tuple[Decimal, str]:
    if contract.hc_share is not None:
        share = Decimal(contract.hc_share)
        return share, f"HC share {_fmt(share)} measured on this contract"
    hours = Decimal(contract.offpeak_hours)
    share = hours / 24
    return share, (f"HC share estimated as {_fmt(hours)} off-peak hours / 24 h = {share:.4f} "
                   "(uniform load through the day; the DSO gave a daily total only)")


def _tempo_average(tariff: ElectricityTariff, share: Decimal) -> Decimal:
    total_days = sum(TEMPO_COLOUR_DAYS.values())
    return sum(
        (Decimal(n) / total_days) * (share * tariff.price(f"{c}_HC") + (1 - share) * tariff.price(f"{c}_HP"))
        for c, n in TEMPO_COLOUR_DAYS.items()
    )


def _unsplit_price(tariff: ElectricityTariff, contract: Contract, day: date) -> tuple[Decimal, bool, str]:
    """€/kWh for a daily total without a measured HP/HC split, whether it is estimated, and the reason."""
    if tariff.option == "BASE":
        return tariff.price("BASE"), False, ""
    share, why = _hc_share(contract)
    if tariff.option == "HPHC":
        return share * tariff.price("HC") + (1 - share) * tariff.price("HP"), True, f"blended; {why}"
    colour = contract.tempo_colours.get(day)
    if colour is not None:
        colour = colour.upper()
        return (share * tariff.price(f"{colour}_HC") + (1 - share) * tariff.price(f"{colour}_HP"), True,
                f"Tempo {colour} blended; {why}")
    return (_tempo_average(tariff, share), True,
            "Tempo colour unknown: the average over a Tempo year (300 blue, 43 white, 22 red days); " + why)


def _electricity_energy(kwh: Decimal, tariff: ElectricityTariff, contract: Contract, day: date,
                        split: Mapping[str, int] | None) -> tuple[Decimal, bool, str]:
    if split and tariff.option in ("HPHC", "TEMPO"):
        hp, hc = Decimal(split.get("HP", 0)) / 1000, Decimal(split.get("HC", 0)) / 1000
        if tariff.option == "HPHC":
            return (hp * tariff.price("HP") + hc * tariff.price("HC"), False,
                    f"HP {_fmt(hp)} kWh × {tariff.price('HP')} + "
                    f"HC {_fmt(hc)} kWh × {tariff.price('HC')} €/kWh")
        colour = contract.tempo_colours.get(day)
        if colour is not None:
            colour = colour.upper()
            return (hp * tariff.price(f"{colour}_HP") + hc * tariff.price(f"{colour}_HC"), False,
                    f"Tempo {colour}: HP {_fmt(hp)} kWh + HC {_fmt(hc)} kWh")
    price, estimated, why = _unsplit_price(tariff, contract, day)
    how = f"{_fmt(kwh)} kWh × {price if tariff.option == 'BASE' else _q(price)} €/kWh"
    return kwh * price, estimated, f"{how} {why}".rstrip()


def price_day(day: date, wh: int | None, contract: Contract, catalogue: Catalogue,
              split: Mapping[str, int] | None = None) -> DayPrice:
    if wh is None:
        return DayPrice(day, None, None, None, None, False, "no reading")
    kwh = Decimal(wh) / 1000
    year_days = days_in_year(day.year)
    try:
        if contract.energy == "electricity":
            tariff = catalogue.electricity(day, contract.option, contract.kva)
            energy, estimated, how = _electricity_energy(kwh, tariff, contract, day, split)
            label = f"TRVE {tariff.option} {tariff.kva} kVA from {tariff.valid_from.isoformat()}"
            carried = tariff.subscription_carried
        elif contract.energy == "gas":
            if contract.gas_band is None:
                return DayPrice(day, wh, None, None, None, False, "no gas band on the contract")
            tariff = catalogue.gas(day, contract.gas_band)
            energy = kwh * tariff.price_eur_kwh
            estimated = tariff.carried_forward_from is not None
            how = f"{_fmt(kwh)} kWh PCS × {tariff.price_eur_kwh} €/kWh"
            label = f"CRE gas benchmark {tariff.profile} {tariff.valid_from:%Y-%m}"
            if estimated:
                label += " carried forward (later months not in the catalogue)"
            carried = tariff.subscription_carried
        elif contract.energy in ("heat", "water"):
            tariff = catalogue.network(contract.energy, day)
            # Water readings are litres: the unit price is per litre (the price per m3 ÷ 1000).
            quantity = Decimal(wh) if contract.energy == "water" else kwh
            energy = quantity * tariff.unit_price_eur
            unit = "L" if contract.energy == "water" else "kWh"
            how = f"{_fmt(quantity)} {unit} × {tariff.unit_price_eur} €/{unit}"
            label = tariff.label + (" (example tariff, not the operator's)" if tariff.example else "")
            estimated, carried = tariff.example, False
            if tariff.subscription_basis == "kw":
                tariff = replace(tariff, subscription_eur_year=tariff.subscription_eur_year * contract.kva)
                how += f" (R2 × {contract.kva} kW)"
        else:
            return DayPrice(day, wh, None, None, None, False, f"no tariff for energy {contract.energy!r}")
    except TariffNotFound as error:
        return DayPrice(day, wh, None, None, None, False, f"no tariff: {error.detail}")
    subscription = tariff.subscription_eur_year / year_days
    method = f"{label}: {how} + {tariff.subscription_eur_year} €/yr ÷ {year_days} days"
    if carried:
        method += " (subscription carried from the previous version: not published in the data)"
        estimated = True
    energy_q, subscription_q = _q(energy), _q(subscription)
    eur = (energy + subscription).quantize(CENT, rounding=ROUND_HALF_UP)
    return DayPrice(day, wh, eur, subscription_q, energy_q, estimated, method, tariff.valid_from)


def price_days(readings: Iterable[tuple[date, int | None]], contract: Contract, catalogue: Catalogue,
               split: Mapping[date, Mapping[str, int]] | None = None) -> list[DayPrice]:
    """Price each daily reading. `split` optionally gives measured Wh per period by day (HP/HC)."""
    split = split or {}
    return [price_day(day, wh, contract, catalogue, split.get(day)) for day, wh in readings]


def period_total(prices: Sequence[DayPrice], start: date | None = None,
                 end: date | None = None) -> PeriodTotal:
    """Totals over [start, end) (default: the span of `prices`). Days absent or without a reading are
    listed in `missing_days`, days with a reading but no tariff in `unpriced_days`; either makes it partial.
    Totals cover the priced days only."""
    by_day = {p.day: p for p in prices}
    if start is None:
        start = min(by_day) if by_day else date.min
    if end is None:
        end = max(by_day) + timedelta(days=1) if by_day else start
    wh, energy, subscription, priced, estimated = 0, Decimal(0), Decimal(0), 0, 0
    missing: list[date] = []
    unpriced: list[date] = []
    day = start
    while day < end:
        p = by_day.get(day)
        if p is None or p.wh is None:
            missing.append(day)
        elif p.eur is None:
            unpriced.append(day)
        else:
            wh += p.wh
            energy += p.energy_eur
            subscription += p.subscription_eur
            priced += 1
            estimated += p.estimated
        day += timedelta(days=1)
    return PeriodTotal(start, end, (end - start).days, priced, wh,
                       (energy + subscription).quantize(CENT, rounding=ROUND_HALF_UP),
                       energy.quantize(CENT, rounding=ROUND_HALF_UP),
                       subscription.quantize(CENT, rounding=ROUND_HALF_UP),
                       missing, unpriced, estimated)


@dataclass(frozen=True)
class ToDate:
    as_of: date
    month_total: Decimal
    month_days_with_data: int
    month_missing_days: list[date]
    year_total: Decimal
    year_days_with_data: int
    year_missing_days: list[date]
    month_forecast: Decimal | None
    forecast_method: str


def to_date_totals(values: Iterable[tuple[date, int | Decimal | None]], as_of: date) -> ToDate:
    """Month-to-date and year-to-date sums up to `as_of` inclusive, and a forecast for the whole month.

    Works for Wh or euros alike. Forecast: the mean of the days with data so far × days in the month
    ("daily mean"). When the same month last year is complete in `values` and its first `as_of.day` days
    are non-zero, that mean-based figure is reshaped by last year's profile instead:
    forecast = mean so far × as_of.day × (last year's month ÷ last year's first as_of.day days)
    ("same period last year"), which follows a month that ends colder or warmer than it starts.
    """
    series = {d: v for d, v in values if v is not None}
    month_start, year_start = as_of.replace(day=1), as_of.replace(month=1, day=1)

    def span(start: date, end: date) -> tuple[Decimal, int, list[date]]:
        inside = [v for d, v in series.items() if start <= d <= end]
        length = (end - start).days + 1
        missing = [] if len(inside) == length else [
            day for day in (start + timedelta(days=i) for i in range(length)) if day not in series]
        return Decimal(sum(inside)), len(inside), missing

    month_total, month_count, month_missing = span(month_start, as_of)
    year_total, year_count, year_missing = span(year_start, as_of)
    month_days = calendar.monthrange(as_of.year, as_of.month)[1]
    forecast: Decimal | None = None
    method = "no data this month: no forecast"
    if month_count:
        mean = month_total / month_count
        forecast = mean * month_days
        method = f"daily mean: mean of {month_count} day(s) with data × {month_days} days"
        ly_year = as_of.year - 1
        ly_days = calendar.monthrange(ly_year, as_of.month)[1]
        ly_start = date(ly_year, as_of.month, 1)
        ly_month, ly_count, _ = span(ly_start, date(ly_year, as_of.month, ly_days))
        ly_elapsed_end = date(ly_year, as_of.month, min(as_of.day, ly_days))
        ly_elapsed, ly_elapsed_count, _ = span(ly_start, ly_elapsed_end)
        if ly_count == ly_days and ly_elapsed > 0:
            forecast = mean * as_of.day * ly_month / ly_elapsed
            method = (f"same period last year: mean of {month_count} day(s) × {as_of.day} days × "
                      f"last year's {as_of:%m} total ÷ its first {ly_elapsed_count} days")
    return ToDate(as_of, month_total, month_count, month_missing, year_total, year_count, year_missing,
                  forecast.quantize(CENT, rounding=ROUND_HALF_UP) if forecast is not None else None, method)


def hc_share_method(contract: Contract) -> str:
    """How the off-peak share is obtained when the DSO gives a daily total only (for a series' note)."""
    return _hc_share(contract)[1]


class DailyPricer:
    """price_day for the many days of one contract: days without a measured split are priced from a rate
    resolved once per tariff version and year (the energy price is linear in kWh), with the same figures as
    price_day; the method then names the rate rather than each day's kWh."""

    def __init__(self, contract: Contract, catalogue: Catalogue):
        self.contract = contract
        self.catalogue = catalogue
        self._rates: dict[tuple, tuple[Decimal, Decimal, Decimal, bool, str, date] | None] = {}

    def _rate(self, day: date) -> tuple[Decimal, Decimal, Decimal, bool, str, date] | None:
        c = self.contract
        try:
            if c.energy == "electricity":
                tariff = self.catalogue.electricity(day, c.option, c.kva)
                key = ("e", tariff.valid_from, day.year, c.tempo_colours.get(day))
            elif c.energy == "gas" and c.gas_band is not None:
                gas = self.catalogue.gas(day, c.gas_band)
                key = ("g", gas.valid_from, day.year, gas.carried_forward_from)
            else:
                return None
        except TariffNotFound:
            return None
        if key in self._rates:
            return self._rates[key]
        if c.energy == "electricity":
            price, estimated, why = _unsplit_price(tariff, c, day)
            label = f"TRVE {tariff.option} {tariff.kva} kVA from {tariff.valid_from.isoformat()}"
            subscription_year, carried, valid_from = (tariff.subscription_eur_year, tariff.subscription_carried,
                                                      tariff.valid_from)
        else:
            price, estimated, why = gas.price_eur_kwh, gas.carried_forward_from is not None, ""
            label = f"CRE gas benchmark {gas.profile} {gas.valid_from:%Y-%m}"
            subscription_year, carried, valid_from = gas.subscription_eur_year, gas.subscription_carried, \
                gas.valid_from
        year_days = days_in_year(day.year)
        method = f"{label}: kWh × {_q(price)} €/kWh {why}".rstrip() + \
            f" + {subscription_year} €/yr ÷ {year_days} days"
        if carried:
            method += " (subscription carried from the previous version: not published in the data)"
        subscription = subscription_year / year_days
        rate = (price, subscription, _q(subscription), estimated or carried, method, valid_from)
        self._rates[key] = rate
        return rate

    def price(self, day: date, wh: int | None, split: Mapping[str, int] | None = None) -> DayPrice:
        if wh is None or split:
            return price_day(day, wh, self.contract, self.catalogue, split)
        rate = self._rate(day)
        if rate is None:
            return price_day(day, wh, self.contract, self.catalogue)
        price, subscription, subscription_q, estimated, method, valid_from = rate
        energy = Decimal(wh) / 1000 * price
        return DayPrice(day, wh, (energy + subscription).quantize(CENT, rounding=ROUND_HALF_UP), subscription_q,
                        _q(energy), estimated, method, valid_from)
