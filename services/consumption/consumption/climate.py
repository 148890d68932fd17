"""Heating degree days (DJU) and greenhouse-gas emission factors.

Degree days: the Météo-France (simple mean) and COSTIC formulas, base 18 °C, from daily TN/TX. The bundled
`dju_grenoble.csv` has no observed values (NOT FOUND in the sources): its blank cells are reported as gaps,
never as zero. An administrator uploads a filled file of the same shape (PUT /api/v1/admin/degree-days); the
comparison then normalises the months whose observed value and normal are both given. The DPE 3CL conventional
climate (zone H1c, < 400 m) is available as a reference year; it is base 19 over heating hours only, so it must
not be mixed with observed base-18 DJU — use it as the reference of a ratio computed on the same basis, or not
at all.

Weather normalisation model (used by comparison and anomalies):
    E_norm = E_base + E_heat × DJU_reference / DJU_period,  E_heat = heating_share × E
the heating share is the part of the energy that varies with the weather; the base part (hot water,
cooking, appliances) is left untouched. With no measured split a documented default share is used.

CO2e: kgCO2e = kWh × factor. Default scheme "footprint" (Base Empreinte, applied to billed kWh: electricity
0.0461 all uses 2025 mix, gas 0.215 per kWh PCS, district heating the network's DPE life-cycle content);
scheme "dpe" gives the regulatory 3CL factors by usage.
"""

from __future__ import annotations

import calendar
import csv
import io
import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from functools import cached_property, lru_cache
from typing import Iterable, Mapping

from consumption.tariffs import DATA_DIR

BASE_TEMPERATURE_C = 18.0


def dj_meteo(tn: float, tx: float, base: float = BASE_TEMPERATURE_C) -> float:
    return max(0.0, base - (tn + tx) / 2)


def dj_costic(tn: float, tx: float, base: float = BASE_TEMPERATURE_C) -> float:
    if tx <= base:
        return base - (tn + tx) / 2
    if tn >= base:
        return 0.0
    return (base - tn) * (0.08 + 0.42 * (base - tn) / (tx - tn))


def daily_degree_days(temperatures: Iterable[tuple[date, float | None, float | None]],
                      method: str = "meteo", base: float = BASE_TEMPERATURE_C) -> dict[date, float | None]:
    """DJ per day from (day, TN, TX); a missing temperature is a gap (None), never zero."""
    formula = {"meteo": dj_meteo, "costic": dj_costic}[method]
    return {day: (None if tn is None or tx is None else round(formula(tn, tx, base), 3))
            for day, tn, tx in temperatures}


def normalise_heating(energy: float, period_dju: float, reference_dju: float, heating_share: float) -> float:
    """Weather-normalised energy: only the heating share is scaled by reference / period degree days."""
    if period_dju <= 0:
        return energy
    heat = energy * heating_share
    return energy - heat + heat * reference_dju / period_dju


@dataclass(frozen=True)
class DegreeDayRow:
    station_id: str
    station_name: str
    kind: str
    period: str
    base_c: float
    value: float | None
    source: str


DEGREE_DAY_COLUMNS = ("station_id", "station_name", "kind", "period", "base_c", "dju_value", "status_source")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# kind → how its period is written: a calendar month (actual), a month of the year (normals, conventional).
DEGREE_DAY_KINDS = {"actual": r"\d{4}-(0[1-9]|1[0-2])", "normal_1991_2020": r"(0[1-9]|1[0-2])",
                    "3cl_dh19_conventional": r"(0[1-9]|1[0-2])"}


class DegreeDayCsvError(ValueError):
    """A rejected degree-day file; `code` is stable, the message names the line."""

    def __init__(self, code: str, detail: str, line: int | None = None):
        super().__init__(f"line {line}: {detail}" if line else detail)
        self.code, self.detail, self.line = code, str(self), line


# The periods whose degree days a catalogue version keeps computed (a few per day in use; requests may name others).
PERIODS_KEPT = 4096


@dataclass(frozen=True)
class DegreeDays:
    rows: tuple[DegreeDayRow, ...]

    @classmethod
    def load(cls, content: str | bytes | None = None) -> "DegreeDays":
        """The bundled file, or an uploaded one in the same shape (validated: a blank value is a gap)."""
        if content is None:
            content = (DATA_DIR / "dju_grenoble.csv").read_text("utf-8")
        if isinstance(content, bytes):
            try:
                content = content.decode("utf-8-sig")
            except UnicodeDecodeError:
                raise DegreeDayCsvError("degree_days_csv_encoding", "the file is not UTF-8 text") from None
        reader = csv.DictReader(io.StringIO(content))
        missing = [c for c in DEGREE_DAY_COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise DegreeDayCsvError("degree_days_csv_missing_column", f"missing column(s): {', '.join(missing)}")
        rows, seen = [], set()
        for line, row in enumerate(reader, start=2):
            # A short or long line (DictReader fills None, or keys the extra cells by None), and control
            # characters (PostgreSQL refuses NUL in text; no name or period carries one) are refused by line.
            if None in row or any(v is None for v in row.values()):
                raise DegreeDayCsvError("degree_days_csv_invalid_row",
                                        f"{len(DEGREE_DAY_COLUMNS)} cells expected on each line", line)
            if any(_CONTROL.search(v) for v in row.values()):
                raise DegreeDayCsvError("degree_days_csv_control_character", "a control character in a cell", line)
            if not any(v.strip() for v in row.values()):
                continue
            kind, period = (row["kind"] or "").strip(), (row["period"] or "").strip()
            if kind not in DEGREE_DAY_KINDS:
                raise DegreeDayCsvError("degree_days_csv_invalid_kind", f"unknown kind {kind!r}", line)
            if not re.fullmatch(DEGREE_DAY_KINDS[kind], period):
                raise DegreeDayCsvError("degree_days_csv_invalid_period", f"period {period!r} for kind {kind}",
                                        line)
            try:
                raw = (row["dju_value"] or "").strip()
                value, base = (float(raw) if raw else None), float(row["base_c"])
            except ValueError:
                raise DegreeDayCsvError("degree_days_csv_invalid_number", "base_c and dju_value are numbers",
                                        line) from None
            if value is not None and not 0 <= value < 2000:
                raise DegreeDayCsvError("degree_days_csv_invalid_number", f"{value} degree days in a month", line)
            key = (row["station_id"].strip(), kind, period)
            if key in seen:
                raise DegreeDayCsvError("degree_days_csv_duplicate", f"{key} appears twice", line)
            seen.add(key)
            rows.append(DegreeDayRow(key[0], row["station_name"], kind, period, base, value, row["status_source"]))
        return cls(tuple(rows))

    def period_and_reference(self, station_id: str, start: date, end: date) -> tuple[float, float] | None:
        """(observed DJU, normal DJU) over [start, end), each month's value spread evenly over its days; None
        while a month of either is a gap (no normalisation rather than a wrong one). Kept per period for this
        catalogue version: a summary or a comparison asks for the same few periods at every request."""
        key = (station_id, start, end)
        if key not in self._periods:
            if len(self._periods) >= PERIODS_KEPT:  # periods come from requests: the memory stays bounded
                self._periods.clear()
            self._periods[key] = self._period_and_reference(station_id, start, end)
        return self._periods[key]

    @cached_property
    def _periods(self) -> dict[tuple[str, date, date], tuple[float, float] | None]:
        return {}

    def _period_and_reference(self, station_id: str, start: date, end: date) -> tuple[float, float] | None:
        observed = self.daily_from_monthly(station_id, start, end)
        normal = {day: self.monthly(station_id, f"{day:%m}", "normal_1991_2020") for day in observed}
        if not observed or any(v is None for v in observed.values()) or any(v is None for v in normal.values()):
            return None
        normal_days = sum(v / calendar.monthrange(d.year, d.month)[1] for d, v in normal.items())
        return sum(observed.values()), normal_days

    @cached_property
    def _values(self) -> dict[tuple[str, str, str], float | None]:
        """(station, kind, period) → value, built once per catalogue version (each comparison looks up every day
        of its period)."""
        return {(r.station_id, r.kind, r.period): r.value for r in self.rows}

    def monthly(self, station_id: str, month: str, kind: str = "actual") -> float | None:
        return self._values.get((station_id, kind, month))

    def heating_profile(self, station_id: str, start: date, end: date) -> tuple[dict[date, float], float]:
        """Degree days per day over [start, end) and in a typical year, for sharing a known amount of energy
        among days (a shape, not a normalisation): each month takes its observed value, else its 1991-2020
        normal, else the DPE conventional month (base 19 over heating hours), spread evenly over its days. The
        year is the normals' when all twelve are given, else the conventional climate's."""
        conventional = {m: self.conventional_month(m).value or 0.0 for m in range(1, 13)}
        normals = {m: self.monthly(station_id, f"{m:02d}", "normal_1991_2020") for m in range(1, 13)}
        out: dict[date, float] = {}
        day = start
        while day < end:
            month = self.monthly(station_id, f"{day:%Y-%m}")
            if month is None:
                month = normals[day.month] if normals[day.month] is not None else conventional[day.month]
            out[day] = month / calendar.monthrange(day.year, day.month)[1]
            day += timedelta(days=1)
        year = (sum(v for v in normals.values() if v is not None) if None not in normals.values()
                else sum(conventional.values()))
        return out, year

    def gaps(self, kind: str = "actual") -> list[tuple[str, str]]:
        return [(r.station_id, r.period) for r in self.rows if r.kind == kind and r.value is None]

    def conventional_month(self, month: int) -> DegreeDayRow:
        """DPE 3CL H1c conventional month (base 19 over heating hours; see module doc)."""
        key = f"{month:02d}"
        for row in self.rows:
            if row.kind == "3cl_dh19_conventional" and row.period == key:
                return row
        raise KeyError(key)

    def daily_from_monthly(self, station_id: str, start: date, end: date,
                           kind: str = "actual") -> dict[date, float | None]:
        """Spread monthly DJU evenly over the month's days for [start, end); gaps stay None.
        Only for when daily TN/TX are not available: it flattens cold snaps within a month."""
        out: dict[date, float | None] = {}
        day = start
        while day < end:
            value = self.monthly(station_id, f"{day:%Y-%m}", kind)
            out[day] = None if value is None else value / calendar.monthrange(day.year, day.month)[1]
            day += timedelta(days=1)
        return out


@dataclass(frozen=True)
class EmissionFactor:
    energy: str
    usage: str
    kg_per_kwh: Decimal
    unit_basis: str
    reference: str
    source: str


# (energy, usage, unit_basis prefix, reference prefix) picked from emission_factors.csv per scheme.
_FOOTPRINT = {
    "electricity": ("electricite", "mix_moyen_consommation", "Base Empreinte Électricité 2025"),
    "gas": ("gaz_naturel", "all uses", "Base Empreinte Gaz naturel"),
    "heat_network": ("reseau_chaleur_national", "chauffage", "FEDENE enquête réseaux de chaleur 2024"),
    "fuel_oil": ("fioul_domestique", "chauffage", "Base Empreinte Fioul"),
    "wood_pellets": ("bois_granules", "poele", "E+C-"),
    "wood_logs": ("bois_buches", "poele", "E+C-"),
    "water": ("eau_potable", "distribution", "EXAMPLE"),
}
_DPE = {
    "electricity": ("electricite", "chauffage", "DPE 3CL"),
    "gas": ("gaz_naturel", "chauffage/ECS/cuisson", "DPE 3CL"),
    "heat_network": ("reseau_chaleur_non_repertorie", "chauffage", "DPE default"),
    "fuel_oil": ("fioul_domestique", "chauffage", "DPE 3CL"),
    "wood_pellets": ("bois_granules", "chauffage", "DPE 3CL"),
    "wood_logs": ("bois_buches", "chauffage", "DPE 3CL"),
}
GAS_PCS_PER_PCI = Decimal("1.11")


@dataclass(frozen=True)
class EmissionFactors:
    factors: tuple[EmissionFactor, ...]

    @classmethod
    def load(cls, content: str | None = None) -> "EmissionFactors":
        text = content if content is not None else (DATA_DIR / "emission_factors.csv").read_text("utf-8")
        return cls(tuple(
            EmissionFactor(r["energy"], r["usage_or_scope"], Decimal(r["value"]), r["unit_basis"],
                           r["reference_version"], r["source"])
            for r in csv.DictReader(io.StringIO(text))
        ))

    def factor(self, energy: str, scheme: str = "footprint",
               heat_network_id: str | None = None) -> EmissionFactor:
        """The factor for billed kWh of `energy` (electricity, gas, heat_network, fuel_oil, wood_*).

        For a district-heating network with a DPE id (e.g. 3802C, Grenoble CCIAG) the latest edition of
        that network's life-cycle CO2 content is used. The DPE gas factor is per kWh PCI; it is converted
        here to kWh PCS (÷ 1.11, arrêté du 15 septembre 2006) because meters bill PCS.
        """
        if energy == "heat_network" and heat_network_id:
            matching = [f for f in self.factors if f.energy.endswith(heat_network_id)]
            if matching:
                return matching[-1]
        table = {"footprint": _FOOTPRINT, "dpe": _DPE}[scheme]
        if energy not in table:
            raise KeyError(f"no emission factor for energy {energy!r}")
        code, usage, reference = table[energy]
        for f in self.factors:
            if f.energy == code and f.usage.startswith(usage) and f.reference.startswith(reference):
                if scheme == "dpe" and energy == "gas":
                    per_pcs = (f.kg_per_kwh / GAS_PCS_PER_PCI).quantize(Decimal("0.0001"), ROUND_HALF_EVEN)
                    return EmissionFactor(f.energy, f.usage, per_pcs,
                                          "kgCO2e/kWh PCS (converted from PCI ÷ 1.11)", f.reference, f.source)
                return f
        raise KeyError(f"no emission factor for {energy!r} in scheme {scheme!r}")


@lru_cache(maxsize=1)
def bundled_emission_factors() -> EmissionFactors:
    return EmissionFactors.load()


def co2e_days(readings: Iterable[tuple[date, int | None]], energy: str, *, scheme: str = "footprint",
              heat_network_id: str | None = None,
              factors: EmissionFactors | None = None,
              ) -> tuple[list[tuple[date, Decimal | None]], EmissionFactor]:
    """kgCO2e per day (3 decimals, i.e. grams) from Wh per day, with the factor used (its source included)."""
    factor = (factors or bundled_emission_factors()).factor(energy, scheme, heat_network_id)
    grams = Decimal("0.001")
    return ([(day, None if wh is None else (Decimal(wh) / 1000 * factor.kg_per_kwh).quantize(grams))
             for day, wh in readings], factor)


def municipalities() -> Mapping[str, dict[str, str]]:
    text = (DATA_DIR / "metro_municipalities.csv").read_text("utf-8")
    return {r["insee_code"]: r for r in csv.DictReader(io.StringIO(text))}
