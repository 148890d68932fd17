"""Bodies of the consumption service: series, contracts, catalogues, comparisons, totals and the summary."""
from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

from metro.schemas import IsoDate, Strict


class Step(StrEnum):
    day = "day"
    week = "week"
    month = "month"
    year = "year"


class ConsumptionPoint(BaseModel):
    period: dt.date
    wh: int | None
    eur: str | None = None
    quality: str
    days: int = 1
    days_missing: int = 0
    co2e_g: int | None = None


class ConsumptionSeries(BaseModel):
    meter_id: uuid.UUID
    unit: Literal["Wh"] = "Wh"
    step: Step
    points: list[ConsumptionPoint]
    eur_estimated: bool = False
    eur_method: str | None = None


class ContractDeclaration(Strict):
    """The resident's own description of the electricity contract, used where the DSO gives none."""
    tariff_option: Literal["BASE", "HPHC", "TEMPO"]
    subscribed_kva: Literal[3, 6, 9, 12, 15, 18, 24, 30, 36]
    offpeak_hours: str | None = Field(default=None, max_length=80,
                                      pattern=r"^[0-9Hh:;,\- ()A-Za-z]*$",
                                      description="e.g. '22:00-06:00' or '01:30-08:00;12:30-14:00'")
    supplier_offer: str | None = Field(default=None, max_length=120,
                                       description="the supplier and offer named on the bill, e.g. 'EDF Tarif Bleu'; "
                                                   "euros are computed at the regulated tariff (TRVE)")


class ContractView(BaseModel):
    meter_id: uuid.UUID
    origin: Literal["dso", "resident", "assumed"]
    tariff_option: str
    subscribed_kva: int | None = None
    offpeak_hours: str | None = None
    offpeak_hours_per_day: float | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    status: str | None = None
    supplier_offer: str | None = Field(default=None, description="as the resident declared it")


class TariffCatalogueVersion(BaseModel):
    energy: Literal["electricity", "gas", "heat", "water"]
    version: int
    source: str
    rows: int
    created_at: dt.datetime


class DegreeDaysVersion(BaseModel):
    """A stored degree-day file (monthly DJU per station, observed and 1991-2020 normals); the latest is in force."""
    version: int
    source: str
    rows: int
    created_at: dt.datetime


class CsvProblem(BaseModel):
    """One reason a catalogue file is refused, at its line (1 = the header) and column where known."""
    line: int | None
    column: str | None = None
    code: str = Field(description="the stable code the upload would be refused with (`tariff_csv_*`, "
                                  "`degree_days_csv_*`)")
    detail: str


class CsvLine(BaseModel):
    line: int
    cells: list[str]


class CataloguePreview(BaseModel):
    """What an upload would store, checked without storing it: every problem found, line by line (each line
    refused is set aside and the file checked again, up to `MAX_PROBLEMS`), and the file's first lines."""
    valid: bool
    rows: int = Field(description="rows the catalogue would hold (when valid), else data lines in the file")
    current_rows: int | None = Field(description="rows of the version in force, to compare")
    columns: list[str]
    lines: list[CsvLine] = Field(description="the first lines of the file, as read")
    errors: list[CsvProblem]


class PeerMetric(BaseModel):
    value: float
    median: float = Field(description="the group's median")
    efficient: float = Field(description="the best fifth of the group consume at most this (20th percentile)")
    rank: int = Field(description=(
        "1 + the homes of the group below this one (1: the lowest). In a group of more than 1 000 homes, read "
        "from its quantiles at every 0.1 %: within a thousandth of the group"))
    percentile: float = Field(description="100 × (rank − 1) / (group_size − 1): 0 the lowest, 100 the highest")
    group_size: int


class Comparison(BaseModel):
    meter_id: uuid.UUID
    energy: str
    start: dt.date
    end: dt.date
    wh: int | None = None
    days_missing: int = 0
    available: bool
    reason: str | None = Field(default=None, description=(
        "why `available` is false: `dwelling_not_described` (no description of the home yet), "
        "`profile_incomplete` (its heating energy is not given), `too_few_peers` (fewer than 10 similar homes), "
        "`no_consumption` (no reading over the period), `too_many_missing_days` (over a tenth of its days "
        "missing), `peer_statistics_pending` (the period's peer statistics are being computed: ask again in a few "
        "minutes)"))
    level: int | None = None
    criteria: list[str] = []
    group_size: int = 0
    weather_normalised: bool = False
    kwh: PeerMetric | None = None
    kwh_per_m2: PeerMetric | None = None
    kwh_per_occupant: PeerMetric | None = None
    last_year_wh: int | None = None
    last_year_days_missing: int | None = None


class ToDateTotals(BaseModel):
    meter_id: uuid.UUID
    energy: str
    as_of: dt.date | None
    month_wh: int = 0
    month_eur: str | None = None
    month_days: int = 0
    month_days_missing: int = 0
    month_partial: bool = False
    forecast_wh: int | None = None
    forecast_eur: str | None = None
    forecast_method: str | None = None
    year_wh: int = 0
    year_eur: str | None = None
    year_days: int = 0
    year_days_missing: int = 0
    year_partial: bool = False
    eur_estimated: bool = False
    eur_method: str | None = None
    month_co2e_g: int | None = Field(default=None, description="grams of CO2e of the month to date (null for an "
                                                                     "energy without an emission factor)")
    forecast_co2e_g: int | None = None
    co2e_factor: str | None = Field(default=None, description="the emission factor used: kgCO2e per kWh and its "
                                                                "reference (data/emission_factors.csv)")
    last_year_month_wh: int | None = Field(default=None, description=(
        "the same days of the same month last year (1st to the same day); null when last year has none"))
    last_year_month_eur: str | None = None
    last_year_month_days_missing: int | None = None
    last_year_weather_normalised: bool = Field(default=False, description=(
        "whether `last_year_month_wh_normalised` is given: degree days of both periods are known and the home "
        "is heated with this energy"))
    last_year_month_wh_normalised: int | None = Field(default=None, description=(
        "last year's same days as if they had had this year's weather (heating share scaled by degree days)"))


class AnomalyAlert(BaseModel):
    meter_id: uuid.UUID
    episode_key: str
    kind: str
    start: dt.date
    end: dt.date
    expected_wh: int
    observed_wh: int
    detected_at: dt.datetime


class MeterSummary(BaseModel):
    meter_id: uuid.UUID
    energy: str
    last_7_days: ConsumptionSeries | None = None
    totals: ToDateTotals
    comparison: Comparison | None = None
    computed_at: dt.datetime | None = Field(default=None, description=(
        "when the last days and totals were computed: by the pricing worker after it priced the meter's days, or at "
        "this request (the comparison and the alerts are read at each request)"))


class Summary(BaseModel):
    meters: list[MeterSummary]
    alerts: list[AnomalyAlert]


# --- manual statements: meters no channel reads (older meters, fuel oil, wood) ---------------------------------

StatementUnit = Literal["kWh", "m3", "L", "stere", "kg"]


class StatementCreate(Strict):
    """An index read on the meter on `taken_on` (electricity and heat in kWh, gas and water in m³), or a
    delivery (fuel oil in litres, wood in stères of logs or kg of pellets) received that day."""
    taken_on: IsoDate
    index: Decimal | None = Field(default=None, ge=0, lt=Decimal("1e10"), decimal_places=3,
                                  description="the meter's index; for an index meter")
    quantity: Decimal | None = Field(default=None, gt=0, lt=Decimal("1e6"), decimal_places=3,
                                     description="the quantity delivered; for fuel oil and wood")
    unit: StatementUnit | None = Field(default=None, description=(
        "defaults to the energy's own (kWh, m3, L); wood needs `stere` or `kg`"))
    conversion_coefficient: Decimal | None = Field(default=None, ge=Decimal("8"), le=Decimal("14"),
                                                   decimal_places=3, description=(
        "gas only: kWh per m³ as printed on the bill; defaults to the previous statement's"))
    meter_change: bool = Field(default=False, description=(
        "the meter was exchanged since the previous statement: `index` is the new meter's"))
    old_meter_last_index: Decimal | None = Field(default=None, ge=0, lt=Decimal("1e10"), decimal_places=3,
                                                 description="the old meter's last index, when known")
    new_meter_first_index: Decimal | None = Field(default=None, ge=0, lt=Decimal("1e10"), decimal_places=3,
                                                  description="the new meter's index when it was fitted (0 if unset)")
    confirmed: bool = Field(default=False, description=(
        "the resident confirms a statement the accuracy control found implausible (409 `statement_above_*` / "
        "`statement_below_*`)"))


class StatementView(BaseModel):
    id: uuid.UUID
    meter_id: uuid.UUID
    taken_on: dt.date
    kind: Literal["index", "delivery"]
    value: Decimal
    unit: StatementUnit
    conversion_coefficient: Decimal | None = None
    meter_change: bool = False
    old_meter_last_index: Decimal | None = None
    new_meter_first_index: Decimal | None = None
    amount: int | None = Field(default=None, description=(
        "what was used since the previous statement, in `amount_unit`; null for the first statement, or after "
        "a meter change whose old meter's last index is unknown"))
    amount_unit: Literal["Wh", "L"] = Field(default="Wh", description="litres for water, Wh otherwise")
    days: int | None = Field(default=None, description="days since the previous statement")
    confirmed_check: str | None = Field(default=None, description=(
        "the accuracy control's finding the resident confirmed, if any"))
    created_at: dt.datetime


# --- what the actions of the three pathways read of an account's consumption -----------------------------------

class EnergyUse(BaseModel):
    """An energy of the account over its last 365 days (all its shown meters of that energy)."""
    energy: str
    kwh_year: float | None = Field(default=None, description=(
        "the year's use, scaled to 365 days from the days with a reading; null under 28 such days"))
    days: int = 0
    eur_per_kwh: float | None = Field(default=None, description=(
        "the price of one more kWh over the period (energy part of the tariff, subscription excluded)"))
    winter_share: float | None = Field(default=None, description="share of the use in November to March")
    anomalies_90_days: int = 0


class AccountUses(BaseModel):
    heating_energy: str | None = None
    hot_water_energy: str | None = None
    dwelling_type: str | None = None
    heating_mode: str | None = None
    energies: list[EnergyUse]


class MeasuredEffect(BaseModel):
    """The account's use of one energy since a date against a baseline: the same days a year earlier, or,
    without them, as many days just before."""
    energy: str
    start: dt.date
    end: dt.date | None = None
    available: bool = False
    reason: str | None = Field(default=None, description=(
        "why there is no figure: `too_early` (under 28 days measured), `no_meter`, `missing_days`, `no_baseline`"))
    kwh: float | None = None
    baseline: Literal["last_year", "before"] | None = None
    baseline_kwh: float | None = None
    weather_normalised: bool = False
    change_pct: float | None = Field(default=None, description="(kWh − baseline) ÷ baseline × 100, normalised")


class LoadCurvePoint(BaseModel):
    """One interval: its start (local time with its offset, so DST days read unambiguously), length and average
    power; ``w`` None where the DSO sent nothing."""
    start: dt.datetime
    minutes: int
    w: int | None


class DailyMaxPower(BaseModel):
    day: dt.date
    va: int
    # The moment of the peak (Data Connect gives it; SGE's R151 does not).
    at: dt.datetime | None = None


class LoadCurveDayView(BaseModel):
    day: dt.date
    # The day's step: the DSO's, or the finest of the day when the DSO changed it (each coarser interval repeated).
    step_minutes: int | None
    points: list[LoadCurvePoint]
    # Energy over the day's points (W x duration), and the day's maximum apparent power.
    wh: int | None = None
    max_power: DailyMaxPower | None = None


class LoadCurve(BaseModel):
    meter_id: uuid.UUID
    unit: Literal["W"] = "W"
    days: list[LoadCurveDayView]


class MaxPowerSeries(BaseModel):
    meter_id: uuid.UUID
    unit: Literal["VA"] = "VA"
    points: list[DailyMaxPower]
