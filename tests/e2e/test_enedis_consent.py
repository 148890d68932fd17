"""Issue 3, consent part: a resident gives consent at the Enedis page and the platform records it, once Enedis
itself confirms the meter (Data Connect 2026: the autorisation's Services souscrits name it; issue 17)."""
from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from devstack import enedis_consent
from devstack.client import ApiUser, admin_user, random_prm
from devstack.db import fetch, fetchval
from devstack.enedis_consent import create_customer
from devstack.waiting import eventually

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
    assert "/dataconnect/v2/oauth2/authorize?" in url and "state=" in url and "duration=P3Y" in url

    answer = consent_at_dso(stack, url, cid)
    assert answer.status_code == 302
    callback = answer.headers["location"]
    assert callback.startswith(stack.url("gateway") + "/api/v1/consents/enedis/callback")
    # Data Connect 2026: the callback names an autorisation, never the PRM.
    assert "autorisation_id=" in callback and "usage_point_id" not in callback
    back = resident.http.get(callback.replace(stack.url("gateway") + "/api/v1", ""))
    assert back.status_code == 303
    assert parse_qs(urlparse(back.headers["location"]).query)["consent"] == ["active"]

    listed = resident.get(f"/meters/{meter['id']}").json()["consent"]
    assert listed["status"] == "active" and listed["address_check"] == "match"
    assert listed["expires_at"][:4] == str(int(listed["history_from"][:4]) + 3) or listed["expires_at"]
    history = resident.get(f"/meters/{meter['id']}/consents").json()[0]["history"]
    assert [h["to_status"] for h in history] == ["requested", "awaiting_holder", "active"]
    assert prm in history[-1]["evidence"]["usage_point_ids"]
    assert history[-1]["evidence"]["dso_check"]["call"] == "subscribed_services"
    assert history[-1]["evidence"]["generation"] == "v2"
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


def sandbox(stack) -> httpx.Client:
    return httpx.Client(base_url=stack.sandboxes["enedis"].url, timeout=30)


def come_back(stack, resident: ApiUser, answer: httpx.Response) -> dict[str, list[str]]:
    """The resident's browser follows the DSO's redirect; the query of the page it lands on."""
    back = resident.http.get(answer.headers["location"].replace(stack.url("gateway") + "/api/v1", ""))
    assert back.status_code == 303, back.text
    return parse_qs(urlparse(back.headers["location"]).query)


async def test_a_consent_enedis_has_not_listed_yet_waits_visibly_then_activates(stack, resident):
    prm = random_prm()
    cid = customer(stack, prm)
    meter = declare(resident, prm)
    with sandbox(stack) as dso:
        # Services souscrits answers an empty list three times, as just after a real consent.
        dso.put("/_sandbox/faults", json={"empty_listing_next": 3})
        try:
            query = come_back(stack, resident, consent_at_dso(stack, meter["consent"]["authorize_url"], cid))
            assert query["consent"] == ["awaiting_holder"] and query["warnings"] == ["dso_confirming"]
            consent = resident.get(f"/meters/{meter['id']}").json()["consent"]
            assert consent["status"] == "awaiting_holder" and consent["reason"] == "dso_confirming"
            assert consent["warnings"] == ["dso_confirming"]

            def active():
                consent = resident.get(f"/meters/{meter['id']}").json()["consent"]
                assert consent["status"] == "active", consent
                return consent
            consent = await eventually(active, timeout=60, interval=0.5)
        finally:
            dso.delete("/_sandbox/faults")
        assert consent["warnings"] == [] and consent["reason"] is None and consent["dso_reference"]
        assert dso.get(f"/_sandbox/counters/{prm}").json()["subscriptions"] == 4
    history = resident.get(f"/meters/{meter['id']}/consents").json()[0]["history"]
    assert [(h["to_status"], h["reason"]) for h in history] == [
        ("requested", None), ("awaiting_holder", None), ("awaiting_holder", "dso_confirming"), ("active", None)]
    assert history[2]["evidence"]["detail"] == "listing_empty"
    assert history[3]["actor"] == "dso" and prm in history[3]["evidence"]["usage_point_ids"]


async def test_a_listing_that_stays_empty_times_out_like_a_silent_consent(stack, resident):
    prm = random_prm()
    cid = customer(stack, prm)
    meter = declare(resident, prm)
    with sandbox(stack) as dso:
        dso.put("/_sandbox/faults", json={"empty_listing_next": 10_000})
        try:
            query = come_back(stack, resident, consent_at_dso(stack, meter["consent"]["authorize_url"], cid))
            assert query["consent"] == ["awaiting_holder"]
            await fetch(stack.database_url, "update consent.consents set requested_at = now() - interval '8 days' "
                                            "where meter_id = $1", uuid.UUID(meter["id"]))

            def timed_out():
                consent = resident.get(f"/meters/{meter['id']}").json()["consent"]
                return consent["status"] == "timed_out" and consent["reason"] == "no_answer_in_time"
            await eventually(timed_out, timeout=30)
        finally:
            dso.delete("/_sandbox/faults")
        assert dso.get(f"/_sandbox/counters/{prm}").json()["data"] == 0


@pytest.mark.parametrize("held_at_enedis", [False, True], ids=["invented_prm", "former_occupants_consent"])
async def test_the_residents_own_state_with_a_typed_usage_point_activates_nothing(stack, resident, held_at_enedis):
    """No visit to Enedis: the resident appends `usage_point_id` to the callback with their own valid state.
    Even where Enedis still holds a consent for that PRM (a former occupant's), nothing is collected."""
    prm = random_prm()
    with sandbox(stack) as dso:
        if held_at_enedis:
            assert dso.post("/_sandbox/customers", json={"prms": [prm], "consent": True}).status_code == 201
        meter = declare(resident, prm)
        state = parse_qs(urlparse(meter["consent"]["authorize_url"]).query)["state"][0]
        back = resident.http.get("/consents/enedis/callback", params={"state": state, "usage_point_id": prm})
        query = parse_qs(urlparse(back.headers["location"]).query)
        assert query["consent"] == ["invalid"] and query["warnings"] == ["not_confirmed_by_dso"]
        consent = resident.get(f"/meters/{meter['id']}").json()["consent"]
        assert consent["status"] == "invalid" and consent["reason"] == "not_confirmed_by_dso"

        admin = admin_user(stack.url("gateway"))
        try:
            assert admin.post("/admin/collections/enedis/run").status_code == 202
        finally:
            admin.close()
        await asyncio.sleep(3)
        assert dso.get(f"/_sandbox/counters/{prm}").json() == {"prm": prm, "data": 0, "customers": 0,
                                                               "subscriptions": 0}
    assert await fetchval(stack.database_url, "select count(*) from ingest_enedis.cursors where meter_id = $1",
                          uuid.UUID(meter["id"])) == 0
    history = resident.get(f"/meters/{meter['id']}/consents").json()[0]["history"]
    assert history[-1]["to_status"] == "invalid" and history[-1]["evidence"]["detail"] == "no_autorisation"


# Same street name, but the DSO places these meters in Saint-Martin-d'Hères; the dwelling says Grenoble.
ELSEWHERE = {"street": "5 place Grenette", "insee": "38421", "postal": "38400"}
DWELLING_AT_THE_DSO_ADDRESS = {"street": "5 place Grenette", "postal_code": "38400",
                               "municipality": "Saint-Martin-d'Hères", "insee_code": "38421",
                               "surface_m2": 55, "occupants": 2}


def consented_elsewhere(stack, resident: ApiUser) -> dict:
    """A meter whose DSO address is in another municipality than the dwelling, with consent given."""
    prm = random_prm()
    cid = customer(stack, prm, **ELSEWHERE)
    meter = declare(resident, prm)
    answer = consent_at_dso(stack, meter["consent"]["authorize_url"], cid)
    back = resident.http.get(answer.headers["location"].replace(stack.url("gateway") + "/api/v1", ""))
    query = parse_qs(urlparse(back.headers["location"]).query)
    assert query["consent"] == ["active"] and "address_municipality_mismatch" in query["warnings"][0]
    return {**meter, "prm": prm}


def ground_truth(stack, prm: str, days: int = 30) -> tuple[dict[str, int], str, str]:
    start = (dt.date.today() - dt.timedelta(days=days)).isoformat()
    r = httpx.get(f"{stack.sandboxes['enedis'].url}/_sandbox/ground_truth/{prm}", params={"start": start})
    assert r.status_code == 200, r.text
    body = r.json()
    return ({d["date"]: d["value"] for d in body["days"]
             if d["value"] is not None and d["date"] >= body["activation_date"]}, start, body["end"])


def consumption(user: ApiUser, meter_id: str, start: str, end: str) -> httpx.Response:
    return user.get(f"/meters/{meter_id}/consumption", params={"from": start, "to": end})


async def withheld_while_collected(stack, resident: ApiUser, meter: dict, start: str, end: str) -> None:
    """Collection goes on (readings are stored) while the resident is answered 409 address_unconfirmed."""
    async def collected():
        return await fetchval(stack.database_url, "select count(*) from consumption.readings where meter_id = $1",
                              uuid.UUID(meter["id"]))
    await eventually(collected, timeout=90, interval=1)

    def refused():
        r = consumption(resident, meter["id"], start, end)
        assert r.status_code == 409 and r.json()["error"] == "address_unconfirmed", r.text
        return True
    # The hold travels as an event, in the same transaction as consent.granted: it is there by now.
    await eventually(refused, timeout=10)


def served_equals(resident: ApiUser, meter: dict, truth: dict[str, int], start: str, end: str):
    def check():
        r = consumption(resident, meter["id"], start, end)
        assert r.status_code == 200, r.text
        got = {p["period"]: p["wh"] for p in r.json()["points"] if p["wh"] is not None}
        assert got == truth, f"{len(got)} days served, {len(truth)} expected"
        return True
    return check


async def test_address_mismatch_withholds_the_data_until_an_administrator_reviews_the_residents_word(stack, resident):
    """The resident's statement alone shows nothing: an administrator reviews it and clears the hold."""
    meter = consented_elsewhere(stack, resident)
    truth, start, end = ground_truth(stack, meter["prm"])
    assert len(truth) >= 20

    listed = resident.get("/meters").json()
    consent = next(m for m in listed if m["id"] == meter["id"])["consent"]
    assert consent["address_check"] == "mismatch" and consent["warnings"] == ["address_municipality_mismatch"]
    assert resident.get(f"/meters/{meter['id']}").json()["consent"]["warnings"] == ["address_municipality_mismatch"]
    # Which part differs, never the DSO's address: it may be a neighbour's.
    assert "38421" not in str(listed) and "38400" not in str(listed)

    await withheld_while_collected(stack, resident, meter, start, end)
    comparison = resident.get(f"/meters/{meter['id']}/comparison", params={"from": start, "to": end})
    assert comparison.status_code == 409 and comparison.json()["error"] == "address_unconfirmed"
    summary = next(m for m in resident.get("/me/summary").json()["meters"] if m["meter_id"] == meter["id"])
    assert summary["withheld"] == "address_unconfirmed" and summary["last_7_days"] is None
    assert summary["totals"]["month_wh"] == 0 and summary["comparison"] is None
    # Nor exported: the export leaves the readings out and says so.
    exported = resident.get("/me/export").json()["datasets"]
    readings = exported.get("consumption.readings", {"rows": []})["rows"]
    assert meter["id"] not in {r["meter_id"] for r in readings}
    withheld = exported["consumption.withheld"]["rows"]
    assert [(w["meter_id"], w["reason"]) for w in withheld] == [(meter["id"], "address_unconfirmed")]
    assert {"consumption.readings", "consumption.priced_days"} <= set(withheld[0]["datasets"])

    admin = admin_user(stack.url("gateway"))
    try:
        pending = {m["meter_id"]: m for m in admin.get("/admin/address-mismatches").json()}
        assert pending[meter["id"]]["mismatch"] == ["municipality"]
        assert pending[meter["id"]]["identifier"] == meter["prm"]
        forbidden = resident.get("/admin/address-mismatches")
        assert forbidden.status_code == 403 and forbidden.json()["error"] == "forbidden_role"

        confirmed = resident.post(f"/meters/{meter['id']}/address-confirmation")
        assert confirmed.status_code == 200, confirmed.text
        assert confirmed.json()["address_check"] == "resident_confirmed" and confirmed.json()["status"] == "active"
        history = resident.get(f"/meters/{meter['id']}/consents").json()[0]["history"]
        assert history[-1]["actor"] == "resident" and history[-1]["reason"] == "address_confirmed"
        assert history[-1]["to_status"] == "active" and history[-1]["at"]
        again = resident.post(f"/meters/{meter['id']}/address-confirmation")
        assert again.status_code == 409 and again.json()["error"] == "address_not_in_question"
        # Still withheld: the statement waits for the administrator's review, who sees it as such.
        await asyncio.sleep(2)
        r = consumption(resident, meter["id"], start, end)
        assert r.status_code == 409 and r.json()["error"] == "address_unconfirmed", r.text
        pending = {m["meter_id"]: m for m in admin.get("/admin/address-mismatches").json()}
        assert pending[meter["id"]]["address_check"] == "resident_confirmed"

        cleared = admin.post(f"/admin/address-mismatches/{meter['id']}", json={"decision": "clear",
                                                                              "note": "bill checked"})
        assert cleared.status_code == 200, cleared.text
        assert cleared.json()["address_check"] == "cleared" and cleared.json()["status"] == "active"
        history = resident.get(f"/meters/{meter['id']}/consents").json()[0]["history"]
        assert history[-1]["actor"].startswith("admin:") and history[-1]["reason"] == "address_cleared"
        assert meter["id"] not in {m["meter_id"] for m in admin.get("/admin/address-mismatches").json()}
    finally:
        admin.close()

    await eventually(served_equals(resident, meter, truth, start, end), timeout=60, interval=0.5)
    exported = resident.get("/me/export").json()["datasets"]
    assert "consumption.withheld" not in exported
    assert set(truth) <= {r["day"] for r in exported["consumption.readings"]["rows"] if r["meter_id"] == meter["id"]}


async def test_correcting_the_dwelling_checks_again_and_lifts_the_hold(stack, resident):
    meter = consented_elsewhere(stack, resident)
    truth, start, end = ground_truth(stack, meter["prm"])
    await withheld_while_collected(stack, resident, meter, start, end)

    assert resident.put("/me/dwelling", json=DWELLING_AT_THE_DSO_ADDRESS).status_code == 200
    consent = resident.get(f"/meters/{meter['id']}").json()["consent"]
    assert consent["address_check"] == "match" and consent["warnings"] == []
    history = resident.get(f"/meters/{meter['id']}/consents").json()[0]["history"]
    assert history[-1]["reason"] == "dwelling_corrected" and history[-1]["evidence"]["address_check"] == "match"
    await eventually(served_equals(resident, meter, truth, start, end), timeout=60, interval=0.5)


async def test_a_meter_consented_before_the_dwelling_was_described_is_held_once_the_dwelling_is_elsewhere(stack):
    resident = ApiUser(stack.url("gateway")).signup()
    try:
        prm = random_prm()
        cid = customer(stack, prm, **ELSEWHERE)
        r = resident.post("/meters", json={"energy": "electricity", "dso": "enedis", "identifier": prm})
        assert r.status_code == 201, r.text
        meter = r.json()
        answer = consent_at_dso(stack, meter["consent"]["authorize_url"], cid)
        back = resident.http.get(answer.headers["location"].replace(stack.url("gateway") + "/api/v1", ""))
        assert parse_qs(urlparse(back.headers["location"]).query)["consent"] == ["active"]
        assert resident.get(f"/meters/{meter['id']}").json()["consent"]["address_check"] == "unknown"
        truth, start, end = ground_truth(stack, prm)
        # Nothing to compare with yet: the data is shown.
        await eventually(served_equals(resident, meter, truth, start, end), timeout=90, interval=1)

        # The dwelling now described is in Grenoble; the DSO places the meter in Saint-Martin-d'Hères.
        assert resident.put("/me/dwelling", json=DWELLING).status_code == 200
        consent = resident.get(f"/meters/{meter['id']}").json()["consent"]
        assert consent["address_check"] == "mismatch" and consent["warnings"] == ["address_municipality_mismatch"]
        history = resident.get(f"/meters/{meter['id']}/consents").json()[0]["history"]
        assert history[-1]["reason"] == "address_checked" and history[-1]["evidence"]["address_check"] == "mismatch"

        def refused():
            r = consumption(resident, meter["id"], start, end)
            assert r.status_code == 409 and r.json()["error"] == "address_unconfirmed", r.text
            return True
        await eventually(refused, timeout=10)
    finally:
        resident.close()


async def test_an_administrator_rejects_a_mismatch_the_consent_is_revoked_and_nothing_is_shown(stack, resident):
    meter = consented_elsewhere(stack, resident)
    admin = admin_user(stack.url("gateway"))
    try:
        refused = resident.post(f"/admin/address-mismatches/{meter['id']}", json={"decision": "clear"})
        assert refused.status_code == 403
        r = admin.post(f"/admin/address-mismatches/{meter['id']}",
                       json={"decision": "reject", "note": "the holder says it is the flat below"})
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "revoked" and r.json()["reason"] == "address_rejected"
        assert r.json()["address_check"] == "rejected"
        assert meter["id"] not in {m["meter_id"] for m in admin.get("/admin/address-mismatches").json()}
    finally:
        admin.close()
    history = resident.get(f"/meters/{meter['id']}/consents").json()[0]["history"]
    assert history[-1]["to_status"] == "revoked" and history[-1]["actor"].startswith("admin:")
    assert history[-1]["evidence"]["note"] == "the holder says it is the flat below"
    assert resident.post(f"/meters/{meter['id']}/address-confirmation").status_code == 409
    today = dt.date.today()

    def withheld():
        r = consumption(resident, meter["id"], (today - dt.timedelta(days=30)).isoformat(), today.isoformat())
        return r.status_code == 409 and r.json()["error"] == "address_unconfirmed"
    await eventually(withheld, timeout=30)


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
