"""The Enedis sandbox follows Data Connect's rules, bodies and quirks, over real HTTP."""
from __future__ import annotations

import datetime as dt

import httpx
import pytest

from tests.sandboxes.enedis import RegisteredClient, SandboxConfig
from tests.sandboxes.enedis.customers import default_meter
from tests.sandboxes.enedis.server import running_sandbox

CLIENT = RegisteredClient("sbx-client", "sbx-secret", "https://app.example/callback")
DAILY = "/metering_data_dc/v5/daily_consumption"


@pytest.fixture(scope="module")
def base_url():
    with running_sandbox(SandboxConfig(clients=[CLIENT], per_second_quota=1000)) as url:
        yield url


@pytest.fixture
async def http(base_url):
    async with httpx.AsyncClient(base_url=base_url, verify=False) as client:
        await client.post("/_sandbox/reset")
        await client.put("/_sandbox/quotas", json={"per_second": 1000})
        await client.put("/_sandbox/clock", json={"now": "2026-03-10T09:00:00+01:00"})
        token = (await client.post("/oauth2/v3/token", data={"grant_type": "client_credentials"},
                                   auth=(CLIENT.client_id, CLIENT.client_secret))).json()["access_token"]
        client.headers["Authorization"] = f"Bearer {token}"
        yield client


def authorize(**overrides) -> dict:
    return {"client_id": CLIENT.client_id, "response_type": "code", "state": "x0", "duration": "P3Y", **overrides}


async def daily(http, prm="22516914714270", start="2026-03-01", end="2026-03-05", path=DAILY) -> httpx.Response:
    return await http.get(path, params={"usage_point_id": prm, "start": start, "end": end})


@pytest.mark.parametrize("duration,status,description", [
    (None, 400, "missing_parameter"), ("P4Y", 400, "maximum_duration_exceeded"),
    ("P1097D", 400, "maximum_duration_exceeded"), ("-P1Y", 400, "maximum_duration_exceeded"),
    ("three years", 400, "invalid_duration_format"), ("PT1H", 500, "lincs-internal-server-error")])
async def test_consent_page_refuses_bad_durations_like_enedis(http, duration, status, description):
    params = authorize(duration=duration) if duration else {k: v for k, v in authorize().items() if k != "duration"}
    response = await http.get("/dataconnect/v1/oauth2/authorize", params=params)
    assert response.status_code == status and response.json()["error_description"] == description


async def test_consent_page_unknown_client_is_the_404_page(http):
    response = await http.get("/dataconnect/v2/oauth2/authorize", params=authorize(client_id="nobody"))
    assert response.status_code == 404 and "Erreur 404" in response.text


async def test_last_state_digit_picks_the_official_fake_customer(http):
    page = await http.get("/dataconnect/v1/oauth2/authorize", params=authorize(state="abc7", duration="P36M"))
    assert page.status_code == 200
    assert all(prm in page.text for prm in ("64975835695673", "63695879465986", "22315546958763"))
    response = await http.post("/dataconnect/v1/oauth2/authorize", data={
        **authorize(state="abc7"), "customer_id": "sandbox-7", "decision": "accept",
        "usage_point_id": "63695879465986"}, follow_redirects=False)
    assert response.status_code == 302
    assert response.headers["location"].startswith(CLIENT.redirect_uri + "?code=")
    assert response.headers["location"].endswith("&state=abc7&usage_point_id=63695879465986")


async def test_token_rules(http):
    good = (CLIENT.client_id, CLIENT.client_secret)
    in_body = await http.post("/oauth2/v3/token", data={"grant_type": "client_credentials",
                                                         "client_id": CLIENT.client_id,
                                                         "client_secret": CLIENT.client_secret})
    assert in_body.status_code == 200 and in_body.json()["expires_in"] == 12600
    assert in_body.json()["access_token"].count(".") == 2
    assert (await http.post("/oauth2/v3/token", json={"grant_type": "client_credentials"}, auth=good)).status_code == 400
    assert (await http.post("/oauth2/v3/token", data={"grant_type": "password"}, auth=good)).json()["error"] == \
        "unsupported_grant_type"
    assert (await http.post("/oauth2/v3/token", data={"grant_type": "client_credentials"},
                            auth=(CLIENT.client_id, "no"))).status_code == 401
    await http.post("/_sandbox/clock/advance", json={"seconds": 12_600})
    expired = await daily(http)
    assert expired.status_code == 401 and expired.json()["fault"]["code"] == 900901


@pytest.mark.parametrize("prm,start,end,status,code,description", [
    ("2251691471427", "2026-03-01", "2026-03-02", 400, "Invalid_request", "usage_point_id parameter must be 14 digits long."),
    ("22516914714270", "2026-03-02", "2026-03-02", 400, "Invalid_request", "Start date should be before end date."),
    ("22516914714270", "2026-03-01", "2026-03-11", 400, "Invalid_request",
     "The end date parameter must be earlier than the current date."),
    ("22516914714270", "2023-02-22", "2023-03-01", 400, "ADAM-ERR0125",
     "The start date must be greater than the history deadline."),
    ("26584978546985", "2026-03-01", "2026-03-02", 403, "ADAM-DC-0008",
     "No consent can be found for this customer and this usage point."),
    ("24880057139941", "2026-03-01", "2026-03-02", 400, "ADAM-ERR0069",
     "Le sens de la mesure ne correspond pas pour le PRM demandé"),
    ("22516914714270", "2025-01-01", "2026-03-02", 400, "Invalid_request", "The requested period must be less than 365 days."),
])
async def test_metering_errors_carry_the_real_codes(http, prm, start, end, status, code, description):
    response = await daily(http, prm, start, end)
    assert response.status_code == status
    assert response.json() == {"error": code, "error_description": description}


async def test_end_today_is_accepted_and_data_stops_at_yesterday_after_eight(http):
    body = (await daily(http, end="2026-03-10")).json()["meter_reading"]
    assert body["interval_reading"][-1]["date"] == "2026-03-09"
    assert body["reading_type"]["unit"] == "Wh" and isinstance(body["interval_reading"][0]["value"], str)


async def test_history_deadline_is_36_months_and_15_days(http):
    assert (await daily(http, start="2023-02-23", end="2023-03-01")).status_code == 200


async def test_meter_commissioned_2019_refuses_earlier_periods(http):
    await http.put("/_sandbox/clock", json={"now": "2021-06-01T12:00:00+02:00"})
    response = await daily(http, "11453290002823", "2019-08-01", "2019-09-01")
    assert response.json()["error"] == "ADAM-ERR0123"
    assert (await daily(http, "11453290002823", "2019-08-27", "2019-09-01")).status_code == 200


async def test_tuesday_and_wednesday_holes_of_customer_4(http):
    readings = (await daily(http, "42900589957123", "2026-02-01", "2026-03-01")).json()["meter_reading"]
    weekdays = {dt.date.fromisoformat(r["date"]).weekday() for r in readings["interval_reading"]}
    assert weekdays == {0, 3, 4, 5, 6}


async def test_no_data_before_publication(http):
    await http.put("/_sandbox/clock", json={"now": "2026-03-10T07:30:00+01:00"})
    response = await daily(http, start="2026-03-09", end="2026-03-10")
    assert response.status_code == 404 and response.json()["error"] == "no_data_found"


async def test_2026_shapes_and_quirks(http):
    v2 = await http.get("/mesure_synchrone_auto/v2/consommation_quotidienne",
                        params={"pointId": "22516914714270", "dateDebut": "2026-03-01", "dateFin": "2026-03-05"})
    v5 = (await daily(http)).json()["meter_reading"]["interval_reading"]
    assert [(p["d"], p["v"]) for p in v2.json()["grandeur"][0]["points"]] == [(r["date"], r["value"]) for r in v5]
    missing = await http.get("/mesure_synchrone_auto/v2/puissance_conso_max_quotidienne",
                             params={"pointId": "22516914714270", "dateDebut": "2026-03-01", "dateFin": "2026-03-05"})
    assert missing.status_code == 400 and set(missing.json()) == {"code", "message"}
    with_query = await http.get("/situation_contrat_auto/v1/22516914714270", params={"usage_point_id": "x"})
    assert with_query.status_code == 500
    contracts = await http.get("/customers_upc/v5/usage_points/contracts", params={"usage_point_id": "22516914714270"})
    assert contracts.headers["content-type"] == "application/octet-stream"


async def test_quota_bodies_are_the_gateway_ones(http):
    await http.put("/_sandbox/quotas", json={"per_second": 2})
    statuses = [(await daily(http)) for _ in range(4)]
    assert [r.status_code for r in statuses[:2]] == [200, 200]
    assert statuses[2].status_code == 429 and statuses[2].json()["fault"]["code"] == 900807
    await http.put("/_sandbox/quotas", json={"per_second": 100, "per_hour": 1})
    await daily(http)
    hourly = (await daily(http)).json()
    assert hourly["code"] == "900804" and "nextAccessTime" in hourly
    counters = (await http.get("/_sandbox/counters")).json()
    assert counters["throttled"] >= 3 and counters["status"]["429"] >= 3


async def test_fault_modes(http):
    await http.put("/_sandbox/faults", json={"fail_next_500": 1, "truncate_next": 1})
    failed = await daily(http)
    assert failed.status_code == 500 and failed.json() == {
        "error": "technical_error", "error_description": "Technical error. Please try later."}
    truncated = await daily(http)
    assert truncated.status_code == 200
    with pytest.raises(ValueError):
        truncated.json()
    assert (await daily(http)).status_code == 200


async def test_ground_truth_is_what_the_api_serves(http):
    created = (await http.post("/_sandbox/customers", json={"consent": True, "activation_date": "2024-01-01"})).json()
    prm = created["prms"][0]
    truth = (await http.get(f"/_sandbox/ground_truth/{prm}", params={"start": "2025-06-01", "end": "2026-03-10"})).json()
    served = (await daily(http, prm, "2025-06-01", "2026-03-10")).json()["meter_reading"]["interval_reading"]
    assert [(d["date"], d["value"]) for d in truth["days"]] == [(r["date"], int(r["value"])) for r in served]
    address = (await http.get(f"/_sandbox/meters/{prm}")).json()["address"]
    assert address["insee_code"].startswith("38") and address["postal_code"].startswith("38")


async def test_customers_created_without_consent_are_refused_until_they_agree(http):
    created = (await http.post("/_sandbox/customers", json={"profile": "non_heating"})).json()
    assert (await daily(http, created["prms"][0])).status_code == 403


def test_synthetic_profiles_are_deterministic_and_seasonal():
    today = dt.date(2026, 3, 10)
    heating = default_meter("38000000000001", today, profile="electric_heating")
    other = default_meter("38000000000001", today, profile="non_heating")
    year = (dt.date(2025, 1, 1), dt.date(2026, 1, 1))
    assert heating.daily_series(*year) == default_meter("38000000000001", today, profile="electric_heating").daily_series(*year)

    def ratio(meter):
        values = dict(meter.daily_series(*year))
        jan = [v for d, v in values.items() if d.month == 1]
        jul = [v for d, v in values.items() if d.month == 7]
        return (sum(jan) / len(jan)) / (sum(jul) / len(jul))
    assert ratio(heating) > 3 > ratio(other) > 1


async def v2_consent(http, prm: str) -> int:
    await http.post("/_sandbox/customers", json={"customer_id": f"c-{prm}", "prms": [prm]})
    answer = await http.post("/dataconnect/v2/oauth2/authorize", data={
        **authorize(state="s" * 40), "customer_id": f"c-{prm}", "usage_point_id": prm, "decision": "accept"})
    assert answer.status_code == 302 and "usage_point_id" not in answer.headers["location"]
    return int(httpx.URL(answer.headers["location"]).params["autorisation_id"])


async def listed(http, autorisation_id: int) -> list[str]:
    r = await http.post("/subscribed_services/v1/",
                        json={"autorisationId": autorisation_id, "comptage": False})
    assert r.status_code == 200, r.text
    return [s["pointId"] for s in r.json()["serviceSouscrit"]]


async def test_services_souscrits_can_list_nothing_just_after_the_consent(http):
    autorisation_id = await v2_consent(http, "30000000000001")
    await http.put("/_sandbox/faults", json={"empty_listing_next": 2})
    assert [await listed(http, autorisation_id) for _ in range(3)] == [[], [], ["30000000000001"]]
    assert await listed(http, 123) == []


async def test_calls_are_counted_per_prm(http):
    autorisation_id = await v2_consent(http, "30000000000002")
    await listed(http, autorisation_id)
    await daily(http, prm="30000000000002")
    await daily(http, prm="30000000000003")
    await http.get("/donnees_generales_auto/v1/30000000000002")
    assert (await http.get("/_sandbox/counters/30000000000002")).json() == {
        "prm": "30000000000002", "data": 1, "customers": 1, "subscriptions": 1}
    assert (await http.get("/_sandbox/counters/30000000000003")).json()["data"] == 1
    assert (await http.get("/_sandbox/counters/99999999999999")).json()["data"] == 0
