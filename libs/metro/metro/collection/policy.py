"""Scheduling at the DSO's publication time, one policy per outcome, and one DSO call under the quota."""
from __future__ import annotations

import asyncio
import datetime as dt
import random
from collections import Counter
from dataclasses import dataclass, field

from metro.collection.days import PARIS
from metro.collection.quota import DailyQuotaReached, TokenBucket
from metro.dso import DsoError, Outcome, QuotaExceeded
from metro.metrics import DSO_CALLS


def next_publication(now: dt.datetime, publication_time: dt.time, *, jitter_s: float = 0.0,
                     rng: random.Random | None = None) -> dt.datetime:
    """The next moment, after ``now``, when the DSO publishes (local time), plus a random spread so that
    replicas and meters do not all start on the same second."""
    local = now.astimezone(PARIS)
    at = dt.datetime.combine(local.date(), publication_time, PARIS)
    if at <= local:
        at = dt.datetime.combine(local.date() + dt.timedelta(days=1), publication_time, PARIS)
    spread = (rng or random).uniform(0, jitter_s) if jitter_s > 0 else 0.0
    return at.astimezone(dt.UTC) + dt.timedelta(seconds=spread)


@dataclass(frozen=True)
class Policy:
    """One answer per outcome. Transient errors retry in place ``transient_attempts`` times per cycle with
    exponential backoff and full jitter, then the meter waits ``backoff_base_s * 2**attempts`` (capped)."""
    transient_attempts: int = 3
    retry_base_s: float = 0.5
    retry_max_s: float = 8.0
    quota_attempts: int = 6
    quota_default_wait_s: float = 1.0
    backoff_base_s: float = 60.0
    backoff_max_s: float = 6 * 3600.0

    def retry_delay(self, attempt: int, rng: random.Random | None = None) -> float:
        return (rng or random).uniform(0.5, 1.0) * min(self.retry_max_s, self.retry_base_s * 2 ** attempt)

    def quota_wait(self, error: DsoError, attempt: int) -> float:
        if error.retry_after:
            return error.retry_after
        return min(self.retry_max_s * 8, self.quota_default_wait_s * 2 ** attempt)

    def next_attempt(self, now: dt.datetime, attempts: int, rng: random.Random | None = None) -> dt.datetime:
        delay = min(self.backoff_max_s, self.backoff_base_s * 2 ** max(attempts - 1, 0))
        return now + dt.timedelta(seconds=delay * (rng or random).uniform(0.8, 1.2))


class CallFailed(Exception):
    """A call that still failed after the retries the policy allows in this cycle."""

    def __init__(self, error: DsoError):
        super().__init__(str(error))
        self.error = error


@dataclass
class CallStats:
    """What one replica did for one meter; folded into the open cycle at the end."""
    outcomes: Counter = field(default_factory=Counter)
    calls: int = 0
    throttled: int = 0


async def call_dso(dso: str, bucket: TokenBucket, policy: Policy, stats: CallStats, make_call, *,
                   sleep=asyncio.sleep):
    """One DSO call under the shared quota, with the policy for QuotaExceeded and Transient applied.

    Returns the call's result; raises CallFailed with the outcome when the policy gives up for this cycle,
    and lets ConsentRevoked, NoData and BadRequest through as CallFailed at once (no retry).
    """
    transient = quota = 0
    while True:
        try:
            await bucket.take()
        except DailyQuotaReached as spent:
            # No call was made: the meter waits for the next day as if the DSO had answered 429.
            raise CallFailed(QuotaExceeded(str(spent), retry_after=spent.retry_after)) from spent
        stats.calls += 1
        try:
            result = await make_call()
        except DsoError as error:
            outcome = error.outcome
            stats.outcomes[outcome.value] += 1
            DSO_CALLS.labels(dso, outcome.value).inc()
            if outcome is Outcome.quota_exceeded:
                stats.throttled += 1
                wait = policy.quota_wait(error, quota)
                quota += 1
                if quota > policy.quota_attempts:
                    raise CallFailed(error) from error
                await bucket.penalise(wait)
                await sleep(wait)
                continue
            if outcome is Outcome.transient:
                transient += 1
                if transient >= policy.transient_attempts:
                    raise CallFailed(error) from error
                await sleep(policy.retry_delay(transient))
                continue
            raise CallFailed(error) from error
        stats.outcomes[Outcome.ok.value] += 1
        DSO_CALLS.labels(dso, Outcome.ok.value).inc()
        return result
