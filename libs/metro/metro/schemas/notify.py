"""Bodies of the notify service: preferences, messages, in-app notifications, unsubscribe."""
from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from metro.schemas import ClockTime, Strict


class AlertKind(StrEnum):
    anomaly = "anomaly"
    threshold = "threshold"
    consent = "consent"


class ChannelPreferences(Strict):
    alerts: list[AlertKind] = Field(default_factory=lambda: list(AlertKind))


class QuietHours(Strict):
    """Local time (Europe/Paris); an interval crossing midnight such as 22:00–07:00 is allowed."""
    start: ClockTime
    end: ClockTime


class NotificationPreferences(Strict):
    """The channels: e-mail, in-app, and Web Push to the browsers the resident subscribed (off by default). The
    language of every message is the account's (`PUT /me/language`)."""
    report_frequency: Literal["weekly", "monthly", "none"] = "monthly"
    email: ChannelPreferences = Field(default_factory=ChannelPreferences)
    in_app: ChannelPreferences = Field(default_factory=ChannelPreferences)
    push: ChannelPreferences = Field(default_factory=lambda: ChannelPreferences(alerts=[]),
                                     description="alerts pushed to the subscribed browsers (`POST "
                                                 "/me/push-subscriptions`); none by default")
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


class UnsubscribeRequest(BaseModel):
    token: str


class AccountMail(Strict):
    """An e-mail about the account itself, sent whatever the preferences: the gateway asks notify for it once
    the state it describes is committed. ``token`` (for the links) is kept by notify only until the mail has
    left: the record of what was sent holds the link without it."""
    kind: Literal["verify_email", "change_email", "reset_password", "email_change_notice", "password_changed"]
    key: uuid.UUID = Field(description="one mail: asking again with the same key sends nothing more")
    account_id: uuid.UUID
    to: str = Field(max_length=320)
    language: Literal["fr", "en"] = "fr"
    token: str | None = Field(default=None, max_length=200)
    new_email: str | None = Field(default=None, max_length=320)


class PushKeys(Strict):
    p256dh: str = Field(min_length=80, max_length=100, pattern=r"^[A-Za-z0-9_-]+=*$",
                        description="the browser's P-256 public key, base64url (PushSubscription.getKey)")
    auth: str = Field(min_length=16, max_length=30, pattern=r"^[A-Za-z0-9_-]+=*$",
                      description="the browser's 16-byte authentication secret, base64url")


class PushSubscriptionIn(Strict):
    """What `PushSubscription.toJSON()` gives in the browser (`expirationTime` is ignored)."""
    endpoint: str = Field(max_length=1000, pattern=r"^https?://",
                          description="the push service's address for this browser; outside local mode an https "
                                      "address of a known push service (422 `push_endpoint_refused`)")
    keys: PushKeys
    expirationTime: float | None = None  # noqa: N815 - the browser's own field name


class PushSubscriptionView(BaseModel):
    id: uuid.UUID
    endpoint: str
    user_agent: str | None = None
    created_at: dt.datetime


class PushPublicKey(BaseModel):
    public_key: str = Field(description="the VAPID public key (uncompressed P-256 point, base64url), the "
                                        "`applicationServerKey` of `pushManager.subscribe`")
