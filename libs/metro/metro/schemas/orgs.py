"""Bodies of the consent service's organisations (municipalities, landlords, companies): their members, sites
and buildings, and the meters attached to the buildings (held by the organisation, through the same consent
channels as residents' meters)."""
from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

from metro.schemas import Strict
from metro.schemas.consent import HeatingEnergy, MeterView


class OrgKind(StrEnum):
    municipality = "municipality"
    landlord = "landlord"
    company = "company"


class OrgRole(StrEnum):
    """A manager adds members, buildings and meters; a viewer reads."""
    manager = "manager"
    viewer = "viewer"


class UseType(StrEnum):
    """The fixed list of building uses the annual report groups by."""
    school = "school"
    gymnasium = "gymnasium"
    offices = "offices"
    housing = "housing"
    nursery = "nursery"
    town_hall = "town_hall"
    pool = "pool"
    other = "other"


class OrganisationCreate(Strict):
    name: str = Field(min_length=2, max_length=160)
    kind: OrgKind
    siren: str | None = Field(default=None, pattern=r"^\d{9}$", description="the organisation's SIREN number")


class OrgMember(BaseModel):
    account_id: uuid.UUID
    role: OrgRole
    added_at: dt.datetime
    email: str | None = Field(default=None, description="filled by the gateway, which holds the accounts")


class Organisation(BaseModel):
    id: uuid.UUID
    name: str
    kind: OrgKind
    siren: str | None
    created_at: dt.datetime
    my_role: OrgRole = Field(description="the caller's role in the organisation")
    members: list[OrgMember]


class OrgMembership(Strict):
    """Internal: the gateway has resolved the e-mail address to an account."""
    account_id: uuid.UUID
    role: OrgRole


class BuildingCreate(Strict):
    name: str = Field(min_length=1, max_length=160)
    site: str | None = Field(default=None, max_length=160, description="the site grouping several buildings")
    street: str = Field(min_length=1, max_length=200)
    postal_code: str = Field(pattern=r"^\d{5}$")
    municipality: str = Field(min_length=1, max_length=100)
    insee_code: str = Field(pattern=r"^\d[\dAB]\d{3}$")
    use_type: UseType
    heated_area_m2: float = Field(gt=5, le=500_000, description="heated floor area, m²")
    construction_year: int | None = Field(default=None, ge=1500, le=2100)
    heating_energy: HeatingEnergy | None = None


class Building(BuildingCreate):
    id: uuid.UUID
    org_id: uuid.UUID
    created_at: dt.datetime
    meters: list[MeterView] = Field(default_factory=list)


class PortfolioMeter(BaseModel):
    """Internal (gateway → consumption): one meter of the organisation with its building, as consent lists it."""
    meter_id: uuid.UUID
    building_id: str
    building: str
    site: str | None
    use_type: UseType
    heated_area_m2: float
    identifier: str
    label: str | None
    energy: str
    heating_energy: str | None = None


class SpreadsheetRequest(Strict):
    year: int
    step: Literal["month", "year"] = "month"
    format: Literal["xlsx", "csv"] = "xlsx"
    meters: list[PortfolioMeter] = Field(max_length=20_000)


class ReportRequest(Strict):
    year: int
    meters: list[PortfolioMeter] = Field(max_length=20_000)


class UseTypeFigures(BaseModel):
    use_type: UseType | Literal["all"]
    buildings: int
    floor_area_m2: float
    kwh: float
    kwh_m2: float | None
    kwh_m2_normalised: float | None = Field(description="heating energy weather-normalised with the year's degree days")
    eur: float | None
    co2e_kg: float
    change_pct: float | None = Field(description="kWh against the year before, on the buildings measured both years")
    completeness_pct: int


class BuildingFigures(BaseModel):
    building_id: str
    name: str
    site: str | None
    use_type: UseType
    floor_area_m2: float
    kwh: float
    kwh_m2: float | None
    kwh_m2_normalised: float | None
    type_median_kwh_m2: float | None
    above_median_pct: float | None = Field(description="how far above its type's median kWh/m² (normalised), %")
    completeness_pct: int


class AnnualReport(BaseModel):
    year: int
    use_types: list[UseTypeFigures]
    totals: UseTypeFigures | None
    furthest_above_median: list[BuildingFigures] = Field(
        description="the 10 buildings furthest above their type's median")
    degree_days: tuple[float, float] | None = Field(description="(the year's, the reference's), when known")


class ExcessRequest(Strict):
    """Internal (gateway or notify → consumption): the anomaly episodes of these meters between two days."""
    start: dt.date
    end: dt.date = Field(description="exclusive")
    meters: list[PortfolioMeter] = Field(max_length=20_000)


class ExcessEpisode(BaseModel):
    kind: Literal["day", "week"]
    start: dt.date
    end: dt.date = Field(description="inclusive")
    observed_kwh: float
    expected_kwh: float
    excess_kwh: float
    excess_eur: float | None = Field(description="the excess at the episode days' own price, when priced")


class ExcessMeter(BaseModel):
    meter_id: uuid.UUID
    identifier: str
    label: str | None
    energy: str
    episodes: list[ExcessEpisode]


class ExcessBuilding(BaseModel):
    building_id: str
    name: str
    site: str | None
    use_type: UseType
    meters: list[ExcessMeter]
    excess_kwh: float
    excess_eur: float | None


class OrgExcess(BaseModel):
    """Excess tracking: per building, the meters whose consumption was well above their own baseline (anomaly
    episodes touching the period); buildings and meters without any are left out."""
    start: dt.date
    end: dt.date = Field(description="exclusive")
    buildings: list[ExcessBuilding]
