"""Bodies of the landlord statements (issue 23 item 4): the dwellings of a housing building with their share key
for the collective heating and hot water, the role of each building meter in the statements, the tenant's link
(an invitation code the tenant accepts), and the monthly statement per dwelling."""
from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

from metro.schemas import Strict


class MeterRole(StrEnum):
    """What a building meter measures for the statements: the collective heating or hot water (split between
    the dwellings by share key), one dwelling's own meter, or nothing the statements show."""
    collective_heating = "collective_heating"
    collective_hot_water = "collective_hot_water"
    dwelling = "dwelling"
    none = "none"


class DwellingCreate(Strict):
    label: str = Field(min_length=1, max_length=80, description="e.g. « Bât. A, 3e étage, porte 12 »")
    floor_area_m2: float = Field(gt=5, le=1000, description="living area, m²")
    heating_tantiemes: int | None = Field(default=None, gt=0, le=100_000, description=(
        "the dwelling's tantièmes of the collective heating; when every dwelling has some, the heating is split "
        "by them, otherwise by floor area"))
    hot_water_tantiemes: int | None = Field(default=None, gt=0, le=100_000, description=(
        "the same for the collective hot water"))


class OrgDwelling(DwellingCreate):
    id: uuid.UUID
    building_id: uuid.UUID
    tenant_linked: bool = Field(description="a tenant has accepted the dwelling's invitation")
    created_at: dt.datetime


class MeterRoleUpdate(Strict):
    role: MeterRole
    dwelling_id: uuid.UUID | None = Field(default=None, description="the dwelling, for the role `dwelling`")


class TenantInvitation(BaseModel):
    code: str = Field(description="given to the tenant, who enters it in their app; shown once")
    expires_at: dt.datetime


class InvitationAccept(Strict):
    code: str = Field(min_length=8, max_length=40)


class StatementMeter(BaseModel):
    """Internal (consent → gateway → consumption): a building meter with its role in the statements."""
    meter_id: uuid.UUID
    identifier: str | None
    label: str | None
    energy: str
    role: MeterRole
    dwelling_id: uuid.UUID | None = None


class StatementInput(BaseModel):
    """Internal: what consent knows of a building for its statements."""
    org_id: uuid.UUID
    organisation: str
    building_id: uuid.UUID
    building: str
    address: str
    dwellings: list[OrgDwelling]
    meters: list[StatementMeter]


class StatementRequest(Strict):
    """Internal (gateway → consumption)."""
    month: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    building: StatementInput
    only: uuid.UUID | None = Field(default=None, description="one dwelling's statement only")


class StatementLine(BaseModel):
    kind: Literal["own", "collective_heating", "collective_hot_water"]
    energy: str
    meter_label: str | None
    kwh: float
    eur: float | None
    estimated_by_share_key: bool = Field(description="a share of a collective meter, not measured at the dwelling")
    share_key: Literal["tantiemes", "surface"] | None = None
    share_pct: float | None = Field(default=None, description="the dwelling's share of the collective meter, %")
    days_present: int
    days: int


class DwellingStatement(BaseModel):
    dwelling_id: uuid.UUID
    label: str
    floor_area_m2: float
    lines: list[StatementLine]
    kwh: float
    eur: float | None
    kwh_m2: float = Field(description="the month's kWh per m² of the dwelling")


class BuildingStatements(BaseModel):
    month: str
    building_id: uuid.UUID
    building: str
    address: str
    organisation: str
    statements: list[DwellingStatement]
