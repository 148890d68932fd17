"""What every DSO connector shares: the closed set of outcomes a DSO answer maps to, and capabilities.

Each connector maps its DSO's errors once, in its client, to one of these exceptions; the collection
worker applies one policy per outcome (see ``POLICY``).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum


class Outcome(StrEnum):
    ok = "ok"
    consent_revoked = "consent_revoked"
    no_data = "no_data"
    quota_exceeded = "quota_exceeded"
    transient = "transient"
    bad_request = "bad_request"


class DsoError(Exception):
    outcome: Outcome = Outcome.transient

    def __init__(self, message: str, *, code: str | None = None, retry_after: float | None = None,
                 status: int | None = None):
        super().__init__(message)
        self.code = code
        self.retry_after = retry_after
        self.status = status


class ConsentRevoked(DsoError):
    """The DSO says there is no (longer a) consent for this meter: stop collecting at once."""
    outcome = Outcome.consent_revoked


class NoData(DsoError):
    """The DSO has nothing for this period (not published yet, meter not active): not an error."""
    outcome = Outcome.no_data


class QuotaExceeded(DsoError):
    """429: wait (retry_after when the DSO says) and retry, never in a tight loop."""
    outcome = Outcome.quota_exceeded


class Transient(DsoError):
    """5xx, time-out, truncated or unparsable body: retry later with backoff and jitter."""
    outcome = Outcome.transient


class BadRequest(DsoError):
    """The request itself is wrong (dates out of range, bad identifier): do not retry as is."""
    outcome = Outcome.bad_request


@dataclass(frozen=True)
class Capabilities:
    dso: str
    channel: str
    energies: tuple[str, ...]
    granularities: tuple[str, ...]
    history_days: int
    publication_time: dt.time  # local time (Europe/Paris) after which day D-lag is expected
    lag_days_min: int
    lag_days_max: int
    notes: tuple[str, ...] = field(default=())
