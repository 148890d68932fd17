"""Versioned catalogue of tariffs: French Tarif Bleu (TRVE), the CRE gas benchmark price, the district-heat
tariff (R1 energy per MWh, R2 subscription per kW or per dwelling) and the water tariff (per m3 plus a
subscription).

Every figure is TTC, in Decimal euros, and keeps the source text of the row it was read from.
A version is in force from 00:00 local time on `valid_from` to 24:00 on `valid_to` (inclusive; None = open).
The loaders accept the bundled files or an uploaded CSV of the same shape; a bad file raises
`TariffCsvError` with a stable code, the line number and the column.
"""

from __future__ import annotations

import csv
import io
import re
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Mapping

DATA_DIR = Path(__file__).parent / "data"

ELECTRICITY_COLUMNS = (
    "valid_from", "valid_to", "option", "kva", "period",
    "subscription_eur_ttc_year", "price_eur_ttc_kwh", "source",
)
GAS_COLUMNS = ("month", "profile", "subscription_eur_ttc_year", "price_eur_ttc_kwh", "source")
# District heat: R1 is the energy delivered (€/MWh), R2 the subscription, per kW subscribed or per dwelling.
HEAT_COLUMNS = ("valid_from", "valid_to", "network", "r1_eur_ttc_mwh", "r2_basis", "r2_eur_ttc_year", "example",
                "source")
WATER_COLUMNS = ("valid_from", "valid_to", "operator", "price_eur_ttc_m3", "subscription_eur_ttc_year", "example",
                 "source")
R2_BASES = frozenset({"kw", "dwelling"})

OPTION_PERIODS: dict[str, frozenset[str]] = {
    "BASE": frozenset({"BASE"}),
    "HPHC": frozenset({"HP", "HC"}),
    "TEMPO": frozenset({"BLEU_HC", "BLEU_HP", "BLANC_HC", "BLANC_HP", "ROUGE_HC", "ROUGE_HP"}),
}
SUBSCRIBED_POWERS_KVA = frozenset({3, 6, 9, 12, 15, 18, 24, 30, 36})

# CRE prix repère profiles; band bounds (kWh PCS per year) per the CRE methodology as relayed by the press.
GAS_BANDS: dict[str, tuple[int, int]] = {
    "cuisson_eau_chaude": (0, 6_000),
    "chauffage": (6_000, 300_000),
}

MAX_UPLOAD_BYTES = 2_000_000


class TariffError(Exception):
    code = "tariff_error"

    def __init__(self, detail: str, *, code: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if code:
            self.code = code


class TariffNotFound(TariffError):
    code = "tariff_not_found"


class TariffCsvError(TariffError):
    """A rejected tariff file. `code` is stable; `line` is 1-based in the file (header = line 1)."""

    code = "tariff_csv_invalid"

    def __init__(self, code: str, detail: str, *, line: int | None = None, column: str | None = None) -> None:
        where = f"line {line}" if line else ""
        if column:
            where = f"{where}, column {column}" if where else f"column {column}"
        super().__init__(f"{where}: {detail}" if where else detail, code=code)
        self.line = line
        self.column = column


@dataclass(frozen=True)
class ElectricityTariff:
    option: str
    kva: int
    valid_from: date
    valid_to: date | None
    subscription_eur_year: Decimal
    prices_eur_kwh: Mapping[str, Decimal]
    sources: tuple[str, ...]
    # True when this version's subscription is missing in the data and the previous version's is used.
    subscription_carried: bool = False

    def price(self, period: str) -> Decimal:
        return self.prices_eur_kwh[period]


@dataclass(frozen=True)
class GasTariff:
    profile: str
    valid_from: date
    valid_to: date
    subscription_eur_year: Decimal
    price_eur_kwh: Decimal
    source: str
    subscription_carried: bool = False
    # Set on the copy returned for a day after the last published month.
    carried_forward_from: date | None = None


@dataclass(frozen=True)
class NetworkTariff:
    """A heat or water tariff version: a price per unit (€/kWh of heat, €/litre of water, from the R1 per MWh
    and the price per m3) and a yearly subscription (R2 per dwelling, or per kW × the contract's kW)."""
    energy: str
    network: str
    valid_from: date
    valid_to: date | None
    unit_price_eur: Decimal
    subscription_eur_year: Decimal
    subscription_basis: str
    example: bool
    source: str
    label: str


def _decimal(raw: str, line: int, column: str, *, required: bool = True) -> Decimal | None:
    raw = raw.strip()
    if not raw:
        if required:
            raise TariffCsvError("tariff_csv_missing_value", "a value is required", line=line, column=column)
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise TariffCsvError("tariff_csv_bad_number", f"{raw!r} is not a number", line=line, column=column)
    if not value.is_finite() or value < 0:
        raise TariffCsvError("tariff_csv_bad_number", f"{raw!r} must be a finite number >= 0",
                             line=line, column=column)
    if value > 10_000:
        raise TariffCsvError("tariff_csv_out_of_range", f"{raw!r} is implausibly large for a TTC figure",
                             line=line, column=column)
    return value


def _date(raw: str, line: int, column: str) -> date:
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise TariffCsvError("tariff_csv_bad_date", f"{raw!r} is not an ISO date (YYYY-MM-DD)",
                             line=line, column=column)


# No cell carries one, and PostgreSQL refuses NUL in text: refused by line rather than failing at the insert.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _read_rows(content: str | bytes, required: Iterable[str]) -> list[tuple[int, dict[str, str]]]:
    if isinstance(content, bytes):
        if len(content) > MAX_UPLOAD_BYTES:
            raise TariffCsvError("tariff_csv_too_large", f"file larger than {MAX_UPLOAD_BYTES} bytes")
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise TariffCsvError("tariff_csv_encoding", "the file is not UTF-8")
    content = content.lstrip("\ufeff")
    if not content.strip():
        raise TariffCsvError("tariff_csv_empty", "the file is empty")
    reader = csv.DictReader(io.StringIO(content, newline=""))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in required if c not in header]
    if missing:
        raise TariffCsvError("tariff_csv_missing_column", f"missing column(s): {', '.join(missing)}", line=1)
    reader.fieldnames = header
    rows = []
    for index, row in enumerate(reader, start=2):
        if None in row:
            raise TariffCsvError("tariff_csv_bad_row", "more fields than header columns", line=index)
        if any(_CONTROL.search(v or "") for v in row.values()):
            raise TariffCsvError("tariff_csv_control_character", "a control character in a cell", line=index)
        if not any((v or "").strip() for v in row.values()):
            continue
        rows.append((index, {k: (v or "") for k, v in row.items()}))
    if not rows:
        raise TariffCsvError("tariff_csv_empty", "the file has a header but no rows")
    return rows


def _priced_source(row: dict[str, str], line: int, price: Decimal | None) -> str:
    """The row's source, once its price is plausible in €/kWh and the source given."""
    if price is not None and price > 5:
        raise TariffCsvError("tariff_csv_out_of_range",
                             f"{price} €/kWh is implausible (€ expected, not c€)",
                             line=line, column="price_eur_ttc_kwh")
    source = row["source"].strip()
    if not source:
        raise TariffCsvError("tariff_csv_missing_source", "every figure needs its source", line=line,
                             column="source")
    return source


def parse_electricity_csv(content: str | bytes) -> list[ElectricityTariff]:
    """Parse and validate a TRVE file shaped like data/trve.csv: an ElectricityTariff per version/option/kVA.

    A blank subscription (NOT FOUND in the sources) takes the previous version's value for the same
    option and kVA and is marked `subscription_carried`; with no previous version the file is rejected.
    """
    groups: dict[tuple[str, int, date], dict] = {}
    for line, row in _read_rows(content, ELECTRICITY_COLUMNS):
        option = row["option"].strip().upper()
        if option not in OPTION_PERIODS:
            raise TariffCsvError("tariff_csv_bad_option",
                                 f"{option!r} is not one of {sorted(OPTION_PERIODS)}",
                                 line=line, column="option")
        period = row["period"].strip().upper()
        if period not in OPTION_PERIODS[option]:
            raise TariffCsvError("tariff_csv_bad_period",
                                 f"{period!r} is not a period of {option} ({sorted(OPTION_PERIODS[option])})",
                                 line=line, column="period")
        try:
            kva = int(row["kva"].strip())
        except ValueError:
            kva = 0
        if kva not in SUBSCRIBED_POWERS_KVA:
            raise TariffCsvError("tariff_csv_bad_kva", f"{row['kva']!r} is not a subscribed power "
                                 f"({sorted(SUBSCRIBED_POWERS_KVA)})", line=line, column="kva")
        valid_from = _date(row["valid_from"], line, "valid_from")
        valid_to = _date(row["valid_to"], line, "valid_to") if row["valid_to"].strip() else None
        if valid_to is not None and valid_to < valid_from:
            raise TariffCsvError("tariff_csv_bad_validity", "valid_to is before valid_from", line=line,
                                 column="valid_to")
        subscription = _decimal(row["subscription_eur_ttc_year"], line, "subscription_eur_ttc_year",
                                required=False)
        price = _decimal(row["price_eur_ttc_kwh"], line, "price_eur_ttc_kwh")
        source = _priced_source(row, line, price)
        group = groups.setdefault((option, kva, valid_from), {
            "valid_to": valid_to, "subscription": subscription, "prices": {}, "sources": [], "line": line,
        })
        if group["valid_to"] != valid_to:
            raise TariffCsvError("tariff_csv_inconsistent_version",
                                 f"valid_to differs between periods of {option} {kva} kVA from {valid_from}",
                                 line=line, column="valid_to")
        if group["subscription"] != subscription:
            raise TariffCsvError("tariff_csv_inconsistent_version",
                                 f"subscription differs between periods of {option} {kva} kVA "
                                 f"from {valid_from}",
                                 line=line, column="subscription_eur_ttc_year")
        if period in group["prices"]:
            raise TariffCsvError("tariff_csv_duplicate",
                                 f"{option} {kva} kVA {period} from {valid_from} twice", line=line)
        group["prices"][period] = price
        if source not in group["sources"]:
            group["sources"].append(source)

    tariffs: list[ElectricityTariff] = []
    by_contract: dict[tuple[str, int], list[tuple[date, dict]]] = defaultdict(list)
    for (option, kva, valid_from), group in groups.items():
        by_contract[(option, kva)].append((valid_from, group))
    for (option, kva), versions in sorted(by_contract.items()):
        versions.sort(key=lambda v: v[0])
        previous: ElectricityTariff | None = None
        for valid_from, group in versions:
            missing = OPTION_PERIODS[option] - group["prices"].keys()
            if missing:
                raise TariffCsvError("tariff_csv_incomplete_version",
                                     f"{option} {kva} kVA from {valid_from} lacks "
                                     f"period(s) {sorted(missing)}",
                                     line=group["line"])
            if previous is not None and (previous.valid_to is None or previous.valid_to >= valid_from):
                raise TariffCsvError("tariff_csv_overlap",
                                     f"{option} {kva} kVA: version from {valid_from} overlaps the version "
                                     f"from {previous.valid_from}", line=group["line"], column="valid_from")
            subscription, carried = group["subscription"], False
            if subscription is None:
                if previous is None:
                    raise TariffCsvError("tariff_csv_missing_value",
                                         f"{option} {kva} kVA from {valid_from}: no subscription "
                                         "and no earlier version to carry it from", line=group["line"],
                                         column="subscription_eur_ttc_year")
                subscription, carried = previous.subscription_eur_year, True
            sources = tuple(group["sources"])
            if carried:
                sources += (f"subscription NOT FOUND for this version: carried from the version of "
                            f"{previous.valid_from.isoformat()}",)
            previous = ElectricityTariff(option, kva, valid_from, group["valid_to"], subscription,
                                         dict(group["prices"]), sources, carried)
            tariffs.append(previous)
    return tariffs


def _month_end(first: date) -> date:
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def parse_gas_csv(content: str | bytes) -> list[GasTariff]:
    """Parse and validate a gas benchmark file shaped like data/gas_benchmark.csv (a row per month, profile).

    Months without a price are gaps and skipped. A blank subscription takes the previous month's.
    """
    seen: set[tuple[str, date]] = set()
    rows: list[tuple[int, str, date, Decimal | None, Decimal, str]] = []
    for line, row in _read_rows(content, GAS_COLUMNS):
        profile = row["profile"].strip()
        if profile not in GAS_BANDS:
            raise TariffCsvError("tariff_csv_bad_profile", f"{profile!r} is not one of {sorted(GAS_BANDS)}",
                                 line=line, column="profile")
        month = _date(row["month"].strip() + "-01", line, "month")
        if (profile, month) in seen:
            raise TariffCsvError("tariff_csv_duplicate", f"{profile} {row['month']} twice", line=line)
        seen.add((profile, month))
        price = _decimal(row["price_eur_ttc_kwh"], line, "price_eur_ttc_kwh", required=False)
        subscription = _decimal(row["subscription_eur_ttc_year"], line, "subscription_eur_ttc_year",
                                required=False)
        if price is None:
            if subscription is not None:
                raise TariffCsvError("tariff_csv_missing_value", "a subscription without a kWh price",
                                     line=line, column="price_eur_ttc_kwh")
            continue
        source = _priced_source(row, line, price)
        rows.append((line, profile, month, subscription, price, source))

    tariffs: list[GasTariff] = []
    last: dict[str, GasTariff] = {}
    for line, profile, month, subscription, price, source in sorted(rows, key=lambda r: (r[1], r[2])):
        carried = subscription is None
        if carried:
            previous = last.get(profile)
            if previous is None:
                raise TariffCsvError("tariff_csv_missing_value",
                                     f"{profile} {month:%Y-%m}: no subscription and no earlier "
                                     "month to carry it from", line=line, column="subscription_eur_ttc_year")
            subscription = previous.subscription_eur_year
            source += f"; subscription NOT FOUND: carried from {previous.valid_from:%Y-%m}"
        tariff = GasTariff(profile, month, _month_end(month), subscription, price, source, carried)
        tariffs.append(tariff)
        last[profile] = tariff
    return tariffs


def _versions(rows: list[tuple[int, NetworkTariff]]) -> list[NetworkTariff]:
    out: list[NetworkTariff] = []
    rows.sort(key=lambda r: (r[1].network, r[1].valid_from))
    for (_, previous), (line, tariff) in zip(rows, rows[1:]):
        if previous.network == tariff.network and (previous.valid_to is None or previous.valid_to >= tariff.valid_from):
            raise TariffCsvError("tariff_csv_overlap", f"{tariff.network}: version from {tariff.valid_from} overlaps "
                                 f"the version from {previous.valid_from}", line=line, column="valid_from")
    out.extend(t for _, t in rows)
    return out


def _validity(row: dict[str, str], line: int) -> tuple[date, date | None, bool]:
    valid_from = _date(row["valid_from"], line, "valid_from")
    valid_to = _date(row["valid_to"], line, "valid_to") if row["valid_to"].strip() else None
    if valid_to is not None and valid_to < valid_from:
        raise TariffCsvError("tariff_csv_bad_validity", "valid_to is before valid_from", line=line, column="valid_to")
    example = row["example"].strip().lower()
    if example not in ("yes", "no"):
        raise TariffCsvError("tariff_csv_bad_example", "example is yes (an illustrative value) or no (published)",
                             line=line, column="example")
    return valid_from, valid_to, example == "yes"


def _source(row: dict[str, str], line: int) -> str:
    source = row["source"].strip()
    if not source:
        raise TariffCsvError("tariff_csv_missing_source", "every figure needs its source", line=line, column="source")
    return source


def parse_heat_csv(content: str | bytes) -> list[NetworkTariff]:
    """A district-heat tariff file shaped like data/heat_tariffs.csv: per network, versions that do not overlap."""
    rows = []
    for line, row in _read_rows(content, HEAT_COLUMNS):
        valid_from, valid_to, example = _validity(row, line)
        network = row["network"].strip()
        r1 = _decimal(row["r1_eur_ttc_mwh"], line, "r1_eur_ttc_mwh")
        basis = row["r2_basis"].strip().lower()
        if basis not in R2_BASES:
            raise TariffCsvError("tariff_csv_bad_basis", f"{basis!r} is not one of {sorted(R2_BASES)}", line=line,
                                 column="r2_basis")
        r2 = _decimal(row["r2_eur_ttc_year"], line, "r2_eur_ttc_year")
        rows.append((line, NetworkTariff("heat", network, valid_from, valid_to, r1 / 1000, r2, basis, example,
                                         _source(row, line), f"{network} R1 {r1} €/MWh, R2 {r2} €/yr per {basis}")))
    return _versions(rows)


def parse_water_csv(content: str | bytes) -> list[NetworkTariff]:
    """A water tariff file shaped like data/water_tariffs.csv: per operator, versions that do not overlap."""
    rows = []
    for line, row in _read_rows(content, WATER_COLUMNS):
        valid_from, valid_to, example = _validity(row, line)
        operator = row["operator"].strip()
        price = _decimal(row["price_eur_ttc_m3"], line, "price_eur_ttc_m3")
        subscription = _decimal(row["subscription_eur_ttc_year"], line, "subscription_eur_ttc_year")
        rows.append((line, NetworkTariff("water", operator, valid_from, valid_to, price / 1000, subscription,
                                         "meter", example, _source(row, line),
                                         f"{operator} {price} €/m3, {subscription} €/yr")))
    return _versions(rows)


def gas_profile(annual_kwh: float | int | str) -> str:
    """The CRE profile for a yearly consumption in kWh PCS (or a profile name, returned as is)."""
    if isinstance(annual_kwh, str):
        if annual_kwh not in GAS_BANDS:
            raise TariffNotFound(f"unknown gas band {annual_kwh!r}", code="gas_band_unknown")
        return annual_kwh
    if annual_kwh < 0:
        raise TariffNotFound("annual consumption must be >= 0", code="gas_band_unknown")
    for profile, (low, high) in GAS_BANDS.items():
        if low <= annual_kwh < high:
            return profile
    raise TariffNotFound(f"{annual_kwh} kWh/yr is above the residential benchmark bands",
                         code="gas_band_unknown")


@dataclass(frozen=True)
class Catalogue:
    electricity_tariffs: tuple[ElectricityTariff, ...]
    gas_tariffs: tuple[GasTariff, ...]
    network_tariffs: tuple[NetworkTariff, ...] = ()
    _electricity_index: dict = field(default_factory=dict, repr=False, compare=False)
    _gas_index: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        for tariff in sorted(self.electricity_tariffs, key=lambda t: t.valid_from):
            starts, versions = self._electricity_index.setdefault((tariff.option, tariff.kva), ([], []))
            starts.append(tariff.valid_from)
            versions.append(tariff)
        for gas in sorted(self.gas_tariffs, key=lambda t: t.valid_from):
            starts, versions = self._gas_index.setdefault(gas.profile, ([], []))
            starts.append(gas.valid_from)
            versions.append(gas)

    @classmethod
    def from_csv(cls, electricity: str | bytes, gas: str | bytes, heat: str | bytes | None = None,
                 water: str | bytes | None = None) -> "Catalogue":
        heat = heat if heat is not None else (DATA_DIR / "heat_tariffs.csv").read_bytes()
        water = water if water is not None else (DATA_DIR / "water_tariffs.csv").read_bytes()
        return cls(tuple(parse_electricity_csv(electricity)), tuple(parse_gas_csv(gas)),
                   tuple(parse_heat_csv(heat)) + tuple(parse_water_csv(water)))

    def network(self, energy: str, day: date) -> NetworkTariff:
        """The heat or water tariff in force on the day (the first network listed for the energy)."""
        for t in self.network_tariffs:
            if t.energy == energy and t.valid_from <= day and (t.valid_to is None or day <= t.valid_to):
                return t
        raise TariffNotFound(f"no {energy} tariff in force on {day.isoformat()}")

    @classmethod
    def bundled(cls) -> "Catalogue":
        return _bundled()

    def with_electricity_csv(self, content: str | bytes) -> "Catalogue":
        """A new catalogue whose electricity tariffs come from an uploaded file (validated first)."""
        return replace(self, electricity_tariffs=tuple(parse_electricity_csv(content)),
                       _electricity_index={}, _gas_index={})

    def with_gas_csv(self, content: str | bytes) -> "Catalogue":
        return replace(self, gas_tariffs=tuple(parse_gas_csv(content)), _electricity_index={}, _gas_index={})

    def electricity(self, day: date, option: str, kva: int) -> ElectricityTariff:
        option = option.upper()
        entry = self._electricity_index.get((option, kva))
        if entry is None:
            raise TariffNotFound(f"no {option} tariff for {kva} kVA in the catalogue")
        starts, versions = entry
        i = bisect_right(starts, day) - 1
        if i < 0 or (versions[i].valid_to is not None and versions[i].valid_to < day):
            raise TariffNotFound(f"no {option} {kva} kVA tariff in force on {day.isoformat()}")
        return versions[i]

    def gas(self, day: date, annual_kwh_band: float | int | str) -> GasTariff:
        """The benchmark for the day's month; after the last known month the last one, with
        `carried_forward_from` set so that callers mark the price as estimated."""
        profile = gas_profile(annual_kwh_band)
        entry = self._gas_index.get(profile)
        if entry is None:
            raise TariffNotFound(f"no gas benchmark for {profile} in the catalogue")
        starts, versions = entry
        i = bisect_right(starts, day) - 1
        if i < 0:
            raise TariffNotFound(f"no gas benchmark for {profile} on {day.isoformat()}")
        tariff = versions[i]
        if day > tariff.valid_to:
            if i < len(versions) - 1:
                raise TariffNotFound(f"no gas benchmark for {profile} in {day:%Y-%m} (gap in the data)")
            return replace(tariff, carried_forward_from=tariff.valid_from)
        return tariff

    def electricity_versions(self, option: str, kva: int) -> list[ElectricityTariff]:
        entry = self._electricity_index.get((option.upper(), kva))
        return list(entry[1]) if entry else []


@lru_cache(maxsize=1)
def _bundled() -> Catalogue:
    return Catalogue.from_csv((DATA_DIR / "trve.csv").read_bytes(),
                              (DATA_DIR / "gas_benchmark.csv").read_bytes())
