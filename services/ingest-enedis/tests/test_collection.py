"""Pure collection logic: which days to ask, and one policy per Data Connect outcome."""
from __future__ import annotations

import datetime as dt
import random
from types import SimpleNamespace

import pytest

from ingest_enedis.service import history_start
from metro.collection import CallFailed, CallStats, Policy, TokenBucket, call_dso, covered_until, merge_ranges, \
    missing_ranges, next_publication
from metro.dso import BadRequest, ConsentRevoked, NoData, QuotaExceeded, Transient

D = dt.date


def test_only_the_days_not_yet_collected_are_asked_again():
    wanted = (D(2024, 1, 1), D(2024, 2, 1))
    have = [(D(2024, 1, 5), D(2024, 1, 10)), (D(2023, 12, 1), D(2024, 1, 2)), (D(2024, 1, 9), D(2024, 1, 20))]
    assert missing_ranges(wanted, have) == [(D(2024, 1, 2), D(2024, 1, 5)), (D(2024, 1, 20), D(2024, 2, 1))]
    assert missing_ranges(wanted, [wanted]) == []
    assert missing_ranges(wanted, []) == [wanted]
    assert merge_ranges([(D(2024, 1, 1), D(2024, 1, 3)), (D(2024, 1, 3), D(2024, 1, 4))]) == \
        [(D(2024, 1, 1), D(2024, 1, 4))]


def test_days_still_expected_late_count_only_once_returned():
    late_from = D(2024, 6, 9)
    assert covered_until((D(2024, 1, 1), D(2024, 6, 1)), None, late_from) == D(2024, 6, 1)
    assert covered_until((D(2024, 6, 1), D(2024, 6, 11)), D(2024, 6, 8), late_from) == D(2024, 6, 9)
    assert covered_until((D(2024, 6, 1), D(2024, 6, 11)), D(2024, 6, 10), late_from) == D(2024, 6, 11)
    assert covered_until((D(2024, 6, 10), D(2024, 6, 11)), None, late_from) == D(2024, 6, 10)


def test_history_starts_at_activation_when_the_meter_is_younger_than_three_years():
    today = D(2026, 11, 28)
    cursor = SimpleNamespace(history_from=None)
    assert history_start(cursor, {"activation_date": "2026-02-01"}, today, 36) == D(2026, 2, 1)
    # Three years back are 1 096 days here (2024 is a leap year): the oldest day is left out, which saves the
    # fourth call of the first collection.
    assert history_start(cursor, {"activation_date": "2012-02-01"}, today, 36) == D(2023, 11, 29)
    assert (today - D(2023, 11, 29)).days == 3 * 365
    # Beyond a week over whole windows nothing is cut.
    assert history_start(cursor, {"activation_date": "2025-11-10"}, today, 36) == D(2025, 11, 10)


def test_collection_is_scheduled_after_the_next_publication_with_jitter():
    now = dt.datetime(2026, 1, 10, 6, 0, tzinfo=dt.UTC)  # 07:00 Paris
    at = next_publication(now, dt.time(8, 30), jitter_s=600, rng=random.Random(1))
    assert dt.datetime(2026, 1, 10, 7, 30, tzinfo=dt.UTC) <= at <= dt.datetime(2026, 1, 10, 7, 40, tzinfo=dt.UTC)
    later = next_publication(now + dt.timedelta(hours=3), dt.time(8, 30))
    assert later == dt.datetime(2026, 1, 11, 7, 30, tzinfo=dt.UTC)


class FakeBucket:
    def __init__(self):
        self.taken = 0
        self.penalties: list[float] = []

    async def take(self, n: float = 1.0) -> float:
        self.taken += 1
        return 0.0

    async def penalise(self, seconds: float) -> None:
        self.penalties.append(seconds)


def script(*answers):
    it = iter(answers)

    async def call():
        a = next(it)
        if isinstance(a, Exception):
            raise a
        return a
    return call


async def run(*answers, policy=Policy(transient_attempts=3, retry_base_s=0.01)):
    bucket, stats, slept = FakeBucket(), CallStats(), []

    async def sleep(s):
        slept.append(s)
    try:
        result = await call_dso("enedis", bucket, policy, stats, script(*answers), sleep=sleep)
    except CallFailed as failed:
        result = failed.error
    return result, bucket, stats, slept


async def test_quota_exceeded_waits_what_the_dso_asks_then_succeeds():
    result, bucket, stats, slept = await run(QuotaExceeded("429", retry_after=2.0), QuotaExceeded("429"), "ok")
    assert result == "ok" and slept == [2.0, 2.0] and bucket.penalties == [2.0, 2.0]
    assert stats.throttled == 2 and stats.calls == 3 and stats.outcomes["ok"] == 1


async def test_transient_errors_are_retried_a_bounded_number_of_times():
    result, bucket, stats, slept = await run(Transient("500"), Transient("500"), Transient("500"), "never")
    assert isinstance(result, Transient) and bucket.taken == 3 and len(slept) == 2
    result, *_ = await run(Transient("500"), "ok")
    assert result == "ok"


@pytest.mark.parametrize("error", [ConsentRevoked("403"), NoData("404"), BadRequest("400")])
async def test_revoked_no_data_and_bad_request_are_never_retried(error):
    result, bucket, stats, slept = await run(error, "never")
    assert result is error and bucket.taken == 1 and slept == []


def test_bucket_rate_keeps_both_quotas_in_any_sliding_window():
    bucket = TokenBucket(None, None, "x", per_second=20, per_hour=10_000)  # type: ignore[arg-type]
    assert bucket.capacity + bucket.rate * (1 + bucket.arrival_jitter_s) <= 20
    assert bucket.capacity + 3600 * bucket.rate <= 10_000
    assert bucket.rate > 0.99 * (10_000 - 1) / 3600
