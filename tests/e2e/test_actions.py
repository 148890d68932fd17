"""Issue 21 item 4: actions on three pathways, suggested from the resident's own data with the saving estimated
from their consumption, a commitment, and its measured change against the weather-normalised baseline.

Figures by hand: a home heated by electricity, hot water by electricity, using 20 kWh a day until 60 days ago
and 15 kWh a day since: its last 365 days are 305 × 20 + 60 × 15 = 7 000 kWh. Lowering the heating by one
degree saves 7 % of the heating, 70 % of that energy: 7 000 × 0.70 × 0.07 = 343 kWh a year; LED bulbs 5 % of
the appliances (1 − 0.70 − 0.12 = 0.18): 63 kWh.
"""
from __future__ import annotations

import calendar
import datetime as dt
import uuid
from pathlib import Path

import pytest

from devstack.client import ApiUser, admin_user, random_prm
from devstack.db import fetchval
from devstack.events import publish, readings_event
from devstack.waiting import eventually
from tests.e2e.test_personal_data import make_adviser

ROOT = Path(__file__).resolve().parents[2]
DJU = (ROOT / "services/consumption/consumption/data/dju_grenoble.csv").read_text("utf-8")
STATION = "38538002,GRENOBLE - LVD (Le Versoud)"
DWELLING = {"street": "8 place Grenette", "postal_code": "38000", "municipality": "Grenoble", "insee_code": "38185",
            "surface_m2": 60, "occupants": 2, "dwelling_type": "apartment", "heating_energy": "electricity",
            "heating_mode": "individual", "hot_water_energy": "electricity"}
TODAY = dt.date.today()
CHANGE = TODAY - dt.timedelta(days=60)
HEATING_MONTHS = (10, 11, 12, 1, 2, 3, 4)


async def home_with_a_year(stack) -> tuple[ApiUser, str]:
    user = ApiUser(stack.url("gateway")).signup()
    assert user.put("/me/dwelling", json=DWELLING).status_code == 200
    r = user.post("/meters", json={"energy": "electricity", "dso": "enedis", "identifier": random_prm()})
    assert r.status_code == 201, r.text
    meter = r.json()["id"]
    await eventually(lambda: fetchval(stack.database_url, "select 1 from consumption.meters where meter_id=$1",
                                      uuid.UUID(meter)))
    start = TODAY - dt.timedelta(days=430)
    values = [20_000 if start + dt.timedelta(days=i) < CHANGE else 15_000 for i in range(430)]
    # A message carries a year at most, as a connector sends them.
    await publish(stack.amqp_url, readings_event(meter, start, values[:300]),
                  readings_event(meter, start + dt.timedelta(days=300), values[300:]))
    await eventually(lambda: fetchval(stack.database_url, "select count(*) = 430 from consumption.readings "
                                      "where meter_id=$1", uuid.UUID(meter)))
    return user, meter


def by_title(actions: list[dict], start: str) -> dict:
    return next(a for a in actions if a["title_en"].startswith(start))


async def test_actions_are_suggested_from_the_residents_own_data_with_the_saving_in_kwh_and_euros(stack):
    user, _ = await home_with_a_year(stack)
    r = user.get("/actions")
    assert r.status_code == 200, r.text
    actions = r.json()
    assert {a["pathway"] for a in actions} == {"bill", "comfort", "eco_citizen"}
    assert len(actions) >= 15

    thermostat = by_title(actions, "Lower the heating by one degree")
    assert thermostat["suggested"] is (TODAY.month in HEATING_MONTHS)
    assert thermostat["estimate"]["energy"] == "electricity"
    assert thermostat["estimate"]["kwh_year"] == pytest.approx(343.0, abs=0.1)
    # The energy price of the Tarif Bleu BASE in force over the year (0.19 to 0.21 €/kWh), subscription excluded.
    assert 0.19 * 343 <= float(thermostat["estimate"]["eur_year"]) <= 0.21 * 343
    led = by_title(actions, "Switch to LED")
    assert led["suggested"] and led["estimate"]["kwh_year"] == pytest.approx(63.0, abs=0.1)
    assert "uses_energy" in led["reasons"]
    # Not for this home: a gas or fuel boiler, a house's loft, a rise nobody saw.
    assert not by_title(actions, "Have the boiler serviced")["suggested"]
    assert not by_title(actions, "Insulate the loft")["suggested"]
    assert not by_title(actions, "Find the appliance behind the rise")["suggested"]
    adviser = by_title(actions, "Share your data")
    assert adviser["suggested"] and adviser["estimate"]["kwh_year"] is None
    suggested = [a["suggested"] for a in actions]
    assert suggested == sorted(suggested, reverse=True), "suggested actions come first"

    nothing = ApiUser(stack.url("gateway")).signup()
    fresh = nothing.get("/actions").json()
    assert by_title(fresh, "Lower the heating by one degree")["estimate"]["basis"] == "energy_not_declared"
    assert not by_title(fresh, "Lower the heating by one degree")["suggested"]


async def test_a_commitment_shows_its_measured_change_against_the_weather_normalised_baseline(stack):
    user, _ = await home_with_a_year(stack)
    thermostat = by_title(user.get("/actions").json(), "Lower the heating by one degree")
    r = user.post("/me/actions", json={"action_id": thermostat["id"]})
    assert r.status_code == 201, r.text
    committed = r.json()
    assert committed["estimated_kwh"] == pytest.approx(343.0, abs=0.1)
    assert committed["effect"]["available"] is False and committed["effect"]["reason"] == "too_early"
    assert committed["measurable_from"] == (TODAY + dt.timedelta(days=28)).isoformat()
    again = user.post("/me/actions", json={"action_id": thermostat["id"]})
    assert again.status_code == 409 and again.json()["error"] == "action_already_committed"
    unknown = user.post("/me/actions", json={"action_id": str(uuid.uuid4())})
    assert unknown.status_code == 404 and unknown.json()["error"] == "action_not_found"

    # Eight weeks cannot pass in a test: the commitment is moved back to the day the consumption changed.
    await fetchval(stack.database_url, "update gateway.action_commitments set committed_on = $1 where id = $2",
                   CHANGE, uuid.UUID(committed["id"]))
    admin = admin_user(stack.url("gateway"))
    csv = {"content-type": "text/csv"}
    kept = [line for line in DJU.splitlines() if not line.startswith("38538002,")]
    normals = [f"{STATION},normal_1991_2020,{m:02d},18,300,,test" for m in range(1, 13)]
    try:
        assert admin.put("/admin/degree-days", content="\n".join(kept + normals) + "\n",
                         headers=csv).status_code == 200
        effect = user.get("/me/actions").json()[0]["effect"]
        # 56 days at 15 kWh against the same 56 days a year earlier at 20 kWh, as measured.
        assert effect["available"] and effect["baseline"] == "last_year" and not effect["weather_normalised"]
        assert effect["kwh"] == pytest.approx(840.0) and effect["baseline_kwh"] == pytest.approx(1120.0)
        assert effect["change_pct"] == pytest.approx(-25.0)

        # This autumn was twice as cold as normal, last year's was normal: this year's heating (70 %) is halved.
        end = CHANGE + dt.timedelta(days=56)
        months = {(d.year, d.month) for d in (CHANGE + dt.timedelta(days=i) for i in range((end - CHANGE).days))}
        actual = [f"{STATION},actual,{y}-{m:02d},18,{factor * 300},,test"
                  for factor, years in ((2, 0), (1, 1)) for (y, m) in sorted((y - years, m) for y, m in months)]
        assert admin.put("/admin/degree-days", content="\n".join(kept + normals + actual) + "\n",
                         headers=csv).status_code == 200
        effect = user.get("/me/actions").json()[0]["effect"]
        assert effect["weather_normalised"]
        assert effect["kwh"] == pytest.approx(840 * (0.3 + 0.7 / 2), abs=0.1)  # 546 kWh
        assert effect["baseline_kwh"] == pytest.approx(1120.0, abs=0.1)
        assert effect["change_pct"] == pytest.approx((546 - 1120) / 1120 * 100, abs=0.1)
    finally:
        assert admin.put("/admin/degree-days", content=DJU, headers=csv).status_code == 200
        admin.close()
    assert [c["action"]["id"] for c in user.get("/me/actions").json()] == [thermostat["id"]]


ACTION = {"title_fr": "Couvrir les casseroles", "title_en": "Put lids on pans",
          "explanation_fr": "L'eau bout plus vite.", "explanation_en": "Water boils faster.", "pathway": "eco_citizen",
          "energy": "electricity", "use": "appliances", "effort": "low", "saving_share": 0.02,
          "source": "estimate (test)"}


async def test_only_advisers_and_administrators_edit_the_catalogue(stack):
    resident = ApiUser(stack.url("gateway")).signup()
    refused = resident.post("/admin/actions", json=ACTION)
    assert refused.status_code == 403 and refused.json()["error"] == "forbidden_role"
    assert resident.get("/admin/actions").status_code == 403
    adviser = make_adviser(stack)
    created = adviser.post("/admin/actions", json=ACTION)
    assert created.status_code == 201, created.text
    action = created.json()
    assert resident.put(f"/admin/actions/{action['id']}", json=ACTION).status_code == 403
    assert any(a["id"] == action["id"] for a in resident.get("/actions").json())
    bad = adviser.post("/admin/actions", json={**ACTION, "pathway": "points"})
    assert bad.status_code == 422
    admin = admin_user(stack.url("gateway"))
    withdrawn = admin.put(f"/admin/actions/{action['id']}", json={**ACTION, "active": False})
    assert withdrawn.status_code == 200 and withdrawn.json()["active"] is False
    assert not any(a["id"] == action["id"] for a in resident.get("/actions").json())
    assert any(a["id"] == action["id"] for a in admin.get("/admin/actions").json())
    assert admin.put(f"/admin/actions/{uuid.uuid4()}", json=ACTION).status_code == 404
    admin.close()
