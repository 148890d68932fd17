"""Issue 20, the home that coaches: what the summary and the totals tell of the month to date (CO2e, the same days
last year, weather-corrected where degree days allow) and why a comparison is not shown, through the real stack."""
from __future__ import annotations

import datetime as dt

import pytest

from devstack.client import admin_user
from devstack.events import publish, readings_event
from devstack.waiting import eventually
from tests.e2e.test_consumption import DJU, days_from, dwelling_body, new_meter

pytestmark = pytest.mark.e2e

LVD = "38538002,GRENOBLE - LVD (Le Versoud)"


def with_degree_days(csv: str, rows: dict[str, str]) -> str:
    for row, value in rows.items():
        blank = f"{LVD},{row},18,,"
        assert csv.count(blank) == 1, row
        csv = csv.replace(blank, f"{LVD},{row},18,{value},")
    return csv


async def test_the_month_to_date_carries_co2e_and_the_same_days_last_year_weather_corrected(stack, resident):
    meter_id = await new_meter(stack, resident)
    # 8 kWh a day through March 2024, 10 kWh a day from 1 to 20 March 2025 (nothing in between: not needed).
    await publish(stack.amqp_url, readings_event(meter_id, dt.date(2024, 3, 1), [8_000] * 31))
    await publish(stack.amqp_url, readings_event(meter_id, dt.date(2025, 3, 1), [10_000] * 20))

    def totals():
        r = resident.get(f"/meters/{meter_id}/totals")
        assert r.status_code == 200 and r.json()["as_of"] == "2025-03-20", r.text
        assert r.json()["last_year_month_wh"] is not None, r.text
        return r.json()
    t = await eventually(totals)
    assert t["month_wh"] == 200_000
    # 200 kWh × 0.0461 kgCO2e/kWh (Base Empreinte 2025, electricity mix) = 9.22 kg.
    assert t["month_co2e_g"] == 9_220 and "0.0461" in t["co2e_factor"]
    assert t["forecast_co2e_g"] == round(t["forecast_wh"] * 0.0461)
    # 1 to 20 March 2024, the same days a year before.
    assert (t["last_year_month_wh"], t["last_year_month_days_missing"]) == (160_000, 0)
    assert t["last_year_month_eur"] is not None
    # The bundled degree days are gaps: no correction claimed.
    assert not t["last_year_weather_normalised"] and t["last_year_month_wh_normalised"] is None

    # The home is heated with electricity, and March 2025 was colder than March 2024 (the test's figures).
    r = resident.put("/me/dwelling", json=dwelling_body({
        "insee_code": "38185", "surface_m2": 60.0, "occupants": 2, "dwelling_type": "apartment",
        "heating_energy": "electricity", "heating_mode": "individual", "hot_water_energy": "electricity",
        "construction_year": 1980}))
    assert r.status_code == 200, r.text
    admin = admin_user(stack.url("gateway"))
    csv = with_degree_days(DJU, {"actual,2024-03": "250", "actual,2025-03": "300", "normal_1991_2020,03": "280"})
    try:
        assert admin.put("/admin/degree-days", content=csv, headers={"content-type": "text/csv"}).status_code == 200

        def corrected():
            summary = resident.get("/me/summary").json()
            [m] = [m for m in summary["meters"] if m["meter_id"] == meter_id]
            assert m["totals"]["last_year_weather_normalised"], m["totals"]
            return m["totals"]
        c = await eventually(corrected)
        # Only the heating share (70 %) follows the weather: 160 × (0.3 + 0.7 × 300 / 250) = 182.4 kWh.
        assert c["last_year_month_wh_normalised"] == 182_400
        assert (c["month_wh"], c["month_co2e_g"], c["last_year_month_wh"]) == (200_000, 9_220, 160_000)
    finally:
        assert admin.put("/admin/degree-days", content=DJU, headers={"content-type": "text/csv"}).status_code == 200
        admin.close()


async def test_the_comparison_says_the_dwelling_is_missing_until_it_is_described(stack, resident):
    meter_id = await new_meter(stack, resident)
    await publish(stack.amqp_url, readings_event(meter_id, dt.date(2025, 5, 1), [9_000] * 31))
    params = {"from": "2025-05-01", "to": "2025-06-01"}

    def compared():
        r = resident.get(f"/meters/{meter_id}/comparison", params=params)
        assert r.status_code == 200 and r.json()["wh"] == 279_000, r.text
        return r.json()
    before = await eventually(compared)
    assert not before["available"] and before["reason"] == "dwelling_not_described"

    # Described without saying how it is heated: the missing piece is named.
    body = dwelling_body({"insee_code": "38185", "surface_m2": 48.0, "occupants": 1, "dwelling_type": "apartment",
                          "heating_energy": None, "heating_mode": None, "hot_water_energy": None,
                          "construction_year": None})
    assert resident.put("/me/dwelling", json=body).status_code == 200

    def reason(expected: str):
        def check():
            c = resident.get(f"/meters/{meter_id}/comparison", params=params).json()
            assert c["reason"] == expected, c
            return c
        return check
    # At once, though the peer statistics of May were computed (and cached) before the description.
    await eventually(reason("profile_incomplete"), timeout=30)

    body["heating_energy"] = "electricity"
    assert resident.put("/me/dwelling", json=body).status_code == 200
    # A home alone in its energy's population has fewer than 10 peers at every level.
    after = await eventually(reason("too_few_peers"), timeout=30)
    assert not after["available"]
    days = days_from(dt.date(2025, 5, 1), 31)
    assert len(days) == 31
