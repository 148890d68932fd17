"""Issue 3, consent part: a resident gives consent at the Enedis page and the platform records it."""
from __future__ import annotations

import uuid
from urllib.parse import parse_qs, urlparse

from tests.support import enedis_consent
from tests.support.client import ApiUser, random_prm
from tests.support.db import fetch
from tests.support.enedis_consent import create_customer
from tests.support.waiting import eventually

DWELLING = {"street": "5 place Grenette", "postal_code": "38000", "municipality": "Grenoble", "insee_code": "38185",
            "surface_m2": 55, "occupants": 2}


def customer(stack, prm: str, **address) -> str:
    return create_customer(stack.sandboxes["enedis"].url, prm, **address)


def consent_at_dso(stack, authorize_url: str, customer_id: str, decision: str = "accept"):
    return enedis_consent.consent_at_dso(stack.sandboxes["enedis"].url, authorize_url, customer_id, decision)


def declare(user: ApiUser, prm: str) -> dict:
    assert user.put("/me/dwelling", json=DWELLING).status_code == 200
    r = user.post("/meters", json={"energy": "electricity", "dso": "enedis", "identifier": prm})
    assert r.status_code == 201, r.text
    return r.json()


def test_consent_at_the_dso_page_activates_the_meter_with_its_evidence(stack, resident):
    prm = random_prm()
    cid = customer(stack, prm)
    meter = declare(resident, prm)
    assert meter["consent"]["status"] == "awaiting_holder"
    url = meter["consent"]["authorize_url"]
    assert "state=" in url and "duration=P3Y" in url

    answer = consent_at_dso(stack, url, cid)
    assert answer.status_code == 302
    callback = answer.headers["location"]
    assert callback.startswith(stack.url("gateway") + "/api/v1/consents/enedis/callback")
    back = resident.http.get(callback.replace(stack.url("gateway") + "/api/v1", ""))
    assert back.status_code == 303
    assert parse_qs(urlparse(back.headers["location"]).query)["consent"] == ["active"]

    listed = resident.get(f"/meters/{meter['id']}").json()["consent"]
    assert listed["status"] == "active" and listed["address_check"] == "match"
    assert listed["expires_at"][:4] == str(int(listed["history_from"][:4]) + 3) or listed["expires_at"]
    history = resident.get(f"/meters/{meter['id']}/consents").json()[0]["history"]
    assert [h["to_status"] for h in history] == ["requested", "awaiting_holder", "active"]
    assert prm in history[-1]["evidence"]["usage_point_ids"]
    assert "access_token" not in str(history)

    replay = resident.http.get(callback.replace(stack.url("gateway") + "/api/v1", ""))
    assert "error=consent_state_invalid" in replay.headers["location"]


def test_forged_or_foreign_callbacks_record_nothing(stack, resident):
    prm = random_prm()
    cid = customer(stack, prm)
    meter = declare(resident, prm)
    forged = resident.http.get("/consents/enedis/callback", params={"state": "forged", "usage_point_id": prm})
    assert "error=consent_state_invalid" in forged.headers["location"]
    answer = consent_at_dso(stack, meter["consent"]["authorize_url"], cid)
    intruder = ApiUser(stack.url("gateway")).signup()
    stolen = intruder.http.get(answer.headers["location"].replace(stack.url("gateway") + "/api/v1", ""))
    assert "error=consent_state_invalid" in stolen.headers["location"]
    assert resident.get(f"/meters/{meter['id']}").json()["consent"]["status"] == "awaiting_holder"


def test_address_mismatch_is_shown_before_any_data(stack, resident):
    prm = random_prm()
    cid = customer(stack, prm, street="1 avenue Victor Hugo", insee="38421", postal="38400")
    meter = declare(resident, prm)
    answer = consent_at_dso(stack, meter["consent"]["authorize_url"], cid)
    back = resident.http.get(answer.headers["location"].replace(stack.url("gateway") + "/api/v1", ""))
    query = parse_qs(urlparse(back.headers["location"]).query)
    assert "address_municipality_mismatch" in query["warnings"][0]
    assert resident.get(f"/meters/{meter['id']}").json()["consent"]["address_check"] == "mismatch"


async def test_a_consent_page_nobody_came_back_from_times_out_after_seven_days(stack, resident):
    meter = declare(resident, random_prm())
    await fetch(stack.database_url, "update consent.consents set requested_at = now() - interval '8 days' "
                                    "where meter_id = $1", uuid.UUID(meter["id"]))

    def timed_out():
        return resident.get(f"/meters/{meter['id']}").json()["consent"]["status"] == "timed_out"
    await eventually(timed_out, timeout=30)
    renewed = resident.post(f"/meters/{meter['id']}/consent")
    assert renewed.status_code == 201 and renewed.json()["status"] == "awaiting_holder"
    assert renewed.json()["authorize_url"]


def test_resident_revocation_stops_the_consent_and_keeps_history(stack, resident):
    prm = random_prm()
    cid = customer(stack, prm)
    meter = declare(resident, prm)
    answer = consent_at_dso(stack, meter["consent"]["authorize_url"], cid)
    resident.http.get(answer.headers["location"].replace(stack.url("gateway") + "/api/v1", ""))
    r = resident.delete(f"/meters/{meter['id']}/consent")
    assert r.status_code == 200 and r.json()["status"] == "revoked" and r.json()["reason"] == "user"
    again = resident.delete(f"/meters/{meter['id']}/consent")
    assert again.status_code == 409 and again.json()["error"] == "consent_not_revocable"
    history = resident.get(f"/meters/{meter['id']}/consents").json()[0]["history"]
    assert history[-1]["to_status"] == "revoked" and history[-1]["actor"] == "resident"
