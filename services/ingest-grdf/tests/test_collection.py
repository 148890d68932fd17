"""Pure decisions of ingest-grdf: what GRDF's states and codes mean, which days to ask, what is published."""
from __future__ import annotations

import datetime as dt
import uuid
from types import SimpleNamespace

from ingest_grdf.adict_payloads import DailyReading, business_error, retry_periods
from ingest_grdf.app import Settings, quota_bucket
from ingest_grdf.rights import consent_status, declaration_error
from ingest_grdf.service import contract_event, history_start, latest_published_day, readings_events
from metro.collection import covered_until

D = dt.date
METER = uuid.uuid4()


def test_grdf_states_map_to_the_consent_life_cycle():
    assert consent_status("awaiting_holder") == "awaiting_holder"
    assert consent_status("active") == "active"
    assert consent_status("to_recheck") == "active"
    assert consent_status("refused") == "refused"
    assert consent_status("obsolete") == "revoked"
    assert consent_status("unknown") == "invalid"


def test_declaration_refusals_carry_a_stable_code_the_resident_can_act_on():
    assert declaration_error("1000000005", "Le code postal ne correspond pas").code == "grdf_postal_code_mismatch"
    holder = declaration_error("1000000022", "La demande d'accès est incohérente.")
    assert (holder.code, holder.status_code) == ("grdf_holder_mismatch", 409)
    assert declaration_error("1000000022", "La date de fin du droit d’accès ...").code == \
        "grdf_declaration_incoherent"
    assert declaration_error("1000000006", "Le PCE est inconnu.").code == "grdf_unknown_pce"
    assert declaration_error("9999999999", "?").code == "grdf_declaration_refused"
    assert all(declaration_error(c, "m").status_code < 500 for c in ("1000000005", "1000000003", None))


def test_gas_day_d_is_expected_after_midday_the_next_day():
    before = dt.datetime(2026, 1, 10, 10, 0, tzinfo=dt.UTC)  # 11:00 Paris
    after = dt.datetime(2026, 1, 10, 12, 0, tzinfo=dt.UTC)  # 13:00 Paris
    assert latest_published_day(before) == D(2026, 1, 8)
    assert latest_published_day(after) == D(2026, 1, 9)


def test_history_goes_back_three_years_unless_the_meter_or_the_consent_is_younger():
    today = D(2026, 11, 28)
    none = SimpleNamespace(history_from=None)
    assert history_start(none, None, today) == D(2023, 11, 29)
    assert history_start(none, {"commissioning_date": "2025-02-01"}, today) == D(2025, 2, 1)
    assert history_start(SimpleNamespace(history_from=D(2024, 5, 1)), None, today) == D(2024, 5, 1)


def test_days_grdf_may_still_publish_count_only_once_returned():
    late_from = D(2024, 6, 9)
    assert covered_until((D(2024, 1, 1), D(2024, 6, 1)), None, late_from) == D(2024, 6, 1)
    assert covered_until((D(2024, 6, 1), D(2024, 6, 11)), D(2024, 6, 8), late_from) == D(2024, 6, 9)
    assert covered_until((D(2024, 6, 1), D(2024, 6, 11)), D(2024, 6, 10), late_from) == D(2024, 6, 11)


def test_a_retry_line_names_the_days_to_ask_again_within_the_request_and_not_returned():
    line = {"periode": {"valeur": None, "date_debut": "2024-03-05", "date_fin": "2024-03-07"},
            "statut_restitution": {"code": "2000100", "message": "Veuillez retenter votre appel sur la période "
                                                                 "mentionnée ci-dessus."}}
    assert business_error(line["statut_restitution"]).outcome.value == "transient"
    start, end = D(2024, 3, 1), D(2024, 3, 31)
    assert retry_periods(line, start, end, set()) == [(D(2024, 3, 5), D(2024, 3, 7))]
    assert retry_periods(line, start, end, {D(2024, 3, 5)}) == [(D(2024, 3, 6), D(2024, 3, 7))]
    assert retry_periods(line, D(2024, 3, 6), end, set()) == [(D(2024, 3, 6), D(2024, 3, 7))]
    # A line echoing the whole request (or naming no readable period) leaves the days no good line returned.
    returned = {start + dt.timedelta(days=i) for i in range(30)} - {D(2024, 3, 10), D(2024, 3, 11), D(2024, 3, 20)}
    echo = {"periode": {"date_debut": "2024-03-01", "date_fin": "2024-03-31"}}
    expected = [(D(2024, 3, 10), D(2024, 3, 12)), (D(2024, 3, 20), D(2024, 3, 21))]
    assert retry_periods(echo, start, end, returned) == expected
    assert retry_periods({"periode": None}, start, end, returned) == expected


def test_readings_are_integer_wh_with_volume_and_coefficient_at_most_a_year_per_event():
    readings = [DailyReading(day=D(2024, 1, 1) + dt.timedelta(days=i), wh=48_000, volume_m3=4,
                             conversion_coefficient=11.71, quality="measured", final=True) for i in range(400)]
    events = readings_events(METER, readings)
    assert [len(e.readings) for e in events] == [366, 34]
    assert events[0].source == "grdf.adict" and events[0].unit == "Wh" and events[0].meter_id == METER
    assert events[0].to_payload()["readings"][0] == [
        "2024-01-01", 48_000, "measured", {"volume_m3": 4, "conversion_coefficient": 11.71}]


def test_contract_event_names_the_routing_tariff_and_no_electric_fields():
    event = contract_event(METER, {"tariff": "T2", "annual_consumption_kwh": 14000, "commissioning_date": "2020-01-01",
                                   "profile": "P016"})
    assert event.tariff_option == "T2" and event.subscribed_kva is None and event.offpeak_hours is None
    assert event.raw["annual_consumption_kwh"] == 14000 and event.start == D(2020, 1, 1)


def test_the_shared_bucket_keeps_one_call_per_second_and_counts_the_daily_cap():
    bucket = quota_bucket(SimpleNamespace(db=None), Settings(quota_per_second=1.0, quota_per_day=6000))
    assert bucket.capacity + bucket.rate * (1 + bucket.arrival_jitter_s) <= 1.0
    # The day's calls go at the per-second pace, not spread over the hours.
    assert bucket.per_day == 6000 and bucket.per_hour is None and bucket.rate > 0.4
