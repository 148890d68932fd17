"""Meter declarations through the gateway: only what a connector serves is accepted, a claim ends with its
consent or by an administrator's hand, and an account holds a bounded number of meters."""
from __future__ import annotations

import datetime as dt

import pytest

from devstack.client import ApiUser, admin_user, random_prm

DWELLING = {"street": "3 rue Très-Cloîtres", "postal_code": "38000", "municipality": "Grenoble",
            "insee_code": "38185", "surface_m2": 48, "occupants": 1}
HOLDER = {"holder_name": "Camille Martin", "postal_code": "38000", "email": "camille@example.org"}


@pytest.fixture
def other(stack):
    user = ApiUser(stack.url("gateway")).signup()
    yield user
    user.close()


@pytest.fixture
def admin(stack):
    user = admin_user(stack.url("gateway"))
    yield user
    user.close()


def declare(user: ApiUser, prm: str, **extra):
    assert user.put("/me/dwelling", json=DWELLING).status_code == 200
    return user.post("/meters", json={"energy": "electricity", "dso": "enedis", "identifier": prm, **extra})


@pytest.mark.parametrize("body, code", [
    ({"energy": "gas", "dso": "enedis", "identifier": "12345678901234"}, "energy_not_served_by_dso"),
    ({"energy": "electricity", "dso": "grdf", "identifier": "GI123456", "grdf_holder": HOLDER},
     "energy_not_served_by_dso"),
    ({"energy": "electricity", "dso": "enedis", "channel": "adict", "identifier": "12345678901234"},
     "channel_not_served_by_dso"),
    ({"energy": "gas", "dso": "grdf", "channel": "sge", "identifier": "GI123456", "grdf_holder": HOLDER},
     "channel_not_served_by_dso"),
    ({"energy": "electricity", "dso": "enedis", "channel": "file", "identifier": "12345678901234"},
     "channel_not_served_by_dso"),
    ({"energy": "heat", "dso": "dalkia", "identifier": "SST0042-L017"}, "dso_not_served"),
    # The local operators are served (ingest-local), with the contract reference and holder on the bill.
    ({"energy": "heat", "dso": "cciag", "identifier": "SST0042-L017"}, "local_holder_required"),
    ({"energy": "water", "dso": "cciag", "identifier": "EG12345678",
      "local_holder": {"contract_reference": "CT-1", "holder_name": "Élise Dupont"}}, "energy_not_served_by_dso"),
])
def test_a_declaration_no_connector_serves_is_refused_with_its_code_and_claims_nothing(resident, body, code):
    r = resident.post("/meters", json=body)
    assert (r.status_code, r.json()["error"]) == (422, code), r.text
    assert r.json()["detail"]
    assert resident.get("/meters").json() == []


def test_a_revoked_consent_frees_the_prm_for_another_account(resident, other, admin):
    prm = random_prm()
    meter = declare(resident, prm, channel="sge").json()
    end = dt.date.today() + dt.timedelta(days=365)
    r = admin.post("/admin/sge/subscriptions", json={"meter_id": meter["id"], "reference": "AFF-" + prm[-6:],
                                                     "consent_end": str(end)})
    assert r.status_code == 201 and r.json()["status"] == "active", r.text
    taken = declare(other, prm, channel="sge")
    assert (taken.status_code, taken.json()["error"]) == (409, "meter_already_claimed")

    assert resident.delete(f"/meters/{meter['id']}/consent").json()["status"] == "revoked"
    claimed = declare(other, prm, channel="sge")
    assert claimed.status_code == 201, claimed.text
    assert claimed.json()["id"] != meter["id"] and claimed.json()["consent"]["status"] == "requested"
    # The former holder keeps their meter's history, and cannot take the claim back from under the new one.
    [kept] = resident.get("/meters").json()
    assert (kept["id"], kept["consent"]["status"]) == (meter["id"], "revoked")
    back = resident.post(f"/meters/{meter['id']}/consent")
    assert (back.status_code, back.json()["error"]) == (409, "meter_already_claimed")


def test_a_withdrawn_request_frees_the_prm_and_its_holder_may_declare_it_again(resident, other):
    prm = random_prm()
    meter = declare(resident, prm).json()
    assert meter["consent"]["status"] == "awaiting_holder"
    assert resident.delete(f"/meters/{meter['id']}/consent").json()["status"] == "refused"
    again = declare(resident, prm)
    assert again.status_code == 201 and again.json()["id"] == meter["id"], again.text
    assert again.json()["consent"]["status"] == "awaiting_holder"
    assert [m["id"] for m in resident.get("/meters").json()] == [meter["id"]]
    taken = declare(other, prm)
    assert (taken.status_code, taken.json()["error"]) == (409, "meter_already_claimed")


def test_an_administrator_releases_a_claim_and_the_release_is_in_the_consent_history(resident, other, admin):
    prm = random_prm()
    meter = declare(resident, prm).json()
    assert declare(other, prm).json()["error"] == "meter_already_claimed"
    body = {"dso": "enedis", "identifier": prm, "note": "the holder showed their contract"}
    refused = other.post("/admin/meter-claims/release", json=body)
    assert refused.status_code == 403

    r = admin.post("/admin/meter-claims/release", json=body)
    assert r.status_code == 200, r.text
    assert (r.json()["meter_id"], r.json()["released_at"] is not None) == (meter["id"], True)
    assert (r.json()["consent"]["status"], r.json()["consent"]["reason"]) == ("refused", "claim_released")
    history = resident.get(f"/meters/{meter['id']}/consents").json()[0]["history"]
    assert history[-1]["actor"].startswith("admin:") and history[-1]["reason"] == "claim_released"
    assert history[-1]["evidence"]["note"] == body["note"]
    assert declare(other, prm).status_code == 201
    again = admin.post("/admin/meter-claims/release", json={"dso": "enedis", "identifier": random_prm()})
    assert (again.status_code, again.json()["error"]) == (404, "claim_not_found")


def test_an_account_holds_at_most_ten_meters(resident):
    meters = []
    for _ in range(10):
        r = declare(resident, random_prm(), channel="sge")
        assert r.status_code == 201, r.text
        meters.append(r.json())
    over = declare(resident, random_prm(), channel="sge")
    assert (over.status_code, over.json()["error"]) == (409, "meter_limit_reached")
    assert len(resident.get("/meters").json()) == 10
    # A claim given up makes room.
    assert resident.delete(f"/meters/{meters[0]['id']}/consent").json()["status"] == "refused"
    assert declare(resident, random_prm(), channel="sge").status_code == 201
