"""A meter's freshness against the DSO's documented publication time and lag."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from metro.dso import Capabilities, freshness
from metro.schemas.collection import FailingReason, Freshness

PARIS = ZoneInfo("Europe/Paris")
# Published from 08:00 on D+1, late meters up to D+3.
CAPS = Capabilities(dso="x", channel="y", energies=("electricity",), granularities=("P1D",), history_days=1095,
                    publication_time=dt.time(8, 0), lag_days_min=1, lag_days_max=3)
MORNING = dt.datetime(2026, 12, 10, 9, 0, tzinfo=PARIS)
DAWN = dt.datetime(2026, 12, 10, 7, 0, tzinfo=PARIS)


def day(d: int) -> dt.date:
    return dt.date(2026, 12, d)


def test_the_newest_day_moves_at_the_publication_time():
    assert CAPS.newest_day(DAWN) == day(8)
    assert CAPS.newest_day(MORNING) == day(9)
    assert CAPS.latest_on_time(MORNING) == day(7)


def test_yesterday_collected_after_publication_is_fresh_even_after_a_failed_attempt():
    assert freshness(CAPS, MORNING, day(9), "ok") == (Freshness.fresh, None)
    assert freshness(CAPS, MORNING, day(9), "transient") == (Freshness.fresh, None)
    assert freshness(CAPS, DAWN, day(8), "no_data") == (Freshness.fresh, None)


def test_behind_within_the_documented_lag_is_the_dso_late():
    assert freshness(CAPS, MORNING, day(8), "no_data") == (Freshness.dso_late, None)
    assert freshness(CAPS, MORNING, day(7), "ok") == (Freshness.dso_late, None)


def test_behind_beyond_the_lag_or_failing_answers_are_collection_failing_with_the_reason():
    assert freshness(CAPS, MORNING, day(6), "no_data") == (Freshness.collection_failing, FailingReason.dso_no_data)
    assert freshness(CAPS, MORNING, day(8), "transient") == (Freshness.collection_failing,
                                                             FailingReason.dso_unavailable)
    assert freshness(CAPS, MORNING, None, "quota_exceeded") == (Freshness.collection_failing,
                                                                FailingReason.dso_quota_exceeded)
    assert freshness(CAPS, MORNING, None, "bad_request") == (Freshness.collection_failing,
                                                             FailingReason.dso_request_refused)
    assert freshness(CAPS, MORNING, day(8), "consent_revoked", collecting=False) == (
        Freshness.collection_failing, FailingReason.dso_consent_missing)


def test_before_the_first_answer_pending_and_a_stopped_meter_has_no_consent():
    assert freshness(CAPS, MORNING, None, None) == (Freshness.pending, None)
    assert freshness(CAPS, MORNING, day(1), "revoked:user", collecting=False) == (Freshness.no_consent, None)


def test_first_data_is_due_at_the_next_publication_at_the_longest_lag():
    # Consent at 07:00: today's 08:00 publication, late by up to 2 more days; at 09:00, tomorrow's.
    assert CAPS.first_data_by(DAWN) == day(12)
    assert CAPS.first_data_by(MORNING) == day(13)
    enedis = Capabilities(dso="enedis", channel="dataconnect", energies=("electricity",), granularities=("P1D",),
                          history_days=1095, publication_time=dt.time(8, 0), lag_days_min=1, lag_days_max=2)
    # 23:30 UTC on 9 December is already 00:30 on the 10th in Paris: that morning's publication, a day late at most.
    assert enedis.first_data_by(dt.datetime(2026, 12, 9, 23, 30, tzinfo=dt.UTC)) == day(11)


def test_only_a_collected_meter_without_data_has_a_first_data_date():
    from metro.dso import first_data_by
    assert first_data_by(CAPS, MORNING, None, True) == day(13)
    assert first_data_by(CAPS, MORNING, day(9), True) is None
    assert first_data_by(CAPS, MORNING, None, False) is None
