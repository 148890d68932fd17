"""The events services publish: the envelope, and one payload model per event and version.

A producer builds the model and hands it to ``Outbox.add``, which takes the name and version from the class. A
consumer registers a handler for the model and receives ``Received[Model]``, validated straight from the message
bytes; a message whose payload does not validate is dead-lettered with the validation error. Fields that may be
absent default to None and are left out on the wire. Payloads carry identifiers and the facts a consumer needs,
never more personal data than that.
"""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, ClassVar, Generic, Literal, TypeVar

import orjson
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

EXCHANGE = "metroenergies.events"
DEAD_LETTER_EXCHANGE = "metroenergies.dead"
RETRY_EXCHANGE = "metroenergies.retry"


class Envelope(BaseModel):
    """An event as it travels, its payload as plain JSON: what the outbox relay publishes."""
    id: uuid.UUID = Field(default_factory=uuid.uuid4)
    name: str
    version: int = 1
    occurred_at: dt.datetime = Field(default_factory=lambda: dt.datetime.now(dt.UTC))
    producer: str
    payload: dict[str, Any]
    # The request (x-request-id) or event whose handling wrote this event; absent from older producers.
    request_id: str | None = None

    def to_bytes(self) -> bytes:
        absent = {"request_id"} if self.request_id is None else None
        return orjson.dumps(self.model_dump(mode="json", exclude=absent))

    @classmethod
    def from_bytes(cls, body: bytes) -> "Envelope":
        return cls.model_validate(orjson.loads(body))


class Event(BaseModel):
    """One fact's payload; a subclass names the event (dotted, past tense) and its version."""
    model_config = ConfigDict(frozen=True)
    name: ClassVar[str]
    version: ClassVar[int] = 1

    def to_payload(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


E = TypeVar("E", bound=Event)


class Received(BaseModel, Generic[E]):
    """An event as a consumer receives it, its payload validated."""
    id: uuid.UUID
    name: str
    version: int = 1
    occurred_at: dt.datetime
    producer: str
    payload: E
    request_id: str | None = None


def _day(value: Any) -> Any:
    """DSOs give some dates as timestamps ("2019-03-01T00:00:00+01:00"): the local day is what counts."""
    return value[:10] if isinstance(value, str) else value


Day = Annotated[dt.date, BeforeValidator(_day)]
RevocationReason = Literal["user", "dso", "expired", "account_deleted", "supply_ended", "address_rejected",
                           "not_confirmed_by_dso", "claim_released", "subscription_ended"]


# --- consents ------------------------------------------------------------------------------------------------

class ConsentGranted(Event):
    """A meter may be collected from ``history_from`` until ``expires_at``."""
    name: ClassVar[str] = "consent.granted"
    consent_id: uuid.UUID
    meter_id: uuid.UUID
    account_id: uuid.UUID | None = None
    dso: str
    channel: str
    identifier: str
    energy: str | None = None
    history_from: Day | None = None
    expires_at: dt.datetime | None = None
    dso_reference: str | None = None


class ConsentRevoked(Event):
    """Stop collecting now. From consent (the resident, the platform) or a connector (the DSO said so); a
    connector's evidence rides in ``code``, ``detail`` and ``dso_status``."""
    name: ClassVar[str] = "consent.revoked"
    consent_id: uuid.UUID | None = None
    meter_id: uuid.UUID
    account_id: uuid.UUID | None = None
    dso: str
    channel: str
    identifier: str | None = None
    reason: RevocationReason
    dso_reference: str | None = None
    dso_status: str | None = None
    code: str | None = None
    detail: str | None = None


class ConsentExpiring(Event):
    """A reminder is due: the consent ends in ``days_left`` days (``reminder`` names which reminder this is)."""
    name: ClassVar[str] = "consent.expiring"
    consent_id: uuid.UUID
    meter_id: uuid.UUID
    account_id: uuid.UUID
    dso: str
    expires_at: dt.datetime
    days_left: int = Field(ge=0)
    reminder: int


# --- declarations: projected by consumption and notify for authorisation and peer groups ---------------------

class MeterDeclared(Event):
    """A meter declared, or its hold changed: ``address_hold`` None leaves the hold as the consumer has it."""
    name: ClassVar[str] = "meter.declared"
    meter_id: uuid.UUID
    account_id: uuid.UUID
    energy: str
    dso: str
    channel: str
    address_hold: bool | None = None


class DwellingProfile(BaseModel):
    """The comparison criteria of a dwelling, never its address."""
    insee_code: str | None = None
    iris_code: str | None = None
    surface_m2: float | None = None
    occupants: int | None = None
    dwelling_type: str | None = None
    heating_energy: str | None = None
    heating_mode: str | None = None
    hot_water_energy: str | None = None
    construction_year: int | None = None


class DwellingUpdated(Event):
    name: ClassVar[str] = "dwelling.updated"
    account_id: uuid.UUID
    profile: DwellingProfile


class RenovationDeclared(Event):
    """Works declared on an organisation's building or a resident's dwelling: what consumption needs to weigh the
    12 months before against the 12 months after (the meters of the building or dwelling when declared)."""
    name: ClassVar[str] = "renovation.declared"
    renovation_id: uuid.UUID
    holder_id: uuid.UUID  # the resident's account, or the organisation
    building_id: uuid.UUID | None = None
    day: dt.date
    works: str
    programme: str | None = None
    heating_energy: str | None = None
    meter_ids: list[uuid.UUID]


# --- measurements ----------------------------------------------------------------------------------------------

# One day as [day, wh, quality, extra]: arrays rather than objects, since a message carries up to a year of them.
Reading = tuple[dt.date, int, str, dict[str, Any] | None]


class ReadingsCollected(Event):
    """A batch of daily energy for one meter, a year at most, in integer Wh, each day with its quality flag."""
    name: ClassVar[str] = "readings.collected"
    MAX_DAYS: ClassVar[int] = 366
    meter_id: uuid.UUID
    source: str = "unknown"
    unit: Literal["Wh"] = "Wh"
    readings: list[Reading] = Field(max_length=MAX_DAYS)

    @classmethod
    def batches(cls, meter_id: uuid.UUID, source: str, readings: list[Reading]) -> list["ReadingsCollected"]:
        """As many events as it takes, a year at most each."""
        return [cls(meter_id=meter_id, source=source, readings=readings[i:i + cls.MAX_DAYS])
                for i in range(0, len(readings), cls.MAX_DAYS)]


# One local day of a load curve as [day, step_minutes, watts]: ``watts`` holds one average power per step from local
# midnight, in elapsed time (a DST day has 46 or 50 half-hours), None where the DSO sent nothing. A day whose step
# changed is held at the finest step, each coarser interval's power repeated over its sub-steps (the energy stays).
LoadCurveDay = tuple[dt.date, int, list[int | None]]
# One day's maximum apparent power as [day, va, at]: ``at`` is the moment of the peak where the DSO gives it.
MaxPowerDay = tuple[dt.date, int, dt.datetime | None]


class LoadCurveCollected(Event):
    """The load curve of one meter for a few days (a 7-day DSO window at most per message), with the days'
    maximum power when the DSO gave it."""
    name: ClassVar[str] = "load_curve.collected"
    MAX_DAYS: ClassVar[int] = 31
    meter_id: uuid.UUID
    source: str = "unknown"
    unit: Literal["W"] = "W"
    days: list[LoadCurveDay] = Field(default=[], max_length=MAX_DAYS)
    max_power: list[MaxPowerDay] = Field(default=[], max_length=MAX_DAYS)


class ContractChanged(Event):
    """The DSO's view of the supply contract; ``raw`` keeps the DSO's own fields for the record."""
    name: ClassVar[str] = "contract.changed"
    meter_id: uuid.UUID
    dso: str
    tariff_option: str | None = None
    subscribed_kva: int | None = None
    offpeak_hours: str | None = None
    start: Day | None = None
    end: Day | None = None
    status: str | None = None
    raw: dict[str, Any] = {}


class AnomalyDetected(Event):
    """A day or a period well above the home's own baseline."""
    name: ClassVar[str] = "consumption.anomaly_detected"
    meter_id: uuid.UUID
    account_id: uuid.UUID | None = None
    episode_key: str
    kind: str
    start: dt.date
    end: dt.date
    expected_wh: int
    observed_wh: int
    excess_wh: int


# --- accounts ----------------------------------------------------------------------------------------------------

class AccountCreated(Event):
    """Where and in which language notify writes to the resident."""
    name: ClassVar[str] = "account.created"
    account_id: uuid.UUID
    email: str
    language: str = "fr"


class AccountEmailChanged(Event):
    """The account's address changed once the new one was verified: notify writes there from now on."""
    name: ClassVar[str] = "account.email_changed"
    account_id: uuid.UUID
    email: str


class AccountLanguageChanged(Event):
    """The resident chose another language: notify writes every e-mail in it from now on."""
    name: ClassVar[str] = "account.language_changed"
    account_id: uuid.UUID
    language: Literal["fr", "en"]


class OrgMemberChanged(Event):
    """An account joined an organisation, changed role, or left it (``role`` None): notify writes the
    organisation's weekly excess digest to its members."""
    name: ClassVar[str] = "org.member_changed"
    org_id: uuid.UUID
    org_name: str
    account_id: uuid.UUID
    role: Literal["manager", "viewer"] | None = None


class ErasureRequested(Event):
    """The deletion saga: every service erases what it holds about the account and its meters."""
    name: ClassVar[str] = "account.erasure_requested"
    account_id: uuid.UUID
    meter_ids: list[uuid.UUID] = []


class AccountErased(Event):
    """A service's confirmation; it names the account only by its hash, so as not to become a trace itself."""
    name: ClassVar[str] = "account.erased"
    subject: str
    service: str
    rows: int = 0
