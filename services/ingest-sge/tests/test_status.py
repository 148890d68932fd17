"""What the gateway shows of an SGE meter: the R151 files' D+2 lag decides fresh, late and failing."""
from __future__ import annotations

import datetime as dt
import uuid
from types import SimpleNamespace

from ingest_sge.service import CAPABILITIES, PARIS, collection_statuses

# Thursday 12 March 2026, 09:00 in Paris: Tuesday's file arrived at about 03:00 today.
NOW = dt.datetime(2026, 3, 12, 9, 0, tzinfo=PARIS)


def _row(last_day, *, active=True, history_from=dt.date(2026, 1, 1)):
    return SimpleNamespace(meter_id=uuid.uuid4(), active=active, history_from=history_from,
                           updated_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), last_day=last_day)


def _status(row, outcome="ok", now=NOW):
    [s] = collection_statuses([row], outcome, now)
    return s.freshness.value, s.reason.value if s.reason else None, s.last_collected_day


def test_the_day_before_yesterday_is_fresh_after_the_morning_file_and_late_before_it():
    tuesday = dt.date(2026, 3, 10)
    assert CAPABILITIES.newest_day(NOW) == tuesday
    assert _status(_row(tuesday)) == ("fresh", None, tuesday)
    assert _status(_row(tuesday - dt.timedelta(days=1))) == ("dso_late", None, dt.date(2026, 3, 9))
    assert _status(_row(tuesday - dt.timedelta(days=1)), now=NOW.replace(hour=5)) == (
        "fresh", None, dt.date(2026, 3, 9))


def test_beyond_the_longest_lag_or_a_failed_drop_the_collection_is_failing():
    assert _status(_row(dt.date(2026, 3, 8)))[:2] == ("collection_failing", "dso_no_data")
    assert _status(_row(dt.date(2026, 3, 9)), "transient")[:2] == ("collection_failing", "dso_unavailable")


def test_a_new_subscription_is_pending_until_its_first_day_is_due_even_late():
    assert _status(_row(None, history_from=dt.date(2026, 3, 10)))[:2] == ("pending", None)
    assert _status(_row(None, history_from=dt.date(2026, 3, 9)))[:2] == ("collection_failing", "dso_no_data")
    assert _status(_row(None), None)[:2] == ("pending", None)


def test_a_revoked_subscription_is_no_longer_collected():
    assert _status(_row(dt.date(2026, 3, 1), active=False))[:2] == ("no_consent", None)


def test_a_subscription_without_data_yet_says_by_when_its_first_file_is_due():
    [pending] = collection_statuses([_row(None, history_from=dt.date(2026, 3, 20))], "ok", NOW)
    # Its first day, 20 March, is in the file of the 22nd, the 23rd at the longest lag.
    assert pending.first_data_by == dt.date(2026, 3, 23)
    [collected] = collection_statuses([_row(dt.date(2026, 3, 10))], "ok", NOW)
    assert collected.first_data_by is None
