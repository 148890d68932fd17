"""Issue 23 item 1: organisations (municipalities, landlords, companies) with members and roles, buildings, and
meters the organisation holds through the same consent channels as residents. A member sees only their
organisation."""
from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlparse

import pytest

from devstack import enedis_consent
from devstack.client import ApiUser, admin_user, random_prm
from devstack.waiting import eventually

pytestmark = pytest.mark.timeout(300)

SCHOOL = {"name": "École Jean Jaurès", "site": "Groupe scolaire Jaurès", "street": "12 rue Jean Jaurès",
          "postal_code": "38100", "municipality": "Grenoble", "insee_code": "38185", "use_type": "school",
          "heated_area_m2": 1850, "construction_year": 1972, "heating_energy": "gas"}


def signup(stack) -> ApiUser:
    return ApiUser(stack.url("gateway")).signup()


def professional(stack) -> ApiUser:
    user = signup(stack)
    admin = admin_user(stack.url("gateway"))
    r = admin.put(f"/admin/accounts/{user.account['id']}/roles", json={"roles": ["resident", "professional"]})
    assert r.status_code == 200, r.text
    admin.close()
    return user


def new_org(user: ApiUser, name: str = "Ville de Saint-Égrève") -> dict:
    r = user.post("/orgs", json={"name": name, "kind": "municipality", "siren": "213803825"})
    assert r.status_code == 201, r.text
    return r.json()


def test_members_and_roles_decide_what_each_can_do_and_outsiders_learn_nothing(stack, resident):
    refused = resident.post("/orgs", json={"name": "Bailleur", "kind": "landlord"})
    assert refused.status_code == 403 and refused.json()["error"] == "forbidden_role"

    manager = professional(stack)
    org = new_org(manager)
    assert org["my_role"] == "manager" and org["kind"] == "municipality"
    assert [(m["email"], m["role"]) for m in org["members"]] == [(manager.email, "manager")]

    viewer = signup(stack)
    r = manager.put(f"/orgs/{org['id']}/members", json={"email": viewer.email, "role": "viewer"})
    assert r.status_code == 200, r.text
    assert {(m["email"], m["role"]) for m in r.json()["members"]} == {(manager.email, "manager"),
                                                                     (viewer.email, "viewer")}
    missing = manager.put(f"/orgs/{org['id']}/members", json={"email": "nobody@example.org", "role": "viewer"})
    assert missing.status_code == 404 and missing.json()["error"] == "account_not_found"

    assert viewer.get("/orgs").json() == [{"id": org["id"], "name": org["name"], "kind": "municipality",
                                           "my_role": "viewer"}]
    assert viewer.get(f"/orgs/{org['id']}").json()["my_role"] == "viewer"
    denied = viewer.post(f"/orgs/{org['id']}/buildings", json=SCHOOL)
    assert denied.status_code == 403 and denied.json()["error"] == "org_manager_required"
    denied = viewer.put(f"/orgs/{org['id']}/members", json={"email": viewer.email, "role": "manager"})
    assert denied.status_code == 403 and denied.json()["error"] == "org_manager_required"

    bad = manager.post(f"/orgs/{org['id']}/buildings", json={**SCHOOL, "use_type": "castle"})
    assert bad.status_code == 422
    building = manager.post(f"/orgs/{org['id']}/buildings", json=SCHOOL)
    assert building.status_code == 201, building.text
    assert building.json()["use_type"] == "school" and building.json()["heated_area_m2"] == 1850
    listed = viewer.get(f"/orgs/{org['id']}/buildings").json()
    assert [(b["name"], b["site"], b["meters"]) for b in listed] == [(SCHOOL["name"], SCHOOL["site"], [])]

    # Someone else's organisation does not exist for them, whatever they try.
    other = professional(stack)
    theirs = new_org(other, "Bailleur social Alpes")
    for path in (f"/orgs/{org['id']}", f"/orgs/{org['id']}/buildings"):
        r = other.get(path)
        assert r.status_code == 404 and r.json()["error"] == "org_not_found", path
    r = other.post(f"/orgs/{org['id']}/buildings", json=SCHOOL)
    assert r.status_code == 404 and r.json()["error"] == "org_not_found"
    r = other.put(f"/orgs/{org['id']}/members", json={"email": other.email, "role": "manager"})
    assert r.status_code == 404
    assert [o["id"] for o in other.get("/orgs").json()] == [theirs["id"]]

    last = manager.put(f"/orgs/{org['id']}/members", json={"email": manager.email, "role": "viewer"})
    assert last.status_code == 409 and last.json()["error"] == "org_last_manager"
    assert manager.delete(f"/orgs/{org['id']}/members/{manager.account['id']}").status_code == 409
    assert viewer.delete(f"/orgs/{org['id']}/members/{viewer.account['id']}").status_code == 204
    assert viewer.get(f"/orgs/{org['id']}").status_code == 404


def test_an_organisation_meter_is_consented_at_the_enedis_page_and_read_by_members_only(stack):
    manager = professional(stack)
    org = new_org(manager, "Société Alpine de Services")
    viewer = signup(stack)
    assert manager.put(f"/orgs/{org['id']}/members", json={"email": viewer.email, "role": "viewer"}).status_code == 200
    building = manager.post(f"/orgs/{org['id']}/buildings", json={**SCHOOL, "name": "Siège", "use_type": "offices",
                                                                  "site": None}).json()
    prm = random_prm()
    sandbox = stack.sandboxes["enedis"].url
    customer = enedis_consent.create_customer(sandbox, prm, street=SCHOOL["street"], postal=SCHOOL["postal_code"])

    denied = viewer.post(f"/orgs/{org['id']}/buildings/{building['id']}/meters",
                         json={"energy": "electricity", "dso": "enedis", "identifier": prm})
    assert denied.status_code == 403 and denied.json()["error"] == "org_manager_required"
    r = manager.post(f"/orgs/{org['id']}/buildings/{building['id']}/meters",
                     json={"energy": "electricity", "dso": "enedis", "identifier": prm, "label": "TGBT"})
    assert r.status_code == 201, r.text
    meter = r.json()
    assert meter["consent"]["status"] == "awaiting_holder" and "state=" in meter["consent"]["authorize_url"]

    answer = enedis_consent.consent_at_dso(sandbox, meter["consent"]["authorize_url"], customer)
    callback = answer.headers["location"].replace(stack.url("gateway") + "/api/v1", "")
    # Only a manager of the holding organisation may bring the DSO's answer back.
    stolen = viewer.http.get(callback)
    assert "error=consent_state_invalid" in stolen.headers["location"]
    back = manager.http.get(callback)
    assert parse_qs(urlparse(back.headers["location"]).query)["consent"] == ["active"], back.headers["location"]

    listed = viewer.get(f"/orgs/{org['id']}/buildings").json()
    assert [(m["identifier"], m["label"], m["consent"]["status"]) for m in listed[0]["meters"]] == \
        [(prm, "TGBT", "active")]
    # The organisation's meter is not the manager's own.
    assert prm not in [m["identifier"] for m in manager.get("/meters").json()]
    assert manager.get(f"/meters/{meter['id']}").status_code == 404

    end = dt.date.today()
    start = end - dt.timedelta(days=20)
    path = f"/orgs/{org['id']}/meters/{meter['id']}/consumption?from={start}&to={end}"

    async def collected():
        r = viewer.get(path)
        assert r.status_code == 200, r.text
        days = [p for p in r.json()["points"] if p["wh"] is not None]
        assert len(days) >= 10, r.json()
        return days

    import asyncio
    days = asyncio.run(eventually(collected, timeout=120, interval=1))
    assert all(d["wh"] > 0 for d in days)

    outsider = professional(stack)
    r = outsider.get(path)
    assert r.status_code == 404 and r.json()["error"] == "org_not_found"
    own_org = new_org(outsider, "Autre société")
    r = outsider.get(f"/orgs/{own_org['id']}/meters/{meter['id']}/consumption?from={start}&to={end}")
    assert r.status_code == 404 and r.json()["error"] == "meter_not_found"
