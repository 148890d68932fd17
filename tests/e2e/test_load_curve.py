"""Issue 20 item 3: the load curve and daily maximum power, collected from the Data Connect sandbox by the real
processes, served by the gateway, against the sandbox's ground truth, the days the clocks change included."""
from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import httpx
import pytest

from devstack.waiting import eventually
from tests.e2e.test_enedis_collection import new_meter

pytestmark = pytest.mark.timeout(900)
PARIS = ZoneInfo("Europe/Paris")


def last_sunday(year: int, month: int) -> dt.date:
    day = dt.date(year, month + 1, 1) - dt.timedelta(days=1)
    return day - dt.timedelta(days=(day.weekday() + 1) % 7)


def today() -> dt.date:
    return dt.datetime.now(PARIS).date()


def dst_days() -> list[dt.date]:
    """The last Sundays of March and October within the 24 months the curve goes back."""
    oldest = today() - dt.timedelta(days=700)
    return [d for y in (today().year - 2, today().year - 1, today().year) for d in (last_sunday(y, 3), last_sunday(y, 10))
            if oldest <= d < today() - dt.timedelta(days=2)]


@pytest.fixture(scope="module")
def sandbox(stack):
    client = httpx.Client(base_url=stack.sandboxes["enedis"].url, timeout=30)
    yield client
    client.delete("/_sandbox/faults")
    client.close()


def truth_curve(sandbox, prm: str, start: dt.date, end: dt.date) -> dict[dt.datetime, tuple[int, int]]:
    body = sandbox.get(f"/_sandbox/load_curve/{prm}", params={"start": str(start), "end": str(end)}).json()
    return {dt.datetime.fromisoformat(p["start"]): (p["minutes"], p["w"]) for p in body["points"]}


def served_curve(resident, meter_id: str, start: dt.date, end: dt.date) -> dict:
    r = resident.get(f"/meters/{meter_id}/load-curve", params={"from": str(start), "to": str(end)})
    assert r.status_code == 200, r.text
    return r.json()


def as_truth(days: list[dict]) -> dict[dt.datetime, tuple[int, int]]:
    """The served points merged back into the DSO's intervals (a mixed-step day is served at its finest step)."""
    out: dict[dt.datetime, tuple[int, int]] = {}
    for day in days:
        run_start, run = None, None
        for p in day["points"]:
            start = dt.datetime.fromisoformat(p["start"]).astimezone(dt.UTC)
            if p["w"] is None:
                run_start = None
                continue
            out[start] = (p["minutes"], p["w"])
    return out


def covers(served: dict[dt.datetime, tuple[int, int]], truth: dict[dt.datetime, tuple[int, int]]) -> bool:
    """Every true interval is served with its power over each of its minutes, and nothing else is served."""
    minutes = {at + dt.timedelta(minutes=m): w for at, (step, w) in served.items() for m in range(0, step)}
    wanted = {at + dt.timedelta(minutes=m): w for at, (step, w) in truth.items() for m in range(0, step)}
    return minutes == wanted


async def test_the_curve_history_on_demand_equals_the_ground_truth_dst_days_included(stack, sandbox, resident):
    sandbox.delete("/_sandbox/counters")
    meter = await new_meter(stack, sandbox, resident, activation_date="2015-01-01")
    meter_id, prm = meter["meter_id"], meter["prm"]

    def history_asked():
        r = resident.post(f"/meters/{meter_id}/load-curve/history")
        assert r.status_code == 200, r.text
        assert r.json()["state"] in ("collecting", "collected"), r.json()
        return r.json()
    asked = await eventually(history_asked, timeout=60, interval=1)
    assert dt.date.fromisoformat(asked["requested_from"]) <= today() - dt.timedelta(days=720)

    def collected():
        view = served_curve(resident, meter_id, today() - dt.timedelta(days=7), today())
        assert view["collection"]["state"] == "collected", view["collection"]
        return view
    await eventually(collected, timeout=800, interval=3)

    days = dst_days()
    assert len(days) >= 3
    for day in days:
        start, end = day - dt.timedelta(days=3), day + dt.timedelta(days=4)
        view = served_curve(resident, meter_id, start, end)
        assert covers(as_truth(view["days"]), truth_curve(sandbox, prm, start, end)), day
        [dst] = [d for d in view["days"] if d["day"] == day.isoformat()]
        assert len(dst["points"]) == (46 if day.month == 3 else 50)
        assert dst["max_power"]["va"] > 0
    # The last published week too, and the maximum power over two months against the DSO's own.
    last = today() - dt.timedelta(days=1)
    view = served_curve(resident, meter_id, last - dt.timedelta(days=7), last)
    assert covers(as_truth(view["days"]), truth_curve(sandbox, prm, last - dt.timedelta(days=7), last))
    start = today() - dt.timedelta(days=60)
    peaks = resident.get(f"/meters/{meter_id}/max-power", params={"from": str(start), "to": str(today())})
    assert peaks.status_code == 200, peaks.text
    truth = sandbox.get(f"/_sandbox/ground_truth/{prm}", params={"start": str(start), "end": str(today())}).json()
    assert {p["day"]: (p["va"], dt.datetime.fromisoformat(p["at"]).astimezone(PARIS).replace(tzinfo=None))
            for p in peaks.json()["points"]} == \
        {p["date"]: (p["value"], dt.datetime.fromisoformat(p["at"])) for p in truth["max_power"]}
    # Within the quota: Enedis never answered 429.
    counters = sandbox.get("/_sandbox/counters").json()
    assert counters["status"].get("429", 0) == 0, counters
    assert counters["load_curve_calls"] >= 100
    # The peaks come 365 days a call, not with each 7-day curve window: a few calls for the two years.
    assert counters["max_power_calls"] <= 8, counters


async def test_a_customer_who_objected_to_the_curve_still_gets_the_maximum_power(stack, sandbox, resident):
    meter = await new_meter(stack, sandbox, resident, activation_date="2015-01-01", load_curve=False)

    def opened():
        r = resident.post(f"/meters/{meter['meter_id']}/load-curve/history")
        assert r.json()["state"] != "no_consent", r.json()
        return True
    await eventually(opened, timeout=60, interval=1)

    def not_recorded():
        view = served_curve(resident, meter["meter_id"], today() - dt.timedelta(days=7), today())
        assert view["collection"]["state"] == "not_recorded", view["collection"]
        assert view["days"] == [] or all(d["points"] == [] for d in view["days"])
        return view
    await eventually(not_recorded, timeout=120, interval=2)

    start = today() - dt.timedelta(days=5)
    truth = sandbox.get(f"/_sandbox/ground_truth/{meter['prm']}", params={"start": str(start),
                                                                          "end": str(today())}).json()

    def peaks():
        r = resident.get(f"/meters/{meter['meter_id']}/max-power", params={"from": str(start), "to": str(today())})
        assert {p["day"]: p["va"] for p in r.json()["points"]} == {p["date"]: p["value"] for p in truth["max_power"]}
        return True
    await eventually(peaks, timeout=60, interval=2)

    # Two years of peaks without the curve: a few 365-day calls besides the daily readings', no call per week.
    def history_in():
        view = served_curve(resident, meter["meter_id"], today() - dt.timedelta(days=7), today())["collection"]
        assert view["collected"] and view["collected"][0][0] <= str(today() - dt.timedelta(days=700)), view
        return view
    await eventually(history_in, timeout=120, interval=2)
    assert sandbox.get(f"/_sandbox/counters/{meter['prm']}").json()["data"] <= 15


async def test_the_curve_is_the_residents_own(stack, sandbox, resident, api):
    meter = await new_meter(stack, sandbox, resident)
    other = api.signup()
    week = {"from": str(today() - dt.timedelta(days=7)), "to": str(today())}
    assert other.get(f"/meters/{meter['meter_id']}/load-curve", params=week).status_code == 404
    assert other.get(f"/meters/{meter['meter_id']}/max-power", params=week).status_code == 404
    assert other.post(f"/meters/{meter['meter_id']}/load-curve/history").status_code == 404
    too_long = {"from": str(today() - dt.timedelta(days=8)), "to": str(today())}
    r = resident.get(f"/meters/{meter['meter_id']}/load-curve", params=too_long)
    assert r.status_code == 422 and r.json()["error"] == "period_too_long"
    assert uuid.UUID(meter["meter_id"])
