"""The real ADICT client against the ADICT sandbox, over real HTTP (uvicorn on a free port)."""
from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import uvicorn

from ingest_grdf.adict import CAPABILITIES, AdictClient, history_windows
from ingest_grdf.adict_payloads import DailyReading
from metro.dso import BadRequest, ConsentRevoked, NoData, QuotaExceeded, Transient
from tests.sandboxes.grdf import SandboxConfig, create_app

CLIENT_ID, SECRET = "metro-test", "test-secret"
START = dt.datetime(2025, 3, 10, 14, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))


@pytest.fixture(scope="module")
def sandbox_url() -> Iterator[str]:
    app = create_app(SandboxConfig(client_id=CLIENT_ID, client_secret=SECRET, rate_per_second=None,
                                   daily_cap=None, now=START))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("ADICT sandbox did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    thread.join(timeout=5)


@pytest.fixture
async def control(sandbox_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sandbox_url + "/_sandbox", timeout=10) as http:
        yield http
        await http.delete("/faults")
        await http.post("/quotas", json={"rate_per_second": None, "daily_cap": None})


@pytest.fixture
async def adict(sandbox_url: str) -> AsyncIterator[AdictClient]:
    async with AdictClient(sandbox_url, CLIENT_ID, SECRET, min_interval=0) as client:
        yield client


async def today(control: httpx.AsyncClient) -> dt.date:
    return dt.date.fromisoformat((await control.get("/clock")).json()["today"])


async def customer(control: httpx.AsyncClient, pce: str, **fields: object) -> dict:
    body = {"pce": pce, "holder_name": "DURAND", "postal_code": "38000", "profile": "heating"} | fields
    response = await control.post("/customers", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def active_right(adict: AdictClient, control: httpx.AsyncClient, pce: str, **kwargs: object) -> dict:
    day = await today(control)
    declared = await adict.declare_access(pce, kwargs.pop("holder_name", "Durand"), "38000",
                                          "titulaire@example.org", day, day + dt.timedelta(days=365 * 3),
                                          history_from=day - dt.timedelta(days=365 * 4), **kwargs)
    accepted = await control.post(f"/access_rights/{declared['access_right_id']}/accept")
    assert accepted.status_code == 200
    return declared


async def test_declaration_is_refused_with_the_adict_code_when_holder_or_address_do_not_match(
        adict: AdictClient, control: httpx.AsyncClient) -> None:
    await customer(control, "38000000001001", holder_name="LEFEBVRE", postal_code="38100")
    day = await today(control)
    cases = [
        (dict(pce="38000000001001", holder_name="Lefebvre", postal_code="38000"), "1000000005", 409),
        (dict(pce="38000000001001", holder_name="Moreau", postal_code="38100"), "1000000022", 409),
        (dict(pce="38000000009999", holder_name="Lefebvre", postal_code="38100"), "1000000006", 404),
        (dict(pce="38000000001001", holder_name="Lefebvre", postal_code="38100", email="not-an-email"),
         "1000000024", 400),
        (dict(pce="38000000001001", holder_name="Lefebvre", postal_code="381"), "1000000036", 400),
    ]
    for fields, code, status in cases:
        with pytest.raises(BadRequest) as caught:
            await adict.declare_access(fields["pce"], fields["holder_name"], fields["postal_code"],
                                       fields.get("email", "t@example.org"), day, day + dt.timedelta(days=30))
        assert (caught.value.code, caught.value.status) == (code, status), fields
    with pytest.raises(BadRequest) as caught:
        await adict.declare_access("38000000001001", "Lefebvre", "38100", "t@example.org",
                                   day - dt.timedelta(days=60), day - dt.timedelta(days=1))
    assert caught.value.status == 409
    with pytest.raises(BadRequest) as caught:
        await adict.declare_access("3800000000100", "Lefebvre", "38100", "t@example.org", day, day)
    assert caught.value.code == "bad_pce"


async def test_holder_confirmation_moves_the_right_from_a_valider_to_active(
        adict: AdictClient, control: httpx.AsyncClient, sandbox_url: str) -> None:
    await customer(control, "GI100002", holder_name="Bernard", postal_code="38000", profile="cooking")
    day = await today(control)
    declared = await adict.declare_access("GI100002", "Jeanne Bernard", "38000", "jeanne@example.org",
                                          day, day + dt.timedelta(days=365))
    assert declared["status"] == "awaiting_holder" and declared["code"] == "0000000002"
    with pytest.raises(ConsentRevoked) as caught:
        await adict.informative_daily("GI100002", day - dt.timedelta(days=10), day)
    assert caught.value.code == "1000002"

    mail = [m for m in (await control.get("/mailbox")).json() if m["access_right_id"] == declared["access_right_id"]]
    assert mail and mail[0]["to"] == "jeanne@example.org"
    async with httpx.AsyncClient(base_url=sandbox_url) as browser:
        page = await browser.get(mail[0]["link"])
        assert "GI100002" in page.text and 'id="accept"' in page.text
        done = await browser.post(mail[0]["link"] + "/accept")
        assert "Active" in done.text

    rights = await adict.list_access_rights(["GI100002"])
    assert [(r["access_right_id"], r["status"]) for r in rights] == [(declared["access_right_id"], "active")]
    assert rights[0]["scope"]["informatives"] is True
    everything = await adict.list_access_rights()
    assert declared["access_right_id"] in {r["access_right_id"] for r in everything}
    assert await adict.list_access_rights(["GI999999"]) == []
    readings = await adict.informative_daily("GI100002", day - dt.timedelta(days=10), day)
    assert len(readings) >= 8


async def test_three_years_of_informative_days_equal_the_ground_truth(
        adict: AdictClient, control: httpx.AsyncClient) -> None:
    day = await today(control)
    hole = (day - dt.timedelta(days=400), day - dt.timedelta(days=380))
    await customer(control, "38000000003003", commissioning=(day - dt.timedelta(days=2000)).isoformat(),
                   holes=[[hole[0].isoformat(), hole[1].isoformat()]])
    await active_right(adict, control, "38000000003003")
    readings: list[DailyReading] = []
    windows = history_windows(day - dt.timedelta(days=4000), day, day)
    assert len(windows) == 3
    for start, end in windows:
        readings += await adict.informative_daily("38000000003003", start, end)
    truth = (await control.get("/ground_truth/38000000003003",
                               params={"start": windows[0][0].isoformat(), "end": day.isoformat()})).json()
    served = [(r.day.isoformat(), r.wh, r.volume_m3) for r in readings]
    expected = [(d["day"], d["wh"], d["volume_m3"]) for d in truth["days"]]
    assert served == expected
    assert len(served) > 3 * 365 - 30
    assert not any(hole[0] <= r.day <= hole[1] for r in readings)
    winter = [r.wh for r in readings if r.day.month == 1]
    summer = [r.wh for r in readings if r.day.month == 7]
    assert sum(winter) / len(winter) > 4 * sum(summer) / len(summer)
    assert all(10.5 < (r.conversion_coefficient or 0) < 12 for r in readings)

    with pytest.raises(BadRequest) as caught:
        await adict.informative_daily("38000000003003", day - dt.timedelta(days=3 * 366), day)
    assert caught.value.status == 400


async def test_contract_and_technical_data_are_normalised(adict: AdictClient, control: httpx.AsyncClient) -> None:
    heating = await customer(control, "38000000004004")
    cooking = await customer(control, "GI400004", profile="cooking", contract_format="v1.6")
    await active_right(adict, control, "38000000004004")
    await active_right(adict, control, "GI400004")
    contract = await adict.contract("38000000004004")
    assert contract["tariff"] == "T2" and contract["annual_consumption_kwh"] == heating["car_kwh"]
    assert contract["profile"] == "P016" and contract["commissioning_date"] is not None
    small = await adict.contract("GI400004")
    assert small["tariff"] == "T1" and small["annual_consumption_kwh"] == cooking["car_kwh"] < 6000
    technical = await adict.technical("38000000004004")
    assert technical["frequency"] == "1M" and technical["daily_data"] and technical["postal_code"] == "38000"


async def test_revoked_refused_and_obsolete_rights_stop_data_access(
        adict: AdictClient, control: httpx.AsyncClient) -> None:
    day = await today(control)
    await customer(control, "38000000005005")
    right = await active_right(adict, control, "38000000005005")
    assert await adict.informative_daily("38000000005005", day - dt.timedelta(days=5), day)
    revoked = await adict.revoke_access(right["access_right_id"])
    assert revoked["code"] == "0000000000"
    [listed] = await adict.list_access_rights(["38000000005005"])
    assert listed["status"] == "revoked" and listed["revoked_at"]
    with pytest.raises(ConsentRevoked):
        await adict.informative_daily("38000000005005", day - dt.timedelta(days=5), day)
    with pytest.raises(ConsentRevoked):
        await adict.contract("38000000005005")
    with pytest.raises(BadRequest) as caught:
        await adict.revoke_access(right["access_right_id"])
    assert caught.value.code == "1000000001"

    await customer(control, "38000000005006")
    holder_revoked = await active_right(adict, control, "38000000005006")
    await control.post(f"/access_rights/{holder_revoked['access_right_id']}/revoke")
    with pytest.raises(ConsentRevoked) as caught:
        await adict.informative_daily("38000000005006", day - dt.timedelta(days=5), day)
    assert caught.value.code == "1000014"

    await customer(control, "38000000005007")
    obsolete = await active_right(adict, control, "38000000005007")
    await control.post(f"/access_rights/{obsolete['access_right_id']}/obsolete")
    with pytest.raises(ConsentRevoked):
        await adict.technical("38000000005007")

    await customer(control, "38000000005008")
    pending = await adict.declare_access("38000000005008", "Durand", "38000", "d@example.org", day,
                                         day + dt.timedelta(days=30))
    await control.post(f"/access_rights/{pending['access_right_id']}/refuse")
    [refused] = await adict.list_access_rights(["38000000005008"])
    assert refused["status"] == "refused"
    with pytest.raises(ConsentRevoked):
        await adict.informative_daily("38000000005008", day - dt.timedelta(days=5), day)


async def test_no_data_and_excluded_perimeter_are_told_apart(adict: AdictClient, control: httpx.AsyncClient) -> None:
    day = await today(control)
    await customer(control, "38000000006006", commissioning=(day - dt.timedelta(days=20)).isoformat())
    await active_right(adict, control, "38000000006006")
    with pytest.raises(NoData) as caught:
        await adict.informative_daily("38000000006006", day - dt.timedelta(days=200), day - dt.timedelta(days=100))
    assert caught.value.code == "1000008"
    await customer(control, "38000000006007")
    await active_right(adict, control, "38000000006007", informative=False)
    with pytest.raises(BadRequest) as caught:
        await adict.informative_daily("38000000006007", day - dt.timedelta(days=5), day)
    assert caught.value.code == "1000010"


@pytest.mark.parametrize("fault, outcome, code", [
    ({"kind": "http_500"}, Transient, "2000000001"),
    ({"kind": "truncated"}, Transient, "malformed_body"),
    ({"kind": "malformed_line"}, Transient, "malformed_body"),
    ({"kind": "error_in_stream"}, Transient, "2000100"),
])
async def test_each_fault_maps_to_one_outcome_and_never_to_half_the_data(
        adict: AdictClient, control: httpx.AsyncClient, fault: dict, outcome: type, code: str) -> None:
    day = await today(control)
    pce = "38000000007007"
    await customer(control, pce)
    if not await adict.list_access_rights([pce], states=["Active"]):
        await active_right(adict, control, pce)
    await control.post("/faults", json=fault)
    with pytest.raises(outcome) as caught:
        await adict.informative_daily(pce, day - dt.timedelta(days=30), day)
    assert caught.value.code == code
    assert len(await adict.informative_daily(pce, day - dt.timedelta(days=30), day)) == 30


async def test_a_retry_line_fails_only_the_days_it_names_and_the_good_lines_are_kept(
        adict: AdictClient, control: httpx.AsyncClient) -> None:
    day = await today(control)
    pce = "38000000007008"
    await customer(control, pce)
    await active_right(adict, control, pce)
    start, end = day - dt.timedelta(days=30), day
    bad = day - dt.timedelta(days=12)
    await control.post("/faults", json={"kind": "failing_period", "pce": pce, "start": bad.isoformat()})

    retry: list = []
    readings = await adict.informative_daily(pce, start, end, retry=retry)
    assert [r.day for r in readings] == [start + dt.timedelta(days=i) for i in range(30) if i != 18]
    assert [(period, type(error), error.code) for period, error in retry] == [
        ((bad, bad + dt.timedelta(days=1)), Transient, "2000100")]
    # A caller that takes no partial answer gets the whole call refused, never 29 days as if complete.
    with pytest.raises(Transient) as caught:
        await adict.informative_daily(pce, start, end)
    assert caught.value.code == "2000100"
    # The failing day asked on its own: nothing good came back, the call fails as a whole.
    with pytest.raises(Transient):
        await adict.informative_daily(pce, bad, bad + dt.timedelta(days=1), retry=[])

    # A retry line that echoes the whole request leaves to ask again only the days no good line returned.
    await control.delete("/faults")
    await control.post("/faults", json={"kind": "failing_period", "pce": pce, "start": bad.isoformat(),
                                        "end": (bad + dt.timedelta(days=3)).isoformat(), "echo_period": True,
                                        "code": "2000000", "count": 1})
    retry = []
    assert len(await adict.informative_daily(pce, start, end, retry=retry)) == 27
    assert [(period, error.code) for period, error in retry] == [((bad, bad + dt.timedelta(days=3)), "2000000")]
    assert len(await adict.informative_daily(pce, start, end, retry=[])) == 30


async def test_truncated_access_right_stream_raises(adict: AdictClient, control: httpx.AsyncClient) -> None:
    await control.post("/faults", json={"kind": "truncated"})
    with pytest.raises(Transient):
        await adict.list_access_rights()
    await control.post("/faults", json={"kind": "error_in_stream"})
    with pytest.raises(Transient):
        await adict.list_access_rights()


async def test_quota_answers_raise_quota_exceeded_with_retry_after(
        adict: AdictClient, control: httpx.AsyncClient) -> None:
    await control.post("/faults", json={"kind": "http_429", "retry_after": 7})
    with pytest.raises(QuotaExceeded) as caught:
        await adict.list_access_rights()
    assert caught.value.retry_after == 7

    await control.post("/quotas", json={"rate_per_second": 1})
    await adict.list_access_rights()
    with pytest.raises(QuotaExceeded) as caught:
        await adict.list_access_rights()
    assert caught.value.retry_after == 1

    await control.post("/quotas", json={"rate_per_second": None, "daily_cap": 2})
    await adict.list_access_rights()
    await adict.list_access_rights()
    with pytest.raises(QuotaExceeded) as caught:
        await adict.list_access_rights()
    assert caught.value.retry_after and caught.value.retry_after > 0


async def test_pacing_keeps_the_client_under_one_call_per_second(
        sandbox_url: str, control: httpx.AsyncClient) -> None:
    await control.post("/quotas", json={"rate_per_second": 1})
    async with AdictClient(sandbox_url, CLIENT_ID, SECRET, min_interval=1.05) as paced:
        await paced.list_access_rights()
        await paced.list_access_rights()


async def test_outage_latency_and_expired_token(sandbox_url: str, adict: AdictClient,
                                                control: httpx.AsyncClient) -> None:
    await control.post("/faults", json={"kind": "outage", "minutes": 30})
    with pytest.raises(Transient) as caught:
        await adict.list_access_rights()
    assert caught.value.status == 503
    await control.post("/clock", json={"advance_seconds": 31 * 60})
    await adict.list_access_rights()

    async with AdictClient(sandbox_url, CLIENT_ID, SECRET, min_interval=0, timeout=0.3) as impatient:
        await control.post("/faults", json={"kind": "latency", "seconds": 1.0, "count": 1})
        with pytest.raises(Transient) as caught:
            await impatient.list_access_rights()
        assert caught.value.code == "timeout"

    # the sandbox's 4-hour tokens expire on its clock: the cached token now gets a 401, the client re-authenticates
    await control.post("/clock", json={"advance_seconds": 5 * 3600})
    assert isinstance(await adict.list_access_rights(), list)

    with pytest.raises(BadRequest) as caught:
        async with AdictClient(sandbox_url, CLIENT_ID, "wrong", min_interval=0) as intruder:
            await intruder.list_access_rights()
    assert caught.value.code == "invalid_client"


def test_history_windows_respect_the_three_year_limit() -> None:
    today = dt.date(2025, 3, 10)
    windows = history_windows(dt.date(2020, 1, 1), dt.date(2026, 1, 1), today)
    assert windows[0][0] == dt.date(2022, 3, 11) and windows[-1][1] == today
    assert all(a < b and (b - a).days <= 366 for a, b in windows)
    assert all(prev[1] == nxt[0] for prev, nxt in zip(windows, windows[1:]))
    assert history_windows(dt.date(2025, 3, 10), dt.date(2025, 3, 10), today) == []
    assert CAPABILITIES.dso == "grdf" and CAPABILITIES.history_days == 3 * 365
