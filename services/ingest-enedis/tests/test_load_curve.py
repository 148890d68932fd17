"""The Data Connect load curve through the real client against the sandbox over HTTP: DST days, mixed steps,
holes, the 7-day window and a customer who objected to the curve."""
from __future__ import annotations

import datetime as dt

import httpx
import pytest

from ingest_enedis.curve import day_span, pack_days
from ingest_enedis.dataconnect import CURVE_NOT_RECORDED, DataConnectClient
from metro.dso import BadRequest
from tests.sandboxes.enedis import RegisteredClient, SandboxConfig
from tests.sandboxes.enedis.curves import has_mixed_steps
from tests.sandboxes.enedis.server import running_sandbox

CLIENT_ID, SECRET, REDIRECT = "metro-curve", "metro-curve-secret", "http://127.0.0.1:1/enedis/callback"
NOW = "2026-12-02T10:00:00+01:00"
SPRING, AUTUMN = dt.date(2026, 3, 29), dt.date(2026, 10, 25)


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
    async with DataConnectClient(sandbox_url, CLIENT_ID, SECRET, REDIRECT, api_generation=request.param,
                                 verify=False) as c:
        yield c


async def truth(control, prm: str, start: dt.date, end: dt.date) -> dict[dt.datetime, tuple[int, int]]:
    body = (await control.get(f"/_sandbox/load_curve/{prm}", params={"start": str(start), "end": str(end)})).json()
    return {dt.datetime.fromisoformat(p["start"]): (p["minutes"], p["w"]) for p in body["points"]}


async def customer(control, **spec) -> str:
    response = await control.post("/_sandbox/customers", json={"consent": True, "hole_rate": 0.0,
                                                               "activation_date": "2020-01-01", **spec})
    assert response.status_code == 201, response.text
    return response.json()["prms"][0]


@pytest.mark.parametrize("day, half_hours", [(SPRING, 46), (AUTUMN, 50)])
async def test_dst_days_have_46_and_50_half_hours_at_their_true_instants(control, client, day, half_hours):
    prm = await customer(control)
    points = await client.load_curve(prm, day, day + dt.timedelta(days=1))
    expected = await truth(control, prm, day, day + dt.timedelta(days=1))
    assert {p.start: (p.minutes, p.w) for p in points} == expected
    [(packed_day, step, watts)] = pack_days(points)
    start, end = day_span(day)
    assert (packed_day, step) == (day, 30)
    assert len(watts) == (end - start) / dt.timedelta(minutes=30)
    # The sandbox may leave a few points out (the meter's holes): those slots stay empty, no others.
    assert sum(w is not None for w in watts) == len(expected)
    assert len(watts) == half_hours


async def test_mixed_steps_keep_each_interval_and_its_energy(control, client):
    from tests.sandboxes.enedis.customers import default_meter
    prm = await customer(control)
    meter = default_meter(prm, dt.date(2026, 12, 2))
    day = next(d for d in (dt.date(2026, 11, 30) - dt.timedelta(days=i) for i in range(400))
               if has_mixed_steps(meter, d))
    points = await client.load_curve(prm, day, day + dt.timedelta(days=1))
    assert {p.minutes for p in points} == {10, 15, 30, 60}
    [(_, step, watts)] = pack_days(points)
    assert step == 5
    energy = sum(w * step for w in watts if w is not None) / 60
    assert energy == pytest.approx(sum(p.w * p.minutes for p in points) / 60)
    assert {p.start: (p.minutes, p.w) for p in points} == await truth(control, prm, day, day + dt.timedelta(days=1))


async def test_a_week_is_one_call_and_more_is_refused_by_the_dso(control, sandbox_url):
    prm = await customer(control)
    async with DataConnectClient(sandbox_url, CLIENT_ID, SECRET, REDIRECT, verify=False) as c:
        week = await c.load_curve(prm, dt.date(2026, 11, 1), dt.date(2026, 11, 8))
        assert len(pack_days(week)) == 7
        token = c._http.token["access_token"]
    answer = await control.get("/mesure_synchrone_auto/v2/courbe_de_charge_consommation",
                               params={"pointId": prm, "dateDebut": "2026-11-01", "dateFin": "2026-11-09"},
                               headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 400 and answer.json()["error"] == "ADAM-ERR0126"


async def test_a_customer_who_objected_to_the_curve_is_told_apart(control, client):
    prm = await customer(control, load_curve=False)
    with pytest.raises(BadRequest) as refused:
        await client.load_curve(prm, dt.date(2026, 11, 1), dt.date(2026, 11, 2))
    assert refused.value.code == CURVE_NOT_RECORDED
    # Its daily maximum power is still served.
    assert await client.daily_max_power(prm, dt.date(2026, 11, 1), dt.date(2026, 11, 2))
