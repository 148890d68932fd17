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


class SpreadsheetRequest(Strict):
    year: int
    step: Literal["month", "year"] = "month"
    format: Literal["xlsx", "csv"] = "xlsx"
    meters: list[PortfolioMeter] = Field(max_length=20_000)
