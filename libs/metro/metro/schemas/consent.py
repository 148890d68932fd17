"""Bodies of the consent service: dwellings, meters, consents and their history, shares, accuracy control."""
from __future__ import annotations

import datetime as dt
import re
import uuid
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from metro.schemas import Energy, IsoDate, Strict
from metro.schemas.collection import FailingReason, Freshness
from metro.schemas.consumption import ContractView

DEFAULT_CHANNEL = {"enedis": "dataconnect", "grdf": "adict", "greenalp": "file", "cciag": "file",
                   "eau_de_grenoble": "file", "manual": "manual"}
CHANNELS = {"dataconnect", "sge", "adict", "file", "manual"}
# A meter no channel reads: the resident enters its statements (index or deliveries) themselves, so its consent
# is active from the declaration and its identifier is the platform's own.
MANUAL = "manual"
# What a connector collects today, per DSO: the energies it distributes and the channels it is reached by. A
# declaration outside it would wait for a consent nothing can obtain, and hold the meter's claim meanwhile.
# GreenAlp (ex-GEG) distributes electricity and gas in Grenoble and Séchilienne; CCIAG district heat; Eau de
# Grenoble water: the three exchange files with the platform (ingest-local).
SERVED: dict[str, tuple[frozenset[Energy], frozenset[str]]] = {
    "enedis": (frozenset({Energy.electricity}), frozenset({"dataconnect", "sge"})),
    "grdf": (frozenset({Energy.gas}), frozenset({"adict"})),
    "greenalp": (frozenset({Energy.electricity, Energy.gas}), frozenset({"file"})),
    "cciag": (frozenset({Energy.heat}), frozenset({"file"})),
    "eau_de_grenoble": (frozenset({Energy.water}), frozenset({"file"})),
}
# The local operators: the resident gives the contract reference on their bill and the holder's name.
FILE_OPERATORS = frozenset(d for d, (_, channels) in SERVED.items() if channels == {"file"})
PRM_RE = re.compile(r"^[0-9]{14}$")
PCE_RE = re.compile(r"^(GI[0-9]{6}|[0-9]{14})$")
# A district-heat dwelling: its substation and dwelling codes as on the CCIAG bill ("SST0042-L017").
HEAT_DWELLING_RE = re.compile(r"^[A-Z0-9]{2,20}-[A-Z0-9]{1,20}$")
WATER_METER_RE = re.compile(r"^[A-Z0-9]{6,20}$")
# The same as typed: spaces anywhere are dropped before the check (a PRM is printed in groups on bills).
TYPED_IDENTIFIER = {Energy.electricity: r"^ *[0-9]( *[0-9]){13} *$",
                    Energy.gas: r"^ *(G *I( *[0-9]){6}|[0-9]( *[0-9]){13}) *$",
                    Energy.heat: r"^ *[A-Z0-9]{2,20}-[A-Z0-9]{1,20} *$",
                    Energy.water: r"^ *[A-Z0-9]{6,20} *$"}


def service_error(dso: str, energy: Energy, channel: str) -> tuple[str, str] | None:
    """(code, message) when no connector serves this DSO, energy and channel together."""
    if (dso == MANUAL) != (channel == MANUAL):
        return "channel_not_served_by_dso", "a manual meter is declared with dso and channel `manual`"
    if dso == MANUAL:
        return None
    if dso not in SERVED:
        return "dso_not_served", f"no connector collects from {dso} yet; served: {', '.join(sorted(SERVED))}"
    served_energies, channels = SERVED[dso]
    if energy not in served_energies:
        return ("energy_not_served_by_dso",
                f"{dso} distributes {', '.join(sorted(e.value for e in served_energies))}, not {energy.value}")
    if channel not in channels:
        return ("channel_not_served_by_dso",
                f"{dso} is reached through {', '.join(sorted(channels))}, not {channel}")
    return None


def identifier_error(dso: str, energy: Energy, identifier: str) -> str | None:
    if dso == "enedis" or (energy is Energy.electricity and dso != "grdf"):
        if not PRM_RE.match(identifier):
            return "an electricity usage point (PRM) is 14 digits"
    elif dso == "grdf" or energy is Energy.gas:
        if not PCE_RE.match(identifier):
            return "a gas delivery point (PCE) is 14 digits or GI followed by 6 digits"
    elif energy is Energy.heat:
        if not HEAT_DWELLING_RE.match(identifier):
            return "a district-heat dwelling is its substation and dwelling codes, as SST0042-L017"
    elif energy is Energy.water:
        if not WATER_METER_RE.match(identifier):
            return "a water meter number is 6 to 20 capital letters or digits"
    elif not identifier or len(identifier) > 64:
        return "the meter identifier must be 1 to 64 characters"
    return None


class LocalHolder(Strict):
    """What a local operator's agreement asks: the contract reference on the bill and the holder's name; the
    operator's first file naming the meter must name the same holder before its data is shown."""
    contract_reference: str = Field(min_length=3, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9 /._-]*$")
    holder_name: str = Field(min_length=2, max_length=120)


class FileConsent(BaseModel):
    """A consent on a local operator's meter as ingest-local needs it: for the list sent to the operator and the
    holder check of its first file. ``ended_at`` is set for a consent withdrawn lately (listed as withdrawn)."""
    consent_id: uuid.UUID
    meter_id: uuid.UUID
    account_id: uuid.UUID
    dso: str
    energy: str
    identifier: str
    status: str
    contract_reference: str | None = None
    holder_name: str | None = None
    since: dt.datetime
    ended_at: dt.datetime | None = None


class GrdfHolder(Strict):
    """What ADICT needs to declare the access right: the holder as written on the gas contract."""
    holder_name: str = Field(min_length=1, max_length=120)
    postal_code: str = Field(pattern=r"^\d{5}$")
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)


def _served_in_schema(schema: dict[str, Any]) -> None:
    """What the validator enforces, stated in the JSON schema from the same tables: each served DSO with its
    energy, channels and identifier pattern (GRDF's holder is required)."""
    schema["properties"]["dso"] = {"type": "string", "enum": sorted(SERVED), "title": "Dso"}
    variants = []
    for dso, (energies, channels) in sorted(SERVED.items()):
        for energy in sorted(energies):
            variant: dict[str, Any] = {"properties": {
                "dso": {"const": dso}, "energy": {"const": energy.value},
                "channel": {"anyOf": [{"enum": sorted(channels)}, {"type": "null"}]},
                "identifier": {"type": "string", "pattern": TYPED_IDENTIFIER[energy]}}}
            holder = "grdf_holder" if dso == "grdf" else "local_holder" if dso in FILE_OPERATORS else None
            if holder:
                variant["properties"][holder] = {"not": {"type": "null"}}
                variant["required"] = [holder]
            variant["required"] = sorted({"identifier", *variant.get("required", [])})
            variants.append(variant)
    variants.append({"properties": {"dso": {"const": MANUAL}, "channel": {"anyOf": [{"const": MANUAL},
                                                                                    {"type": "null"}]},
                                    "identifier": {"type": "null"}}})
    schema["properties"]["dso"]["enum"] = sorted([*SERVED, MANUAL])
    schema["oneOf"] = variants


class MeterDeclaration(Strict):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_served_in_schema)

    energy: Energy
    dso: str = Field(min_length=2, max_length=40, pattern=r"^[a-z_]+$")
    channel: Literal["dataconnect", "sge", "adict", "file", "manual"] | None = None
    identifier: str | None = Field(default=None, min_length=1, max_length=64, description=(
        "the PRM, PCE or operator's meter number; none for a `manual` meter (its number goes in `label`)"))
    label: str | None = Field(default=None, max_length=80)
    grdf_holder: GrdfHolder | None = None
    local_holder: LocalHolder | None = None

    @field_validator("identifier")
    @classmethod
    def _strip(cls, v: str | None) -> str | None:
        return None if v is None else v.replace(" ", "")

    @model_validator(mode="after")
    def _check(self):
        if self.channel is None:
            self.channel = DEFAULT_CHANNEL.get(self.dso, "file")
        refused = service_error(self.dso, self.energy, self.channel)
        if refused:
            raise PydanticCustomError(refused[0], refused[1], {"code": refused[0]})
        if self.dso == MANUAL:
            if self.identifier is not None:
                raise PydanticCustomError("invalid_identifier", "a manual meter's number goes in `label`",
                                          {"code": "invalid_identifier"})
            return self
        if self.identifier is None:
            raise PydanticCustomError("missing_field", "missing field: identifier", {"code": "missing_field"})
        problem = identifier_error(self.dso, self.energy, self.identifier)
        if problem:
            raise PydanticCustomError("invalid_identifier", problem, {"code": "invalid_identifier"})
        if self.dso == "grdf" and self.grdf_holder is None:
            raise PydanticCustomError("grdf_holder_required", "declaring a GRDF meter needs the holder's name as on "
                                      "the contract, postal code and e-mail", {"code": "grdf_holder_required"})
        if self.dso in FILE_OPERATORS and self.local_holder is None:
            raise PydanticCustomError("local_holder_required", "declaring a meter of a local operator needs the "
                                      "contract reference on the bill and the holder's name",
                                      {"code": "local_holder_required"})
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
    last_collected_day: dt.date | None = Field(default=None, description=(
        "the newest day collected from the DSO; null before the first (or where the connector is unreachable)"))
    freshness: Freshness | None = Field(default=None, description=(
        "`fresh`, `dso_late` (within the DSO's documented lag), `collection_failing` (see `freshness_reason`), "
        "`no_consent`, `pending` (first collection under way); null where the connector is unreachable"))
    freshness_reason: FailingReason | None = Field(default=None, description=(
        "why collection is failing: `dso_unavailable`, `dso_quota_exceeded`, `dso_request_refused`, "
        "`dso_no_data` (the DSO published nothing beyond its documented lag), `dso_consent_missing`"))
    first_data_by: dt.date | None = Field(default=None, description=(
        "before a consented meter's first data: the day it is due by, from the DSO's publication time and "
        "longest documented lag (Enedis D+1 after 08:00, ADICT D+1 to D+5, SGE files D+2 to D+3)"))
    next_update_at: dt.datetime | None = Field(default=None, description=(
        "when the meter is next collected; under Enedis Data Connect's hourly quota a meter whose resident did "
        "not look at it in the last week may wait a few days. Null without an active consent"))
    contract: ContractView | None = Field(default=None, description=(
        "the contract the DSO gives (`origin: dso`), else the one the resident declared; null when neither"))


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
    iris_code: str | None = Field(default=None, pattern=r"^\d[\dAB]\d{7}$", description=(
        "the INSEE IRIS (district) of the address, as the address base gives it: the analysts' finest area"))
    surface_m2: float | None = Field(default=None, gt=5, le=2000)
    occupants: int | None = Field(default=None, ge=1, le=30)
    dwelling_type: DwellingType | None = None
    heating_energy: HeatingEnergy | None = None
    heating_mode: Literal["individual", "collective"] | None = None
    hot_water_energy: HeatingEnergy | None = None
    construction_year: int | None = Field(default=None, ge=1500, le=2100)


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
    # `mismatch`, or `resident_confirmed`: the resident states the meter is theirs and awaits this review.
    address_check: Literal["mismatch", "resident_confirmed"]
    mismatch: list[MismatchPart]
    since: dt.datetime


class AddressDecision(Strict):
    """`clear`: the data is shown; `reject`: the consent is revoked (reason `address_rejected`) and the data
    stays withheld."""
    decision: Literal["clear", "reject"]
    note: str | None = Field(default=None, max_length=500)


class ClaimRelease(Strict):
    """An administrator gives a meter's claim up (its holder asked, or another household proved it is
    theirs): a live consent on it ends with reason `claim_released`; the meter may be declared again."""
    dso: str = Field(min_length=2, max_length=40, pattern=r"^[a-z_]+$")
    identifier: str = Field(min_length=1, max_length=64)
    note: str | None = Field(default=None, max_length=500)


class ClaimReleased(BaseModel):
    meter_id: uuid.UUID
    account_id: uuid.UUID
    released_at: dt.datetime
    consent: ConsentView | None = None


class SgeSubscription(Strict):
    meter_id: uuid.UUID
    reference: str = Field(min_length=1, max_length=80)
    consent_end: IsoDate


class HistoryEntry(BaseModel):
    at: dt.datetime
    from_status: str | None
    to_status: str
    actor: str
    reason: str | None
    evidence: dict[str, Any]


class ConsentHistory(BaseModel):
    id: uuid.UUID
    channel: str
    purpose: str
    status: str
    requested_at: dt.datetime
    expires_at: dt.datetime | None
    history: list[HistoryEntry]


ShareScope = Literal["consumption", "dwelling", "contract"]
SHARE_MONTHS, SHARE_MAX_MONTHS = 6, 12


def _consumption_always(scopes: list[str]) -> list[str]:
    if "consumption" not in scopes:
        raise PydanticCustomError("consumption_scope_required", "a share always includes the consumption",
                                  {"code": "consumption_scope_required"})
    return sorted(set(scopes))


class ShareTerms(Strict):
    """What the resident decides when sharing: the name and contact the adviser sees them under, what is
    shared, and until when."""
    resident_name: str = Field(min_length=1, max_length=100, description="the name the adviser sees")
    resident_contact: str | None = Field(default=None, max_length=200, description=(
        "how the adviser may reach the resident (telephone, e-mail), as the resident writes it"))
    scopes: list[ShareScope] = Field(default=["consumption"], min_length=1, description=(
        "`consumption` (meters, consumption, comparison, summary) always; `dwelling` adds the dwelling's "
        "description, `contract` the meters' contracts. 422 `consumption_scope_required` without it"))
    ends_on: IsoDate | None = Field(default=None, description=(
        "the last day the adviser may read (Europe/Paris), at most 12 months ahead; default 6 months from "
        "today. 422 `invalid_share_end` when past or too far"))

    @field_validator("scopes")
    @classmethod
    def _scopes(cls, v: list[str]) -> list[str]:
        return _consumption_always(v)


class ShareRenewal(Strict):
    ends_on: IsoDate | None = Field(default=None, description=(
        "the new last day, at most 12 months ahead; default 6 months from today"))


class Share(BaseModel):
    id: uuid.UUID
    adviser_id: uuid.UUID
    adviser_name: str
    resident_name: str
    resident_contact: str | None
    scopes: list[ShareScope]
    ends_on: dt.date
    status: Literal["active", "expired", "revoked"]
    created_at: dt.datetime
    revoked_at: dt.datetime | None


class SharedResident(BaseModel):
    """A resident as the adviser sees them: under the name and contact the resident chose."""
    share_id: uuid.UUID
    resident_id: uuid.UUID
    name: str
    contact: str | None
    scopes: list[ShareScope]
    ends_on: dt.date
    shared_at: dt.datetime


class AdviceDraft(Strict):
    body: str = Field(min_length=1, max_length=4000, description="the advice, plain text")


class AdviceNote(BaseModel):
    id: uuid.UUID
    resident_id: uuid.UUID
    adviser_id: uuid.UUID
    adviser_name: str
    body: str
    created_at: dt.datetime


class AccessLogEntry(BaseModel):
    reader_role: str
    reader_name: str
    what: str
    at: dt.datetime


# --- SGE subscriptions kept by administrators ---------------------------------------------------------------

class SgeSubscriptionView(BaseModel):
    """A meter collected through the SGE file channel under a subscription an administrator recorded."""
    consent_id: uuid.UUID
    meter_id: uuid.UUID
    account_id: uuid.UUID
    identifier: str = Field(description="the PRM")
    status: str = Field(description="`active` or `expiring`; ended ones are `revoked` or `expired`")
    reference: str | None = Field(description="the subscription's reference on the Enedis portal")
    expires_at: dt.datetime | None = Field(description="the written consent's end")
    since: dt.datetime


class SubscriptionEnd(Strict):
    """Ends an SGE subscription (cancelled on the Enedis portal, or the written consent withdrawn): the consent is
    revoked with reason `subscription_ended` and collection stops."""
    note: str | None = Field(default=None, max_length=500)


# --- the address base (Base Adresse Nationale) ----------------------------------------------------------------

class AddressSuggestion(BaseModel):
    """An address of the base, as the dwelling form takes it."""
    id: str = Field(description="the Base Adresse Nationale's id of the address")
    label: str = Field(description="the whole address on one line")
    street: str = Field(description="number, repetition index and street, as `Dwelling.street` takes it")
    postal_code: str
    municipality: str
    insee_code: str


class AddressBaseImport(BaseModel):
    """What an import of the address base did (or, with `dry_run`, would do)."""
    rows: int = Field(description="addresses of the Métropole's municipalities read from the file")
    added: int
    changed: int
    removed: int = Field(description="addresses no longer in the file, taken out of the base")
    total: int = Field(description="addresses in the base after the import")
    municipalities: int | None = Field(default=None, description="municipalities with at least one address")
    dry_run: bool = False
