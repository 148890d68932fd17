"""Bodies of the gateway's own operations (identity and terms)."""
from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Annotated, Literal

import email_validator
from pydantic import BaseModel, BeforeValidator, EmailStr, Field
from pydantic_core import PydanticCustomError

from metro.schemas import Strict
from metro.schemas.consumption import MeterSummary, Summary

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


class ShareRequest(Strict):
    adviser_email: Email
    scopes: list[Literal["consumption", "profile"]] = Field(min_length=1)


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
