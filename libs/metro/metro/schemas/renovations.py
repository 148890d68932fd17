"""Renovations declared on a building or a dwelling, and their weather-normalised consumption 12 months before
against 12 months after, one by one for their holder and per programme for the Métropole's analysts."""
from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

from metro.schemas import Strict


class Works(StrEnum):
    """The fixed list of kinds of works."""
    wall_insulation = "wall_insulation"
    roof_insulation = "roof_insulation"
    floor_insulation = "floor_insulation"
    windows = "windows"
    heating_system = "heating_system"
    ventilation = "ventilation"
    comprehensive = "comprehensive"  # rénovation globale


class RenovationCreate(Strict):
    day: dt.date = Field(description="the day the works ended; its month belongs to neither side")
    works: Works
    programme: str | None = Field(None, min_length=1, max_length=120,
                                  description="the programme the works belong to (e.g. « Mur|Mur 2 »)")


class RenovationDeclared(BaseModel):
    id: uuid.UUID
    day: dt.date
    works: Works
    programme: str | None
    building_id: uuid.UUID | None
    meters: int = Field(description="the meters of the building or dwelling the figures are read from")


Confidence = Literal["high", "medium", "low", "none"]


class Side(BaseModel):
    """12 whole months on one side of the works."""
    start: dt.date
    end: dt.date  # exclusive
    kwh: float | None = Field(description="weather-normalised, scaled to the whole 12 months; None without data")
    completeness: float = Field(description="share of the months' days with a reading, 0 to 1")


class RenovationFigures(BaseModel):
    id: uuid.UUID
    day: dt.date
    works: Works
    programme: str | None
    building_id: uuid.UUID | None
    before: Side
    after: Side
    change_pct: float | None
    confidence: Confidence = Field(description="high: both sides ≥ 90 % complete; medium: ≥ 50 %; low: less; "
                                               "none: one side has no reading")


ProgrammeSecret = Literal["too_few_renovations", "dominant_renovation"]


class ProgrammeFigures(BaseModel):
    programme: str
    declared: int = Field(description="renovations declared in the programme")
    measured: int | None = Field(description="of them, those with both sides ≥ 90 % complete (the figures' base)")
    secret: ProgrammeSecret | None = Field(description="why the figures are withheld (statistical secrecy)")
    before_kwh: float | None
    after_kwh: float | None
    change_pct: float | None
    completeness: float | None = Field(description="mean completeness of both sides of the measured renovations")


class Programmes(BaseModel):
    min_renovations: int
    max_share: float
    programmes: list[ProgrammeFigures]
