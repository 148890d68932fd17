"""What every DSO connector shares: the closed set of outcomes a DSO answer maps to, capabilities, the
application's client-credentials token and the reading of Retry-After.

Each connector maps its DSO's errors once, in its client, to one of these exceptions; the collection
worker applies one policy per outcome (see ``POLICY``).
"""
from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from authlib.integrations.httpx_client import AsyncOAuth2Client

from metro.schemas.collection import FailingReason, Freshness

PARIS = ZoneInfo("Europe/Paris")


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

    def newest_day(self, now: dt.datetime) -> dt.date:
        """The newest day the DSO publishes by ``now``, at its shortest lag."""
        local = now.astimezone(PARIS)
        lag = self.lag_days_min if local.time() >= self.publication_time else self.lag_days_min + 1
        return local.date() - dt.timedelta(days=lag)

    def first_data_by(self, now: dt.datetime) -> dt.date:
        """The day by which a meter consented at ``now`` has its first data: the DSO's next publication, at its
        longest documented lag (the history a consent opens comes with the first collection)."""
        local = now.astimezone(PARIS)
        publication = local.date() + dt.timedelta(days=0 if local.time() < self.publication_time else 1)
        return publication + dt.timedelta(days=self.lag_days_max - self.lag_days_min)

    def latest_on_time(self, now: dt.datetime) -> dt.date:
        """The newest day that must be published by ``now`` even at the DSO's longest documented lag."""
        return self.newest_day(now) - dt.timedelta(days=self.lag_days_max - self.lag_days_min)


FAILING_REASONS = {Outcome.transient: FailingReason.dso_unavailable,
                   Outcome.quota_exceeded: FailingReason.dso_quota_exceeded,
                   Outcome.bad_request: FailingReason.dso_request_refused,
                   Outcome.consent_revoked: FailingReason.dso_consent_missing}


def freshness(caps: Capabilities, now: dt.datetime, last_day: dt.date | None, outcome: str | None,
              collecting: bool = True) -> tuple[Freshness, FailingReason | None]:
    """A meter's data against what the DSO publishes by ``now``: ``outcome`` is its last collection's (None
    before the first answer), ``collecting`` False once the connector stopped."""
    if last_day is not None and last_day >= caps.newest_day(now):
        return Freshness.fresh, None
    failed = FAILING_REASONS.get(outcome) if outcome else None
    if failed is not None:
        return Freshness.collection_failing, failed
    if not collecting:
        return Freshness.no_consent, None
    if last_day is None and outcome is None:
        return Freshness.pending, None
    if last_day is not None and last_day >= caps.latest_on_time(now):
        return Freshness.dso_late, None
    return Freshness.collection_failing, FailingReason.dso_no_data


def first_data_by(caps: Capabilities, now: dt.datetime, last_day: dt.date | None,
                  collecting: bool) -> dt.date | None:
    """When a collected meter has no data yet, the day its first data is due by; None otherwise."""
    return caps.first_data_by(now) if last_day is None and collecting else None


def retry_after(response: httpx.Response) -> float | None:
    """Seconds the Retry-After header asks to wait, None when it is absent or not a number."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


class ClientCredentialsClient(AsyncOAuth2Client):
    """HTTP to a DSO with the application's OAuth2 client-credentials token: authlib fetches it from
    `token_endpoint` at the first call and again `leeway` seconds before the expiry the DSO announced.

    A DSO refuses a token before that now and then (401): `token_refused` marks it expired, so that the next
    call fetches one new token, however many calls were refused with the old one at the same time.
    """

    def __init__(self, client_id: str, client_secret: str, token_endpoint: str, **options: Any):
        # No token yet is an expired one: authlib then fetches the first under its refresh lock, once.
        super().__init__(client_id, client_secret, token_endpoint=token_endpoint,
                         grant_type="client_credentials",
                         token={"access_token": "", "token_type": "Bearer", "expires_at": 0}, **options)

    @staticmethod
    def token_answer(response: httpx.Response, body: dict[str, Any], lifetime: float) -> httpx.Response:
        """The token answer as authlib reads it: the expiry as a time, whatever form the DSO gave it in."""
        expires_at = int(time.time() + lifetime)
        return httpx.Response(200, json=body | {"expires_at": expires_at}, request=response.request)

    def token_refused(self, response: httpx.Response) -> None:
        sent = response.request.headers.get("authorization", "").partition(" ")[2]
        if self.token["access_token"] == sent:
            self.token["expires_at"] = 0
