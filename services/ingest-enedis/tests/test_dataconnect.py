"""The real Data Connect client against the Enedis sandbox over real HTTP."""
from __future__ import annotations

import asyncio
import datetime as dt
import re
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import httpx
import pytest

from ingest_enedis.curve import day_span, pack_days
from ingest_enedis.dataconnect import DataConnectClient
from ingest_enedis.dataconnect_calendar import CAPABILITIES, earliest_history_day, latest_published_day, plan_windows
from ingest_enedis.dataconnect_payloads import CURVE_NOT_RECORDED, parse_consent_redirect
from metro.dso import BadRequest, ConsentRevoked, NoData, QuotaExceeded, Transient
from tests.sandboxes.enedis import RegisteredClient, SandboxConfig
from tests.sandboxes.enedis.curves import has_mixed_steps
from tests.sandboxes.enedis.customers import default_meter
from tests.sandboxes.enedis.server import running_sandbox

CLIENT_ID, SECRET, REDIRECT = "metro-test", "metro-test-secret", "http://127.0.0.1:1/enedis/callback"
NOW = "2026-03-10T09:00:00+01:00"
TODAY = dt.date(2026, 3, 10)


@pytest.fixture(scope="module")
def sandbox_url():
    config = SandboxConfig(clients=[RegisteredClient(CLIENT_ID, SECRET, REDIRECT)], per_second_quota=1000)
    with running_sandbox(config) as url:
        yield url


@pytest.fixture
async def control(sandbox_url):
    async with httpx.AsyncClient(base_url=sandbox_url, verify=False) as http:
        await http.post("/_sandbox/reset")
        await http.put("/_sandbox/quotas", json={"per_second": 1000, "per_hour": 100_000})
        await http.put("/_sandbox/clock", json={"now": NOW})
        yield http


@pytest.fixture(params=["v5", "2026"])
async def client(request, sandbox_url, control):
    # Plain HTTP on localhost: skipping the CA bundle saves about 0.3 s per client.
    async with DataConnectClient(sandbox_url, CLIENT_ID, SECRET, REDIRECT, api_generation=request.param,
                                 verify=False) as c:
        yield c


@pytest.fixture
async def v5(sandbox_url, control):
    async with DataConnectClient(sandbox_url, CLIENT_ID, SECRET, REDIRECT, api_generation="v5", verify=False) as c:
        yield c


async def new_customer(control: httpx.AsyncClient, **spec) -> dict:
    response = await control.post("/_sandbox/customers", json={"consent": True, **spec})
    assert response.status_code == 201, response.text
    return response.json()


async def ground_truth(control, prm: str, start: dt.date, end: dt.date) -> list[tuple[dt.date, int]]:
    body = (await control.get(f"/_sandbox/ground_truth/{prm}", params={"start": str(start), "end": str(end)})).json()
    return [(dt.date.fromisoformat(d["date"]), d["value"]) for d in body["days"]]


class _Form(HTMLParser):
    def __init__(self):
        super().__init__()
        self.action, self.fields, self.choices = "", [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.action = a["action"]
        elif tag == "input" and a.get("type") == "hidden":
            self.fields.append((a["name"], a["value"]))
        elif tag == "input" and a.get("type") in ("checkbox", "radio") and "checked" in a:
            self.choices.append((a["name"], a["value"]))


async def click(http: httpx.AsyncClient, url: str, decision: str) -> httpx.Response:
    """What the resident's browser does: open the consent page, submit the form with one of its buttons."""
    page = await http.get(url)
    assert page.status_code == 200, page.text
    form = _Form()
    form.feed(page.text)
    return await http.post(urljoin(url, form.action), content=urlencode(form.fields + form.choices + [("decision", decision)]),
                           headers={"Content-Type": "application/x-www-form-urlencoded"}, follow_redirects=False)


# --- pure helpers -----------------------------------------------------------------------------------------------

def test_plan_windows_covers_three_years_in_accepted_windows():
    start, end = dt.date(2023, 2, 24), TODAY
    windows = plan_windows(start, end)
    assert windows[0][0] == start and windows[-1][1] == end
    assert all(a < b and (b - a).days <= 365 for a, b in windows)
    assert all(windows[i][1] == windows[i + 1][0] for i in range(len(windows) - 1))
    assert len(windows) == 4
    assert plan_windows(end, end) == []


def test_consent_redirect_accepts_both_separators_and_refuses_bad_prms():
    assert parse_consent_redirect({"state": "s", "usage_point_id": "12345678901234;22516914714270"}).prms == (
        "12345678901234", "22516914714270")
    assert parse_consent_redirect({"usage_point_id": "12345678901234,22516914714270"}).granted
    assert not parse_consent_redirect({"usage_point_id": "1234"}).granted
    assert not parse_consent_redirect({"error": "access_denied", "state": "s"}).granted
    assert parse_consent_redirect({"autorisation_id": "123456789", "state": "s"}).granted


def test_capabilities_tell_when_yesterday_is_expected():
    assert CAPABILITIES.publication_time == dt.time(8, 0) and CAPABILITIES.lag_days_min == 1
    paris = dt.timezone(dt.timedelta(hours=1))
    assert latest_published_day(dt.datetime(2026, 3, 10, 7, 59, tzinfo=paris)) == dt.date(2026, 3, 8)
    assert latest_published_day(dt.datetime(2026, 3, 10, 8, 0, tzinfo=paris)) == dt.date(2026, 3, 9)


# --- consent --------------------------------------------------------------------------------------------------

async def test_v1_consent_redirect_gives_every_chosen_prm_and_opens_collection(sandbox_url, control, v5):
    customer = await new_customer(control, count=2, consent=False, activation_date="2020-01-01")
    with pytest.raises(ConsentRevoked):
        await v5.daily_consumption(customer["prms"][0], dt.date(2026, 3, 1), dt.date(2026, 3, 8))
    url = v5.authorize_url("a" * 40, duration="P3Y") + f"&login_hint={customer['login_hint']}"
    assert url.startswith(f"{sandbox_url}/dataconnect/v1/oauth2/authorize?")
    async with httpx.AsyncClient(verify=False) as browser:
        response = await click(browser, url, "accept")
    assert response.status_code in (302, 303)
    location = response.headers["location"]
    assert location.startswith(REDIRECT)
    redirect = parse_consent_redirect(dict(parse_qsl(urlsplit(location).query)))
    assert redirect.state == "a" * 40 and list(redirect.prms) == customer["prms"]
    # Every day the DSO holds (the sandbox drops a day now and then, as a meter does), none refused.
    week = (dt.date(2026, 3, 1), dt.date(2026, 3, 8))
    days = await v5.daily_consumption(customer["prms"][1], *week)
    assert days == await ground_truth(control, customer["prms"][1], *week) and len(days) >= 5


async def test_v2_consent_gives_an_autorisation_exchanged_for_the_prm(sandbox_url, control):
    customer = await new_customer(control, count=1, consent=False)
    await control.put("/_sandbox/session", json={"customer_id": customer["customer_id"]})
    async with DataConnectClient(sandbox_url, CLIENT_ID, SECRET, REDIRECT, api_generation="2026",
                                 verify=False) as c2026, \
            httpx.AsyncClient(verify=False) as browser:
        url = c2026.authorize_url("b" * 32, duration="P1095D")
        assert "/dataconnect/v2/oauth2/authorize?" in url
        response = await click(browser, url, "accept")
        query = dict(parse_qsl(urlsplit(response.headers["location"]).query))
        assert "usage_point_id" not in query and query["state"] == "b" * 32
        redirect = parse_consent_redirect(query)
        assert redirect.granted and redirect.autorisation_id
        assert await c2026.exchange_autorisation(redirect.autorisation_id) == customer["prms"]
        assert await c2026.exchange_autorisation(123) == []


async def test_refusal_never_reaches_the_application(control, v5):
    async with httpx.AsyncClient(verify=False) as browser:
        response = await click(browser, v5.authorize_url("state-3"), "refuse")
    assert response.status_code == 200 and "location" not in response.headers


# --- token ----------------------------------------------------------------------------------------------------

async def test_token_is_cached_and_renewed_when_the_dso_says_it_expired(control, v5):
    prm = "22516914714270"
    before = (await control.get("/_sandbox/counters")).json()["tokens_issued"]
    for _ in range(3):
        await v5.daily_consumption(prm, dt.date(2026, 3, 1), dt.date(2026, 3, 2))
    assert (await control.get("/_sandbox/counters")).json()["tokens_issued"] == before + 1
    await control.post("/_sandbox/clock/advance", json={"seconds": 12_600})
    assert await v5.daily_consumption(prm, dt.date(2026, 3, 1), dt.date(2026, 3, 2))
    assert (await control.get("/_sandbox/counters")).json()["tokens_issued"] == before + 2


async def test_wrong_secret_is_a_bad_request_not_a_retry(sandbox_url, control):
    async with DataConnectClient(sandbox_url, CLIENT_ID, "wrong", REDIRECT, verify=False) as c:
        with pytest.raises(BadRequest) as caught:
            await c.daily_consumption("22516914714270", dt.date(2026, 3, 1), dt.date(2026, 3, 2))
    assert caught.value.code == "invalid_client"


# --- metering -------------------------------------------------------------------------------------------------

async def test_three_years_of_history_equal_the_meter(control, client):
    customer = await new_customer(control, profile="electric_heating", activation_date="2015-06-01")
    prm = customer["prms"][0]
    start = earliest_history_day(TODAY)
    collected = []
    for window in plan_windows(start, TODAY):
        collected += await client.daily_consumption(prm, *window)
    truth = await ground_truth(control, prm, start, TODAY)
    assert collected == truth
    assert len(truth) > 1000 and collected[-1][0] == dt.date(2026, 3, 9)
    winter = [wh for d, wh in collected if d.month == 1]
    summer = [wh for d, wh in collected if d.month == 7]
    assert sum(winter) / len(winter) > 2 * sum(summer) / len(summer)


async def test_daily_max_power_matches_the_meter(control, client):
    prm = (await new_customer(control, activation_date="2020-01-01"))["prms"][0]
    peaks = await client.daily_max_power(prm, dt.date(2026, 2, 1), dt.date(2026, 3, 1))
    truth = (await control.get(f"/_sandbox/ground_truth/{prm}",
                               params={"start": "2026-02-01", "end": "2026-03-01"})).json()["max_power"]
    assert [(p.day.isoformat(), p.va) for p in peaks] == [(t["date"], t["value"]) for t in truth]
    assert peaks[0].at is not None and peaks[0].at.date() == peaks[0].day


async def test_yesterday_appears_only_from_eight_in_paris(control, client):
    prm = (await new_customer(control, activation_date="2020-01-01", hole_rate=0.0))["prms"][0]
    await control.put("/_sandbox/clock", json={"now": "2026-03-10T07:59:00+01:00"})
    days = [d for d, _ in await client.daily_consumption(prm, dt.date(2026, 3, 1), TODAY)]
    assert days[-1] == dt.date(2026, 3, 8)
    with pytest.raises(NoData):
        await client.daily_consumption(prm, dt.date(2026, 3, 9), TODAY)
    await control.put("/_sandbox/clock", json={"now": "2026-03-10T08:00:00+01:00"})
    assert [d for d, _ in await client.daily_consumption(prm, dt.date(2026, 3, 9), TODAY)] == [dt.date(2026, 3, 9)]


async def test_contract_and_address_are_normalised(control, client):
    customer = await new_customer(control, activation_date="2021-04-12", contract={
        "tariff_option": "HC", "subscribed_kva": 9, "offpeak_hours": "HC (22H00-6H00)"},
        address={"street": "12 rue Félix Poulat", "postal_code": "38000", "insee_code": "38185", "city": "GRENOBLE"})
    prm = customer["prms"][0]
    contract = await client.contract(prm)
    assert {k: contract[k] for k in ("tariff_option", "subscribed_kva", "offpeak_hours", "status",
                                     "activation_date")} == {
        "tariff_option": "HC", "subscribed_kva": 9, "offpeak_hours": "HC (22H00-6H00)", "status": "active",
        "activation_date": dt.date(2021, 4, 12)}
    assert isinstance(contract["last_change"], dt.date)
    address = await client.address(prm)
    assert {k: address[k] for k in ("street", "postal_code", "insee_code", "city")} == {
        "street": "12 rue Félix Poulat", "postal_code": "38000", "insee_code": "38185", "city": "GRENOBLE"}


async def test_base_tariff_without_offpeak_hours(control, client):
    prm = (await new_customer(control, contract={"tariff_option": "BASE", "subscribed_kva": 6}))["prms"][0]
    contract = await client.contract(prm)
    assert contract["tariff_option"] == "BASE" and contract["offpeak_hours"] is None
    assert contract["subscribed_kva"] == 6


# --- error mapping --------------------------------------------------------------------------------------------

async def test_revoked_and_expired_consents_stop_collection(control, client):
    prms = (await new_customer(control, count=2, activation_date="2020-01-01"))["prms"]
    await control.post(f"/_sandbox/consents/{prms[0]}/revoke")
    await control.post(f"/_sandbox/consents/{prms[1]}/expire")
    for prm in prms:
        with pytest.raises(ConsentRevoked):
            await client.daily_consumption(prm, dt.date(2026, 3, 1), dt.date(2026, 3, 5))
        with pytest.raises(ConsentRevoked):
            await client.contract(prm)
    with pytest.raises(ConsentRevoked) as caught:
        await client.daily_consumption("26584978546985", dt.date(2026, 3, 1), dt.date(2026, 3, 5))
    assert caught.value.status == 403


async def test_terminated_supply_is_a_lost_consent(control, v5):
    prm = (await new_customer(control, contract={"status": "terminated", "terminated_on": "2026-02-01"}))["prms"][0]
    with pytest.raises(ConsentRevoked) as caught:
        await v5.daily_consumption(prm, dt.date(2026, 1, 1), dt.date(2026, 1, 5))
    assert caught.value.code == "ADAM-DC-0007"
    assert (await v5.contract(prm))["status"] == "terminated"


async def test_injected_429_burst_is_a_quota_outcome_with_a_delay(control, client):
    await control.put("/_sandbox/faults", json={"fail_next_429": 3})
    for _ in range(3):
        with pytest.raises(QuotaExceeded) as caught:
            await client.daily_consumption("22516914714270", dt.date(2026, 3, 1), dt.date(2026, 3, 2))
        assert caught.value.retry_after and caught.value.retry_after > 0
    assert await client.daily_consumption("22516914714270", dt.date(2026, 3, 1), dt.date(2026, 3, 2))


async def test_per_second_quota_is_enforced(control, v5):
    await control.put("/_sandbox/quotas", json={"per_second": 3})
    results = await asyncio.gather(
        *(v5.daily_consumption("22516914714270", dt.date(2026, 3, 1), dt.date(2026, 3, 2)) for _ in range(8)),
        return_exceptions=True)
    throttled = [r for r in results if isinstance(r, QuotaExceeded)]
    assert len(throttled) >= 5 and all(r.retry_after <= 1.0 for r in throttled)
    assert (await control.get("/_sandbox/counters")).json()["peak_calls_in_one_second"] <= 3


async def test_hourly_quota_says_when_access_returns(control, v5):
    await control.put("/_sandbox/quotas", json={"per_hour": 2})
    for _ in range(2):
        await v5.daily_consumption("22516914714270", dt.date(2026, 3, 1), dt.date(2026, 3, 2))
    with pytest.raises(QuotaExceeded) as caught:
        await v5.daily_consumption("22516914714270", dt.date(2026, 3, 1), dt.date(2026, 3, 2))
    assert caught.value.code == "900804" and caught.value.retry_after > 60


async def test_500_burst_and_outage_are_transient(control, client):
    prm = "22516914714270"
    await control.put("/_sandbox/faults", json={"fail_next_500": 2})
    for _ in range(2):
        with pytest.raises(Transient) as caught:
            await client.daily_consumption(prm, dt.date(2026, 3, 1), dt.date(2026, 3, 2))
        assert caught.value.code == "technical_error"
    await control.put("/_sandbox/faults", json={"outage_minutes": 30})
    with pytest.raises(Transient) as caught:
        await client.daily_consumption(prm, dt.date(2026, 3, 1), dt.date(2026, 3, 2))
    assert caught.value.status == 503
    await control.post("/_sandbox/clock/advance", json={"seconds": 31 * 60})
    assert await client.daily_consumption(prm, dt.date(2026, 3, 1), dt.date(2026, 3, 2))


async def test_truncated_body_is_transient(control, client):
    await control.put("/_sandbox/faults", json={"truncate_next": 1})
    with pytest.raises(Transient) as caught:
        await client.daily_consumption("22516914714270", dt.date(2026, 1, 1), dt.date(2026, 3, 1))
    assert caught.value.code == "truncated_body"


async def test_unreachable_dso_is_transient(control):
    async with DataConnectClient("http://127.0.0.1:9", CLIENT_ID, SECRET, REDIRECT, verify=False) as c:
        with pytest.raises(Transient):
            await c.daily_consumption("22516914714270", dt.date(2026, 1, 1), dt.date(2026, 1, 2))


async def test_slow_dso_times_out_as_transient(sandbox_url, control):
    await control.put("/_sandbox/faults", json={"latency_ms": 500})
    async with DataConnectClient(sandbox_url, CLIENT_ID, SECRET, REDIRECT, timeout_s=0.2, verify=False) as c:
        with pytest.raises(Transient):
            await c.daily_consumption("22516914714270", dt.date(2026, 1, 1), dt.date(2026, 1, 2))
    await control.delete("/_sandbox/faults")


async def test_period_errors(control, client):
    prm = (await new_customer(control, activation_date="2025-06-15"))["prms"][0]
    with pytest.raises(BadRequest):
        await client.daily_consumption(prm, dt.date(2026, 3, 1), dt.date(2026, 3, 12))
    with pytest.raises(NoData) as caught:
        await client.daily_consumption(prm, dt.date(2025, 6, 1), dt.date(2025, 7, 1))
    assert caught.value.code == "ADAM-ERR0123"
    with pytest.raises(BadRequest) as caught:
        await client.daily_consumption(prm, dt.date(2023, 1, 1), dt.date(2023, 2, 1))
    assert caught.value.code == "ADAM-ERR0125"
    with pytest.raises(BadRequest):
        await client.daily_consumption(prm, dt.date(2026, 3, 1), dt.date(2026, 3, 1))
    with pytest.raises(BadRequest):
        await client.daily_consumption("1234", dt.date(2026, 3, 1), dt.date(2026, 3, 2))
    assert await client.daily_consumption(prm, dt.date(2026, 3, 1), TODAY)


async def test_production_only_meter_has_no_consumption(control, client):
    with pytest.raises(BadRequest) as caught:
        await client.daily_consumption("24880057139941", dt.date(2026, 3, 1), dt.date(2026, 3, 2))
    assert caught.value.code == "ADAM-ERR0069"


def test_authorize_url_refuses_an_overlong_state():
    c = DataConnectClient("http://dso", CLIENT_ID, SECRET, REDIRECT)
    with pytest.raises(ValueError):
        c.authorize_url("x" * 101)
    assert re.search(r"duration=P3Y", c.authorize_url("s"))


def test_data_connect_2026_is_the_default_generation(monkeypatch):
    from ingest_enedis.app import Settings
    monkeypatch.delenv("METRO_INGEST_ENEDIS_API_GENERATION", raising=False)
    assert Settings().api_generation == "2026"
    url = DataConnectClient("http://dso", CLIENT_ID, SECRET, REDIRECT).authorize_url("s" * 32)
    assert url.startswith("http://dso/dataconnect/v2/oauth2/authorize?")


@pytest.mark.parametrize("generation", ["v5", "2026"])
async def test_every_request_of_a_contract_goes_through_the_quota(sandbox_url, control, generation):
    """2026 takes three ITC requests for what v5 served in one: each is run (and metered) on its own."""
    prm = (await new_customer(control))["prms"][0]
    run = []

    async def through(call):
        run.append(call)
        return await call()
    async with DataConnectClient(sandbox_url, CLIENT_ID, SECRET, REDIRECT, api_generation=generation,
                                 verify=False) as c:
        assert (await c.contract(prm, through))["status"] == "active"
    made = (await control.get(f"/_sandbox/counters/{prm}")).json()["customers"]
    assert len(run) == made == (3 if generation == "2026" else 1)


# --- the load curve ------------------------------------------------------------------------------------------

CURVE_NOW = "2026-12-02T10:00:00+01:00"
SPRING, AUTUMN = dt.date(2026, 3, 29), dt.date(2026, 10, 25)


async def curve_truth(control, prm: str, start: dt.date, end: dt.date) -> dict[dt.datetime, tuple[int, int]]:
    body = (await control.get(f"/_sandbox/load_curve/{prm}", params={"start": str(start), "end": str(end)})).json()
    return {dt.datetime.fromisoformat(p["start"]): (p["minutes"], p["w"]) for p in body["points"]}


async def curve_customer(control, **spec) -> str:
    """A customer in December 2026, when both 2026 clock changes are within the curve's 24 months."""
    await control.put("/_sandbox/clock", json={"now": CURVE_NOW})
    customer = await new_customer(control, hole_rate=0.0, activation_date="2020-01-01", **spec)
    return customer["prms"][0]


@pytest.mark.parametrize("day, half_hours", [(SPRING, 46), (AUTUMN, 50)])
async def test_dst_days_have_46_and_50_half_hours_at_their_true_instants(control, client, day, half_hours):
    prm = await curve_customer(control)
    points = await client.load_curve(prm, day, day + dt.timedelta(days=1))
    expected = await curve_truth(control, prm, day, day + dt.timedelta(days=1))
    assert {p.start: (p.minutes, p.w) for p in points} == expected
    [(packed_day, step, watts)] = pack_days(points)
    start, end = day_span(day)
    assert (packed_day, step) == (day, 30)
    assert len(watts) == (end - start) / dt.timedelta(minutes=30)
    # The sandbox may leave a few points out (the meter's holes): those slots stay empty, no others.
    assert sum(w is not None for w in watts) == len(expected)
    assert len(watts) == half_hours


async def test_mixed_steps_keep_each_interval_and_its_energy(control, client):
    prm = await curve_customer(control)
    meter = default_meter(prm, dt.date(2026, 12, 2))
    day = next(d for d in (dt.date(2026, 11, 30) - dt.timedelta(days=i) for i in range(400))
               if has_mixed_steps(meter, d))
    points = await client.load_curve(prm, day, day + dt.timedelta(days=1))
    assert {p.minutes for p in points} == {10, 15, 30, 60}
    [(_, step, watts)] = pack_days(points)
    assert step == 5
    energy = sum(w * step for w in watts if w is not None) / 60
    assert energy == pytest.approx(sum(p.w * p.minutes for p in points) / 60)
    assert {p.start: (p.minutes, p.w) for p in points} == await curve_truth(control, prm, day, day + dt.timedelta(days=1))


async def test_a_load_curve_week_is_one_call_and_more_is_refused_by_the_dso(control, sandbox_url):
    prm = await curve_customer(control)
    async with DataConnectClient(sandbox_url, CLIENT_ID, SECRET, REDIRECT, verify=False) as c:
        week = await c.load_curve(prm, dt.date(2026, 11, 1), dt.date(2026, 11, 8))
        assert len(pack_days(week)) == 7
        token = c._http.token["access_token"]
    answer = await control.get("/mesure_synchrone_auto/v2/courbe_de_charge_consommation",
                               params={"pointId": prm, "dateDebut": "2026-11-01", "dateFin": "2026-11-09"},
                               headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 400 and answer.json()["error"] == "ADAM-ERR0126"


async def test_a_customer_who_objected_to_the_curve_is_told_apart(control, client):
    prm = await curve_customer(control, load_curve=False)
    with pytest.raises(BadRequest) as refused:
        await client.load_curve(prm, dt.date(2026, 11, 1), dt.date(2026, 11, 2))
    assert refused.value.code == CURVE_NOT_RECORDED
    # Its daily maximum power is still served.
    assert await client.daily_max_power(prm, dt.date(2026, 11, 1), dt.date(2026, 11, 2))
