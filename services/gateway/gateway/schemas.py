"""Bodies of the gateway's own operations (identity and terms)."""
from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Annotated, Literal

import email_validator
from pydantic import BaseModel, BeforeValidator, EmailStr, Field
from pydantic_core import PydanticCustomError

from metro.schemas import IsoDate, Strict
from metro.schemas.collection import LoadCurveCollection
from metro.schemas.consent import MeterView, ShareTerms
from metro.schemas.consumption import LoadCurve, MeasuredEffect, MeterSummary, Summary

MIN_PASSWORD_LENGTH = 12


def _deliverable_domain(value: object) -> object:
    """Special-use names (RFC 6761: .test, .local, .invalid, .localhost, ...) never receive mail: refused under a
    code of their own, since JSON Schema's "email" format admits them."""
    if isinstance(value, str):
        domain = value.rpartition("@")[2].strip().rstrip(".").lower()
        if any(domain == d or domain.endswith("." + d) for d in email_validator.SPECIAL_USE_DOMAIN_NAMES):
            raise PydanticCustomError("undeliverable_email", "the address's domain cannot receive e-mail",
                                      {"code": "undeliverable_email"})
    return value


Email = Annotated[EmailStr, BeforeValidator(_deliverable_domain), Field(
    description="an e-mail address; one at a special-use domain (.test, .local, .invalid, .localhost…) is "
                "refused with 422 `undeliverable_email`")]


class Role(StrEnum):
    resident = "resident"
    adviser = "adviser"
    professional = "professional"
    analyst = "analyst"
    admin = "admin"


class Signup(Strict):
    email: Email
    # The length is checked with the password's other rules (gateway.service), under their own code.
    password: str = Field(max_length=256, json_schema_extra={"minLength": MIN_PASSWORD_LENGTH})
    accepted_terms_version: str = Field(min_length=1, max_length=40)
    language: Literal["fr", "en"] = Field(default="fr", description="the app's language at sign-up: e-mails are "
                                                                     "written in it until the resident changes it")


class Login(Strict):
    email: Email
    password: str = Field(max_length=256)


class TokenRequest(Login):
    name: str = Field(default="script", max_length=80)


class TokenIssued(BaseModel):
    token: str
    token_type: str = "bearer"
    expires_at: dt.datetime


class EmailToken(Strict):
    token: str = Field(min_length=20, max_length=200, description="from the link in the e-mail")


class EmailVerified(BaseModel):
    email: str = Field(description="the account's address, now verified (the new one after a change)")


class PasswordForgotten(Strict):
    email: Email


class PasswordReset(Strict):
    token: str = Field(min_length=20, max_length=200, description="from the link in the e-mail")
    password: str = Field(max_length=256)


class PasswordChange(Strict):
    current_password: str = Field(max_length=256)
    new_password: str = Field(max_length=256)


class EmailChange(Strict):
    new_email: Email
    password: str = Field(max_length=256, description="the current password: changing the address needs it")


Language = Literal["fr", "en"]


class LanguageChange(Strict):
    language: Language = Field(description="the language of the app and of every e-mail sent to the account")


class Accepted(BaseModel):
    detail: str


class SessionView(BaseModel):
    """A login (browser session) or a script token of the account."""
    id: uuid.UUID
    kind: Literal["cookie", "bearer"] = Field(
        description="`cookie`: a browser session; `bearer`: a script token")
    name: str | None = Field(description="the token's name; none for a browser session")
    created_at: dt.datetime
    last_used_at: dt.datetime
    expires_at: dt.datetime
    user_agent: str | None = Field(description="browser and system that opened it, as a short summary")
    current: bool = Field(description="the session or token making this request")


class TermsAcceptance(Strict):
    version: str = Field(min_length=1, max_length=40)


class DataItem(BaseModel):
    data: str
    why: str
    kept: str


class Terms(BaseModel):
    version: str
    summary: str
    text: str
    data_collected: list[DataItem]
    published_at: dt.datetime


class TermsPublication(Strict):
    version: str = Field(min_length=1, max_length=40, pattern=r"^[\w.\-]+$")
    summary: str = Field(min_length=1, max_length=4000)
    text: str = Field(min_length=1, max_length=200_000)
    data_collected: list[DataItem]


class TermsState(BaseModel):
    current_version: str
    accepted_version: str | None
    acceptance_required: bool


class Account(BaseModel):
    id: uuid.UUID
    email: str
    email_verified: bool = Field(
        description="a DSO consent needs a verified address (403 `email_not_verified`)")
    roles: list[Role]
    status: str
    language: str = Field(description="the language of the app and of every e-mail (`PUT /me/language`)")
    created_at: dt.datetime
    terms: TermsState


class RoleUpdate(Strict):
    roles: list[Role] = Field(min_length=1)


class MeterSummaryView(MeterSummary):
    withheld: Literal["address_unconfirmed"] | None = Field(
        default=None, description="why this meter's figures are not given (then every figure is empty)")


class SummaryView(Summary):
    meters: list[MeterSummaryView]


class LoadCurveView(LoadCurve):
    collection: LoadCurveCollection = Field(description=(
        "where the meter's load-curve collection stands: `collecting` (history asked for and coming in), "
        "`collected`, `not_recorded` (the customer objected to the load curve at Enedis: no curve, the daily "
        "maximum power still comes), `no_consent` (no Data Connect consent covers it)"))


class ShareRequest(ShareTerms):
    adviser_email: Email


class DsoAction(BaseModel):
    meter_id: uuid.UUID
    dso: str
    identifier: str
    action: str


class DeletionRequested(BaseModel):
    id: uuid.UUID
    status: str
    erasure_due_at: dt.datetime
    dso_actions: list[DsoAction]


class ErasureRequest(BaseModel):
    id: uuid.UUID
    # pending_validation, erasing, or stalled: services did not confirm after every request (an alert was
    # raised at alerted_at); an administrator validates it again once the cause is dealt with.
    status: str
    email: str | None
    requested_at: dt.datetime
    due_at: dt.datetime
    validated_at: dt.datetime | None
    services_pending: list[str]
    publications: int
    last_published_at: dt.datetime | None
    alerted_at: dt.datetime | None


class PublicHealth(BaseModel):
    status: Literal["ok", "unavailable"]


class Health(PublicHealth):
    checks: dict[str, str]


# --- actions on the three pathways ------------------------------------------------------------------------------

Pathway = Literal["bill", "comfort", "eco_citizen"]
ActionEnergy = Literal["heating", "hot_water", "electricity", "gas", "heat", "fuel_oil", "wood", "water", "any"]


class ActionBody(Strict):
    """An action of the catalogue as an adviser writes it."""
    title_fr: str = Field(min_length=3, max_length=160)
    title_en: str = Field(min_length=3, max_length=160)
    explanation_fr: str = Field(min_length=3, max_length=2000)
    explanation_en: str = Field(min_length=3, max_length=2000)
    pathway: Pathway = Field(description="`bill` (reduce the bill), `comfort` (comfort and performance of the "
                                         "home), `eco_citizen`")
    energy: ActionEnergy = Field(description=(
        "the energy it saves: a meter energy, `heating` / `hot_water` (the dwelling's heating / hot-water energy), "
        "or `any` (no energy of the home: no estimate, no measure)"))
    use: Literal["heating", "hot_water", "appliances", "all"] = Field(description="the use the saving is a share of")
    effort: Literal["low", "medium", "high"]
    saving_share: float = Field(ge=0, le=0.9, description="the expected saving as a share of that use (0.07 = 7 %)")
    season: Literal["heating", "summer", "all"] = Field(default="all", description=(
        "suggested from October to April (`heating`), from May to September (`summer`), or all year"))
    dwelling_types: list[Literal["house", "apartment"]] = Field(default=[], max_length=2)
    heating_energies: list[Literal["electricity", "gas", "heat_network", "wood", "fuel_oil", "heat_pump",
                                   "other"]] = Field(default=[], max_length=7)
    heating_modes: list[Literal["individual", "collective"]] = Field(default=[], max_length=2)
    after_anomaly: bool = Field(default=False, description="suggested only after an anomaly on that energy")
    source: str = Field(min_length=3, max_length=500, description="where the expected saving comes from")
    active: bool = True


class ActionEstimate(BaseModel):
    energy: str | None = Field(description="the meter energy it acts on for this resident")
    kwh_year: float | None = Field(default=None, description="the saving in kWh a year")
    eur_year: str | None = Field(default=None, description="the saving in euros a year (energy price only)")
    basis: str | None = Field(default=None, description="how it was estimated, or why it could not be")


class ActionView(ActionBody):
    id: uuid.UUID
    suggested: bool = False
    reasons: list[str] = Field(default=[], description=(
        "why it is suggested: `heating_energy`, `hot_water_energy`, `uses_energy`, `season`, `dwelling_type`, "
        "`heating_mode`, `anomaly`"))
    estimate: ActionEstimate | None = None


class Commitment(Strict):
    action_id: uuid.UUID


class CommitmentView(BaseModel):
    id: uuid.UUID
    action: ActionView
    committed_on: dt.date
    measurable_from: dt.date = Field(description="four weeks after the commitment: the first measured figure")
    estimated_kwh: float | None = None
    estimated_eur: str | None = None
    effect: MeasuredEffect | None = Field(default=None, description=(
        "the measured change against the weather-normalised baseline (4 to 8 weeks after the commitment); null "
        "for an action on no energy of the home"))
# --- administration ----------------------------------------------------------------------------------------

class AuditEntry(BaseModel):
    """One administrator action: who, when, what, on what, and the request it came with (`x-request-id`, in
    every service's logs)."""
    id: int
    at: dt.datetime
    actor_id: uuid.UUID
    actor_email: str
    action: str = Field(description="e.g. `account.disabled`, `account.roles_set`, `terms.published`, "
                                    "`erasure.validated`, `address_mismatch.decided`, `sge_subscription.ended`, "
                                    "`tariffs.uploaded`, `address_base.imported`, `resident.consents_viewed`")
    target: str | None = Field(description="what it was done to: an account, meter, consent or version id")
    request_id: str | None
    detail: dict


class AdminAccount(BaseModel):
    id: uuid.UUID
    email: str
    email_verified: bool
    roles: list[Role]
    status: Literal["active", "disabled"]
    created_at: dt.datetime
    disabled_at: dt.datetime | None


class TermsAccepted(BaseModel):
    version: str
    accepted_at: dt.datetime


class AdminAccountDetail(AdminAccount):
    """An account as administrators see it: its consents and what it accepted, never its consumption."""
    sessions: int = Field(description="browser sessions and script tokens still valid")
    terms_accepted: list[TermsAccepted]
    deletion: str | None = Field(description="the deletion request's status, if the resident asked for one")
    consents: list[MeterView] = Field(description="each meter with its consent (status, channel, expiry, "
                                                  "address check); reading them is in the resident's access log")


class AccountStatusChange(Strict):
    """`disabled`: the account can no longer log in, and its sessions, script tokens and e-mailed links end at
    once; `active`: it may log in again."""
    status: Literal["active", "disabled"]
    reason: str | None = Field(default=None, max_length=500)


class TermsVersion(BaseModel):
    version: str
    summary: str
    status: Literal["draft", "in_force", "superseded"]
    created_at: dt.datetime
    published_at: dt.datetime | None
    accepted: int = Field(description="accounts that accepted this version")


class TermsDraftEdit(Strict):
    summary: str = Field(min_length=1, max_length=4000)
    text: str = Field(min_length=1, max_length=200_000)
    data_collected: list[DataItem]


class TermsDraft(TermsDraftEdit):
    version: str = Field(min_length=1, max_length=40, pattern=r"^[\w.\-]+$")


class TermsDraftView(BaseModel):
    version: str
    summary: str
    text: str
    data_collected: list[DataItem]
    created_at: dt.datetime
    published_at: dt.datetime | None


class AcceptedBy(BaseModel):
    account_id: uuid.UUID
    email: str
    accepted_at: dt.datetime


class TermsAcceptances(BaseModel):
    """Who accepted a version (re-accepted, for a version that replaced another)."""
    version: str
    accepted: int
    active_accounts: int = Field(description="active accounts in all: those that have not accepted the version "
                                             "in force are asked at their next login")
    accounts: list[AcceptedBy] = Field(description="the most recent first, at most `limit`")


class DeadLetters(BaseModel):
    service: str
    queues: dict[str, int] = Field(description="messages in each dead-letter queue")
    total: int
    error: str | None = Field(default=None, description="why the service could not tell")
NewsAudience = Literal["resident", "pro", "all"]


class NewsDraft(Strict):
    """A short seasonal item, in French and English, shown on the home screen of its audience while valid."""
    title_fr: str = Field(min_length=1, max_length=120)
    title_en: str = Field(min_length=1, max_length=120)
    body_fr: str = Field(min_length=1, max_length=1000)
    body_en: str = Field(min_length=1, max_length=1000)
    audience: NewsAudience = Field(default="all", description="`resident`, `pro` (professionals) or `all`")
    valid_from: IsoDate | None = Field(default=None, description="first day shown; default today")
    valid_until: IsoDate | None = Field(default=None, description=(
        "last day shown, then archived; default three months after `valid_from`. 422 `invalid_news_period` "
        "when before `valid_from` or today, or more than a year after `valid_from`"))


class News(BaseModel):
    id: uuid.UUID
    title_fr: str
    title_en: str
    body_fr: str
    body_en: str
    audience: NewsAudience
    valid_from: dt.date
    valid_until: dt.date


class NewsEntry(News):
    """An item as its author (or an administrator) sees it."""
    author_id: uuid.UUID
    state: Literal["scheduled", "current", "archived"]
    created_at: dt.datetime
    updated_at: dt.datetime
