"""Bodies of consumption's aggregates for the Métropole's analysts: cells under statistical secrecy (a withheld
cell gives only its key and the reason: `too_few_homes`, `dominant_home`, `secondary`)."""
from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Secret = Literal["too_few_homes", "dominant_home", "secondary"]


class Quartiles(BaseModel):
    q1: float
    median: float
    q3: float
    homes: int = Field(description="homes with a surface, over which kWh/m² is computed")


class AggregateCell(BaseModel):
    """One cell: an area (or the whole Métropole) and an energy, possibly one breakdown dimension."""
    model_config = ConfigDict(extra="allow")  # the breakdown's dimension: dwelling_type, heating_energy, …
    area: str | None = Field(default=None, description="INSEE municipality code or IRIS code")
    name: str | None = None
    energy: str
    secret: Secret | None = Field(description="why the cell is withheld; null when published")
    homes: int | None
    total_kwh: int | None
    kwh_m2: Quartiles | None = Field(description="weather-normalised kWh/m² (heating energy), quartiles")
    trend_pct: float | None = Field(description="total kWh against the year before, when both are published")


class Freshness(BaseModel):
    """When the stored aggregates were computed from the rollups (by consumption's worker, after they change)."""
    computed_at: dt.datetime
    stale: bool = Field(description="rollups of the year changed since: a recomputation is waiting")


class Aggregates(Freshness):
    level: Literal["municipality", "iris"]
    year: int
    min_homes: int
    max_share: float
    cells: list[AggregateCell]
    breakdowns: list[AggregateCell] = Field(description=(
        "per area and energy, by dwelling_type, heating_energy or construction_period (one of them per cell)"))
    totals: list[AggregateCell] = Field(description="the Métropole's total per energy")


class FeatureCollection(Freshness):
    type: Literal["FeatureCollection"]
    features: list[dict[str, Any]]
