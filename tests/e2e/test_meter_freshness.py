"""Issue 17: each meter tells the resident how fresh its data is (fresh, late at the DSO, collection failing,
no consent) with the last day collected, and the DSO's contract, through the public API."""
from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from devstack import enedis_consent
from devstack.client import random_prm
from devstack.waiting import eventually

pytestmark = pytest.mark.timeout(600)

DWELLING = {"street": "5 place Grenette", "postal_code": "38000", "municipality": "Grenoble", "insee_code": "38185",
            "surface_m2": 55, "occupants": 2}
ADDRESS = {"street": "5 place Grenette", "postal_code": "38000", "insee_code": "38185", "city": "Grenoble"}


@pytest.fixture
def sandbox(stack):
    client = httpx.Client(base_url=stack.sandboxes["enedis"].url, timeout=30)
    yield client
    client.delete("/_sandbox/faults")
    client.close()


def customer(sandbox, prm: str, **contract) -> str:
    r = sandbox.post("/_sandbox/customers", json={"prms": [prm], "consent": False, "hole_rate": 0.0,
                                                   "address": ADDRESS, "contract": contract or None})
    assert r.status_code == 201, r.text
    return r.json()["customer_id"]


def declare(resident, prm: str) -> dict:
    assert resident.put("/me/dwelling", json=DWELLING).status_code == 200
    r = resident.post("/meters", json={"energy": "electricity", "dso": "enedis", "identifier": prm})
    assert r.status_code == 201, r.text
    return r.json()


def give_consent(stack, resident, meter: dict, customer_id: str) -> None:
    answer = enedis_consent.consent_at_dso(stack.sandboxes["enedis"].url, meter["consent"]["authorize_url"],
                                           customer_id)
    assert answer.status_code == 302, answer.text[:300]
    back = resident.http.get(answer.headers["location"].replace(stack.url("gateway") + "/api/v1", ""))
    assert parse_qs(urlparse(back.headers["location"]).query)["consent"] == ["active"], back.headers["location"]


def listed(resident, meter_id: str) -> dict:
    r = resident.get("/meters")
    assert r.status_code == 200, r.text
    return next(m for m in r.json() if m["id"] == meter_id)


def last_published(sandbox, prm: str) -> str:
    days = sandbox.get(f"/_sandbox/ground_truth/{prm}", params={"published_only": "true"}).json()["days"]
    return max(d["date"] for d in days if d["value"] is not None)


async def test_a_collected_meter_is_fresh_with_its_last_day_and_the_dso_contract(stack, sandbox, resident):
    prm = random_prm()
    cid = customer(sandbox, prm, tariff_option="HC", subscribed_kva=9, offpeak_hours="HC (22H00-6H00)")
    meter = declare(resident, prm)
    assert meter["freshness"] == "no_consent" and meter["last_collected_day"] is None
    give_consent(stack, resident, meter, cid)

    def fresh():
        m = listed(resident, meter["id"])
        assert m["freshness"] == "fresh", m
        return m
    shown = await eventually(fresh, timeout=90, interval=1)
    assert shown["last_collected_day"] == last_published(sandbox, prm)
    assert shown["freshness_reason"] is None
    # When the next update is due: the resident just looked at the meter, so it is collected at the next
    # publication (08:30 Paris and its hour of spread), not after the others' turn under the quota.
    now = dt.datetime.now(dt.UTC)
    next_update = dt.datetime.fromisoformat(shown["next_update_at"])
    assert now - dt.timedelta(minutes=1) < next_update <= now + dt.timedelta(hours=26), shown["next_update_at"]

    one = resident.get(f"/meters/{meter['id']}").json()
    assert one["contract"]["origin"] == "dso"
    assert (one["contract"]["tariff_option"], one["contract"]["subscribed_kva"]) == ("HPHC", 9)
    assert one["contract"]["offpeak_hours"] == "HC (22H00-6H00)"

    # Revoked: nothing more is collected, and the days already collected are still told.
    assert resident.delete(f"/meters/{meter['id']}/consent").status_code == 200
    gone = listed(resident, meter["id"])
    assert gone["freshness"] == "no_consent"
    assert gone["last_collected_day"] == shown["last_collected_day"]
    assert gone["next_update_at"] is None


async def test_a_meter_whose_collection_fails_says_so_with_the_reason(stack, sandbox, resident):
    prm = random_prm()
    cid = customer(sandbox, prm)
    meter = declare(resident, prm)
    # Slow enough that the first collection's calls are still at the DSO when the outage starts.
    sandbox.put("/_sandbox/faults", json={"latency_ms": 2000})
    give_consent(stack, resident, meter, cid)
    sandbox.put("/_sandbox/faults", json={"latency_ms": 2000, "outage_minutes": 60})

    def failing():
        m = listed(resident, meter["id"])
        assert m["freshness"] == "collection_failing", m
        return m
    shown = await eventually(failing, timeout=90, interval=1)
    assert shown["freshness_reason"] == "dso_unavailable"
    assert shown["last_collected_day"] is None
    assert shown["consent"]["status"] == "active"


def test_a_meter_without_active_consent_has_no_consent(stack, sandbox, resident):
    prm = random_prm()
    customer(sandbox, prm)
    meter = declare(resident, prm)
    shown = listed(resident, meter["id"])
    assert shown["consent"]["status"] == "awaiting_holder"
    assert shown["freshness"] == "no_consent"
    assert shown["last_collected_day"] is None and shown["contract"] is None
