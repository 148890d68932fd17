"""The event envelope and the names of the facts services publish."""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import orjson
from pydantic import BaseModel, Field

EXCHANGE = "metroenergies.events"
DEAD_LETTER_EXCHANGE = "metroenergies.dead"
RETRY_EXCHANGE = "metroenergies.retry"


class Envelope(BaseModel):
    id: uuid.UUID = Field(default_factory=uuid.uuid4)
    name: str
    version: int = 1
    occurred_at: dt.datetime = Field(default_factory=lambda: dt.datetime.now(dt.UTC))
    producer: str
    payload: dict[str, Any]

    def to_bytes(self) -> bytes:
        return orjson.dumps(self.model_dump(mode="json"))

    @classmethod
    def from_bytes(cls, body: bytes) -> "Envelope":
        return cls.model_validate(orjson.loads(body))


class Events:
    consent_granted = "consent.granted"
    consent_revoked = "consent.revoked"
    consent_expiring = "consent.expiring"
    readings_collected = "readings.collected"
    contract_changed = "contract.changed"
    anomaly_detected = "consumption.anomaly_detected"
    erasure_requested = "account.erasure_requested"
    account_erased = "account.erased"
    # The notify service keeps the address and language it writes to.
    account_created = "account.created"
    # Facts about declarations that consumption and notify project for authorisation and peer groups.
    meter_declared = "meter.declared"
    dwelling_updated = "dwelling.updated"
