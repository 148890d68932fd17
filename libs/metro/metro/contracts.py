"""Public API bodies shared by the gateway (which documents them in OpenAPI) and the owning service."""
from __future__ import annotations

import datetime as dt
import re
import uuid
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError


class Strict(BaseModel):
    """Request bodies refuse unknown fields, so a typo is an error rather than silently ignored."""
    model_config = ConfigDict(extra="forbid")


class Energy(StrEnum):
    electricity = "electricity"
    gas = "gas"
    heat = "heat"
    water = "water"


DEFAULT_CHANNEL = {"enedis": "dataconnect", "grdf": "adict", "greenalp": "file", "cciag": "file",
                   "gaz_electricite_de_grenoble": "file"}
CHANNELS = {"dataconnect", "sge", "adict", "file"}
PRM_RE = re.compile(r"^\d{14}$")
PCE_RE = re.compile(r"^(GI\d{6}|\d{14})$")


def identifier_error(dso: str, energy: Energy, identifier: str) -> str | None:
    if dso == "enedis" or (energy is Energy.electricity and dso != "grdf"):
        if not PRM_RE.match(identifier):
            return "an electricity usage point (PRM) is 14 digits"
    elif dso == "grdf" or energy is Energy.gas:
        if not PCE_RE.match(identifier):
            return "a gas delivery point (PCE) is 14 digits or GI followed by 6 digits"
    elif not identifier or len(identifier) > 64:
        return "the meter identifier must be 1 to 64 characters"
    return None


class GrdfHolder(Strict):
    """What ADICT needs to declare the access right: the holder as written on the gas contract."""
    holder_name: str = Field(min_length=1, max_length=120)
    postal_code: str = Field(pattern=r"^\d{5}$")
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)


class MeterDeclaration(Strict):
    energy: Energy
    dso: str = Field(min_length=2, max_length=40, pattern=r"^[a-z_]+$")
    channel: Literal["dataconnect", "sge", "adict", "file"] | None = None
    identifier: str = Field(min_length=1, max_length=64)
    label: str | None = Field(default=None, max_length=80)
    grdf_holder: GrdfHolder | None = None

    @field_validator("identifier")
    @classmethod
    def _strip(cls, v: str) -> str:
        return v.strip().replace(" ", "")

    @model_validator(mode="after")
    def _check(self):
        problem = identifier_error(self.dso, self.energy, self.identifier)
        if problem:
            raise PydanticCustomError("invalid_identifier", problem, {"code": "invalid_identifier"})
        if self.channel is None:
            self.channel = DEFAULT_CHANNEL.get(self.dso, "file")
        return self


class ConsentView(BaseModel):
    id: uuid.UUID
    status: str
    channel: str
    authorize_url: str | None = None
    expires_at: dt.datetime | None = None
    history_from: dt.date | None = None
    reason: str | None = None
    warnings: list[str] = []
    address_check: str | None = None
    dso_reference: str | None = None


class MeterView(BaseModel):
    id: uuid.UUID
    energy: Energy
    dso: str
    channel: str
    identifier: str
    label: str | None = None
    created_at: dt.datetime
    consent: ConsentView | None = None
    last_collected_day: dt.date | None = None
    freshness: str | None = None
    contract: dict | None = None


class DwellingType(StrEnum):
    house = "house"
    apartment = "apartment"


class HeatingEnergy(StrEnum):
    electricity = "electricity"
    gas = "gas"
    heat_network = "heat_network"
    wood = "wood"
    fuel_oil = "fuel_oil"
    heat_pump = "heat_pump"
    other = "other"


class Dwelling(Strict):
    street: str = Field(min_length=1, max_length=200)
    postal_code: str = Field(pattern=r"^\d{5}$")
    municipality: str = Field(min_length=1, max_length=100)
    insee_code: str = Field(pattern=r"^\d[\dAB]\d{3}$")
    surface_m2: float | None = Field(default=None, gt=5, le=2000)
    occupants: int | None = Field(default=None, ge=1, le=30)
    dwelling_type: DwellingType | None = None
    heating_energy: HeatingEnergy | None = None
    heating_mode: Literal["individual", "collective"] | None = None
    hot_water_energy: HeatingEnergy | None = None
    construction_year: int | None = Field(default=None, ge=1500, le=2100)


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


# --- notify (issue 9): preferences, messages, in-app notifications, unsubscribe -----------------------

class AlertKind(StrEnum):
    anomaly = "anomaly"
    threshold = "threshold"
    consent = "consent"


class ChannelPreferences(Strict):
    alerts: list[AlertKind] = Field(default_factory=lambda: list(AlertKind))


class QuietHours(Strict):
    """Local time (Europe/Paris); an interval crossing midnight such as 22:00–07:00 is allowed."""
    start: dt.time
    end: dt.time


class NotificationPreferences(Strict):
    """Web push is not offered yet: e-mail and in-app are the two channels."""
    language: Literal["fr", "en"] = "fr"
    report_frequency: Literal["weekly", "monthly", "none"] = "monthly"
    email: ChannelPreferences = Field(default_factory=ChannelPreferences)
    in_app: ChannelPreferences = Field(default_factory=ChannelPreferences)
    quiet_hours: QuietHours | None = None
    threshold_kwh_per_month: float | None = Field(default=None, gt=0, le=1_000_000)
    threshold_eur_per_month: float | None = Field(default=None, gt=0, le=1_000_000)


class PreferencesView(NotificationPreferences):
    model_config = ConfigDict(extra="ignore")
    unsubscribed_at: dt.datetime | None = None
    unsubscribed_scope: str | None = None


class MessageView(BaseModel):
    id: uuid.UUID
    kind: str
    subject: str
    status: Literal["pending", "sending", "sent", "failed"]
    attempts: int
    created_at: dt.datetime
    sent_at: dt.datetime | None = None
    last_error: str | None = None
    text_body: str


class NotificationView(BaseModel):
    id: uuid.UUID
    kind: str
    title: str
    body: str
    link: str | None = None
    created_at: dt.datetime
    read_at: dt.datetime | None = None


class UnsubscribeResult(BaseModel):
    scope: str
    detail: str


# --- accuracy control: a meter whose DSO address differs from the declared dwelling --------------------------

MismatchPart = Literal["municipality", "postal_code", "street"]


class AddressMismatch(BaseModel):
    """A meter whose DSO address differs from the declared dwelling, its data withheld until resolved. Only
    which parts differ is given: the DSO's address may be a neighbour's."""
    consent_id: uuid.UUID
    meter_id: uuid.UUID
    account_id: uuid.UUID
    dso: str
    channel: str
    identifier: str
    status: str
    mismatch: list[MismatchPart]
    since: dt.datetime


class AddressDecision(Strict):
    """`clear`: the data is shown; `reject`: the consent is revoked (reason `address_rejected`) and the data
    stays withheld."""
    decision: Literal["clear", "reject"]
    note: str | None = Field(default=None, max_length=500)
