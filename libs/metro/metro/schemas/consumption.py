"""Bodies of the consumption service: series, contracts, catalogues, comparisons, totals and the summary."""
from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

from metro.schemas import Strict


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
    energy: Literal["electricity", "gas"]
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


class PeerMetric(BaseModel):
    value: float
    median: float
    efficient: float
    rank: int
    percentile: float
    group_size: int


class Comparison(BaseModel):
    meter_id: uuid.UUID
    energy: str
    start: dt.date
    end: dt.date
    wh: int | None = None
    days_missing: int = 0
    available: bool
    reason: str | None = None
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


class Summary(BaseModel):
    meters: list[MeterSummary]
    alerts: list[AnomalyAlert]
