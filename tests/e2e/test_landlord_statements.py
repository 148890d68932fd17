"""Issue 23 item 4: landlord statements. A housing building's dwellings with their share key; each month every
dwelling gets its own meters and its share of the collective heating (estimated by share key), as data, a
printable page and a PDF, for the organisation's members; the tenant who accepted their dwelling's invitation
reads their dwelling's statement, and only theirs."""
from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import pytest

from devstack.client import ApiUser, admin_user, random_prm
from devstack.db import fetchval
from devstack.events import publish, readings_event
from devstack.waiting import eventually

pytestmark = pytest.mark.timeout(300)

HOUSING = {"name": "Résidence Les Glycines", "street": "8 avenue des Glycines", "postal_code": "38100",
           "municipality": "Grenoble", "insee_code": "38185", "use_type": "housing", "heated_area_m2": 160,
           "construction_year": 1985, "heating_energy": "gas"}
# Heating tantièmes 300 / 500 / 200: the collective heating is split 30 / 50 / 20 %.
DWELLINGS = [("Appartement A1", 50, 300), ("Appartement B2", 70, 500), ("Appartement C3", 40, 200)]
HEAT_WH, OWN_WH, HOT_WATER_WH = 100_000, 5_000, 16_000  # per day, January 2025


def professional(stack) -> ApiUser:
    user = ApiUser(stack.url("gateway")).signup()
    admin = admin_user(stack.url("gateway"))
    r = admin.put(f"/admin/accounts/{user.account['id']}/roles", json={"roles": ["resident", "professional"]})
    assert r.status_code == 200, r.text
    admin.close()
    return user


def new_org(user: ApiUser, name: str) -> dict:
    r = user.post("/orgs", json={"name": name, "kind": "landlord"})
    assert r.status_code == 201, r.text
    return r.json()


def test_statements_split_the_collective_heating_by_share_key_and_each_tenant_sees_only_theirs(stack):
    manager = professional(stack)
    org = new_org(manager, "Office Public de l'Habitat des Alpes")
    viewer = ApiUser(stack.url("gateway")).signup()
    assert manager.put(f"/orgs/{org['id']}/members", json={"email": viewer.email, "role": "viewer"}).status_code == 200
    building = manager.post(f"/orgs/{org['id']}/buildings", json=HOUSING).json()
    base = f"/orgs/{org['id']}/buildings/{building['id']}"

    denied = viewer.post(f"{base}/dwellings", json={"label": "X", "floor_area_m2": 30})
    assert denied.status_code == 403 and denied.json()["error"] == "org_manager_required"
    offices = manager.post(f"/orgs/{org['id']}/buildings", json={**HOUSING, "name": "Siège", "use_type": "offices"})
    refused = manager.post(f"/orgs/{org['id']}/buildings/{offices.json()['id']}/dwellings",
                           json={"label": "X", "floor_area_m2": 30})
    assert refused.status_code == 409 and refused.json()["error"] == "building_not_housing"

    dwellings = {}
    for label, area, tantiemes in DWELLINGS:
        r = manager.post(f"{base}/dwellings", json={"label": label, "floor_area_m2": area,
                                                    "heating_tantiemes": tantiemes})
        assert r.status_code == 201, r.text
        dwellings[label] = r.json()
    assert [d["label"] for d in viewer.get(f"{base}/dwellings").json()] == [d[0] for d in DWELLINGS]

    heat = manager.post(f"{base}/meters", json={"energy": "heat", "dso": "manual", "label": "Chaufferie"})
    assert heat.status_code == 201, heat.text
    heat = heat.json()
    hot_water = manager.post(f"{base}/meters", json={"energy": "heat", "dso": "manual", "label": "ECS"}).json()
    own = manager.post(f"{base}/meters", json={"energy": "electricity", "dso": "enedis", "identifier": random_prm(),
                                               "label": "Électricité B2"}).json()
    b2 = dwellings["Appartement B2"]["id"]
    for meter, body in ((heat, {"role": "collective_heating"}), (hot_water, {"role": "collective_hot_water"}),
                        (own, {"role": "dwelling", "dwelling_id": b2})):
        r = manager.put(f"{base}/meters/{meter['id']}/statement-role", json=body)
        assert r.status_code == 200, r.text
    missing = manager.put(f"{base}/meters/{own['id']}/statement-role",
                          json={"role": "dwelling", "dwelling_id": str(uuid.uuid4())})
    assert missing.status_code == 404 and missing.json()["error"] == "dwelling_not_found"
    # Every member reads the roles back; only a manager corrects a dwelling (the whole dwelling sent again).
    roles = {r["meter_id"]: (r["role"], r["dwelling_id"]) for r in viewer.get(f"{base}/statement-meters").json()}
    assert roles == {heat["id"]: ("collective_heating", None), hot_water["id"]: ("collective_hot_water", None),
                     own["id"]: ("dwelling", b2)}
    a1 = dwellings["Appartement A1"]["id"]
    body = {"label": "Appartement A1", "floor_area_m2": 50, "heating_tantiemes": 300}
    assert viewer.put(f"{base}/dwellings/{a1}", json=body).status_code == 403
    fixed = manager.put(f"{base}/dwellings/{a1}", json={**body, "hot_water_tantiemes": 90})
    assert fixed.status_code == 200 and fixed.json()["hot_water_tantiemes"] == 90, fixed.text
    assert manager.put(f"{base}/dwellings/{a1}", json={**body, "hot_water_tantiemes": None}).status_code == 200
    assert manager.put(f"{base}/dwellings/{uuid.uuid4()}", json=body).json()["error"] == "dwelling_not_found"

    async def feed():
        for meter in (heat, hot_water, own):
            await eventually(lambda m=meter: fetchval(stack.database_url, "select 1 from consumption.meters "
                                                      "where meter_id=$1", uuid.UUID(m["id"])))
        await publish(stack.amqp_url, readings_event(heat["id"], dt.date(2025, 1, 1), [HEAT_WH] * 31),
                      readings_event(hot_water["id"], dt.date(2025, 1, 1), [HOT_WATER_WH] * 31),
                      readings_event(own["id"], dt.date(2025, 1, 1), [OWN_WH] * 31))

        async def rolled_up():
            r = viewer.get(f"{base}/statements?month=2025-01")
            assert r.status_code == 200, r.text
            body = r.json()
            assert all(line["days_present"] == 31 for s in body["statements"] for line in s["lines"]), body
            assert any(s["eur"] for s in body["statements"]), body  # the electricity priced
            return body
        return await eventually(rolled_up, timeout=90, interval=1)

    result = asyncio.run(feed())
    assert result["month"] == "2025-01" and result["organisation"] == org["name"]
    by_label = {s["label"]: s for s in result["statements"]}
    assert list(by_label) == [d[0] for d in DWELLINGS]
    heat_kwh = 31 * HEAT_WH / 1000
    for label, _, tantiemes in DWELLINGS:
        (heating,) = [line for line in by_label[label]["lines"] if line["kind"] == "collective_heating"]
        assert heating["kwh"] == round(heat_kwh * tantiemes / 1000, 1)
        assert heating["estimated_by_share_key"] and heating["share_key"] == "tantiemes"
        assert heating["share_pct"] == tantiemes / 10 and heating["energy"] == "heat"
    # No hot-water tantièmes: the hot water is split by floor area (50, 70 and 40 of 160 m²).
    for label, area, _ in DWELLINGS:
        (water,) = [line for line in by_label[label]["lines"] if line["kind"] == "collective_hot_water"]
        assert water["share_key"] == "surface" and water["share_pct"] == round(100 * area / 160, 2)
        assert water["kwh"] == round(31 * HOT_WATER_WH / 1000 * area / 160, 1) and water["estimated_by_share_key"]
    own_line = [line for line in by_label["Appartement B2"]["lines"] if line["kind"] == "own"]
    assert [(x["kwh"], x["estimated_by_share_key"], x["energy"]) for x in own_line] == \
        [(31 * OWN_WH / 1000, False, "electricity")]
    assert own_line[0]["eur"] > 0
    b2_water = round(31 * HOT_WATER_WH / 1000 * 70 / 160, 1)
    assert by_label["Appartement B2"]["kwh"] == round(heat_kwh * 0.5 + b2_water + 31 * OWN_WH / 1000, 1)
    assert sorted(line["kind"] for line in by_label["Appartement A1"]["lines"]) == \
        ["collective_heating", "collective_hot_water"]

    page = viewer.get(f"{base}/statements?month=2025-01", headers={"accept": "text/html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "script-src" not in page.headers["content-security-policy"]
    assert "Relevé de consommation — janvier 2025" in page.text and "Appartement C3" in page.text
    assert "estimé par clé de répartition (tantièmes, 20,00 %)" in page.text
    assert "estimé par clé de répartition (surface, 25,00 %)" in page.text
    pdf = manager.get(f"{base}/statements?month=2025-01&dwelling={b2}&format=pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and len(pdf.content) > 3000

    # Another organisation's member, and anyone else, learn nothing.
    outsider = professional(stack)
    new_org(outsider, "Autre bailleur")
    for path in (f"{base}/statements?month=2025-01", f"{base}/dwellings"):
        r = outsider.get(path)
        assert r.status_code == 404 and r.json()["error"] == "org_not_found", path

    # The tenant links themselves with the code the manager gives them; they read their dwelling only.
    c3 = dwellings["Appartement C3"]["id"]
    invitation = manager.post(f"{base}/dwellings/{c3}/invitation")
    assert invitation.status_code == 201, invitation.text
    code = invitation.json()["code"]
    tenant = ApiUser(stack.url("gateway")).signup()
    assert tenant.get("/me/tenancies").json() == []
    linked = tenant.post("/me/tenancies", json={"code": code.lower()})
    assert linked.status_code == 201, linked.text
    assert [(t["dwelling_id"], t["label"], t["landlord"]) for t in linked.json()] == \
        [(c3, "Appartement C3", org["name"])]
    again = ApiUser(stack.url("gateway")).signup().post("/me/tenancies", json={"code": code})
    assert again.status_code == 404 and again.json()["error"] == "invitation_not_found"

    mine = tenant.get(f"/me/tenancies/{c3}/statement?month=2025-01")
    assert mine.status_code == 200, mine.text
    (statement,) = mine.json()["statements"]
    assert statement["label"] == "Appartement C3"
    assert statement["kwh"] == round(heat_kwh * 0.2 + 31 * HOT_WATER_WH / 1000 * 40 / 160, 1)
    printable = tenant.get(f"/me/tenancies/{c3}/statement?month=2025-01&format=html")
    assert "Appartement C3" in printable.text and "Appartement B2" not in printable.text
    for path in (f"/me/tenancies/{b2}/statement?month=2025-01", f"{base}/statements?month=2025-01",
                 f"{base}/dwellings"):
        r = tenant.get(path)
        assert r.status_code == 404, path
    assert manager.get(f"{base}/dwellings").json()[2]["tenant_linked"] is True
    assert tenant.delete(f"/me/tenancies/{c3}").status_code == 204
    assert tenant.get(f"/me/tenancies/{c3}/statement?month=2025-01").status_code == 404
