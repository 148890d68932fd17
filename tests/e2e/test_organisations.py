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


def declared_meter(manager: ApiUser, org: dict, building: dict) -> dict:
    """An organisation meter whose consent is not given yet: consumption knows it, nothing collects it, so
    the readings the test publishes are its only data."""
    r = manager.post(f"/orgs/{org['id']}/buildings/{building['id']}/meters",
                     json={"energy": "electricity", "dso": "enedis", "identifier": random_prm()})
    assert r.status_code == 201, r.text
    return r.json()


def test_the_portfolio_spreadsheet_gives_each_meter_and_month_with_totals_as_xlsx_and_csv(stack):
    import asyncio
    import csv
    import io
    import uuid

    from openpyxl import load_workbook

    from devstack.db import fetchval
    from devstack.events import publish, readings_event
    from consumption.series import co2e_factor

    manager = professional(stack)
    org = new_org(manager, "Commune de Seyssinet-Pariset")
    school = manager.post(f"/orgs/{org['id']}/buildings", json=SCHOOL).json()
    gym = manager.post(f"/orgs/{org['id']}/buildings", json={**SCHOOL, "name": "Gymnase", "use_type": "gymnasium",
                                                             "heated_area_m2": 800, "site": None}).json()
    a, b = declared_meter(manager, org, school), declared_meter(manager, org, gym)

    async def feed():
        for meter in (a, b):
            await eventually(lambda m=meter: fetchval(stack.database_url, "select 1 from consumption.meters "
                                                      "where meter_id=$1", uuid.UUID(m["id"])))
        await publish(stack.amqp_url, readings_event(a["id"], dt.date(2025, 1, 1), [1000] * 90),
                      readings_event(b["id"], dt.date(2025, 1, 1), [2000] * 15))

        async def rolled_up():
            r = manager.get(f"/orgs/{org['id']}/spreadsheet?year=2025&format=csv")
            assert r.status_code == 200, r.text
            table = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=";"))
            assert table[1][7] == "31.0" and table[2][7] == "30.0", table[:3]
            return table
        return await eventually(rolled_up, timeout=60, interval=1)

    table = asyncio.run(feed())
    head = table[0]
    assert head[:7] == ["Bâtiment", "Site", "Usage", "Surface chauffée (m²)", "Compteur", "Libellé", "Énergie"]
    assert head[7:12] == ["janv. 2025 kWh", "janv. 2025 €", "janv. 2025 kWh/m²", "janv. 2025 kg CO2e",
                          "janv. 2025 complétude %"]
    assert len(head) == 7 + 12 * 5
    num, den = co2e_factor("electricity")
    school_row, gym_row, total = table[1], table[2], table[3]
    assert school_row[:5] == [SCHOOL["name"], SCHOOL["site"], "school", "1850.0", a["identifier"]]
    assert school_row[9] == str(round(31 / 1850, 2)) and school_row[11] == "100"
    assert school_row[10] == str(round(31_000 * num / den / 1000, 1))
    assert float(school_row[8]) > 0  # priced with the catalogue's tariff
    assert [school_row[12], school_row[16]] == ["28.0", "100"]  # February, whole
    assert [school_row[22], school_row[26]] == ["0.0", "0"]  # April: no data
    assert [gym_row[7], gym_row[9], gym_row[11]] == ["30.0", str(round(30 / 800, 2)), "48"]  # 15 of 31 days
    assert total[:5] == ["Total", "", "", "2650.0", "2 compteurs"]
    assert [total[7], total[9], total[11]] == ["61.0", str(round(61 / 2650, 2)), "74"]  # (31 + 15) / 62 days

    yearly = manager.get(f"/orgs/{org['id']}/spreadsheet?year=2025&step=year&format=csv")
    year_table = list(csv.reader(io.StringIO(yearly.content.decode("utf-8-sig")), delimiter=";"))
    assert year_table[0][7] == "2025 kWh" and len(year_table[0]) == 12
    assert [year_table[1][7], year_table[1][11]] == ["90.0", str(round(100 * 90 / 365))]

    r = manager.get(f"/orgs/{org['id']}/spreadsheet?year=2025")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert 'filename="metroenergies-portefeuille-2025.xlsx"' in r.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(r.content)).active
    assert sheet.freeze_panes == "H2"
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][7] == "janv. 2025 kWh" and values[1][7] == 31.0 and values[2][11] == 48
    assert values[3][0] == "Total" and values[3][7] == 61.0
    assert sheet.cell(row=2, column=8).number_format == "#,##0"

    outsider = professional(stack)
    r = outsider.get(f"/orgs/{org['id']}/spreadsheet?year=2025")
    assert r.status_code == 404 and r.json()["error"] == "org_not_found"
    assert manager.get(f"/orgs/{org['id']}/spreadsheet?year=1999").status_code == 422


def test_the_annual_report_groups_buildings_by_use_and_names_those_furthest_above_their_median(stack):
    import asyncio
    import uuid

    from devstack.db import fetchval
    from devstack.events import publish, readings_event

    manager = professional(stack)
    org = new_org(manager, "Ville de Pont-de-Claix")
    schools, meters = [], []
    for name, wh in (("École A", 1000), ("École B", 2000), ("École C", 3000)):
        b = manager.post(f"/orgs/{org['id']}/buildings", json={**SCHOOL, "name": name, "heated_area_m2": 1000,
                                                               "site": None}).json()
        schools.append(b)
        meters.append((declared_meter(manager, org, b), wh))
    gym = manager.post(f"/orgs/{org['id']}/buildings", json={**SCHOOL, "name": "Gymnase", "use_type": "gymnasium",
                                                             "heated_area_m2": 500, "site": None}).json()
    meters.append((declared_meter(manager, org, gym), 4000))

    async def feed():
        for meter, _ in meters:
            await eventually(lambda m=meter: fetchval(stack.database_url, "select 1 from consumption.meters "
                                                      "where meter_id=$1", uuid.UUID(m["id"])))
        await publish(stack.amqp_url, *(readings_event(m["id"], dt.date(2025, 1, 1), [wh] * 365) for m, wh in meters),
                      readings_event(meters[0][0]["id"], dt.date(2024, 1, 1), [500] * 366))

        async def settled():
            r = manager.get(f"/orgs/{org['id']}/report?year=2025")
            assert r.status_code == 200, r.text
            report = r.json()
            assert report["totals"]["kwh"] == 365 * 10 and report["use_types"][0]["change_pct"] is not None, report
            return report
        return await eventually(settled, timeout=60, interval=1)

    report = asyncio.run(feed())
    school, gymnasium = report["use_types"]
    assert (school["use_type"], school["buildings"], school["floor_area_m2"], school["kwh"]) == \
        ("school", 3, 3000, 365 * 6)
    assert school["kwh_m2"] == round(365 * 6 / 3000, 1) and school["completeness_pct"] == 100
    assert school["change_pct"] == round(100 * (365 - 183) / 183, 1)  # École A, the only one measured in 2024
    assert (gymnasium["use_type"], gymnasium["kwh"], gymnasium["kwh_m2"]) == ("gymnasium", 1460, 2.9)
    assert report["totals"]["buildings"] == 4 and report["totals"]["floor_area_m2"] == 3500
    top = report["furthest_above_median"]
    assert [(b["name"], b["above_median_pct"]) for b in top] == [("École C", 50.0)]

    page = manager.get(f"/orgs/{org['id']}/report?year=2025", headers={"accept": "text/html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "script-src" not in page.headers["content-security-policy"]
    assert "Rapport annuel 2025" in page.text and "Ville de Pont-de-Claix" in page.text
    assert "Écoles" in page.text and "École C" in page.text and "+50,0 %" in page.text
    pdf = manager.get(f"/orgs/{org['id']}/report?year=2025&format=pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and len(pdf.content) > 5000

    outsider = professional(stack)
    r = outsider.get(f"/orgs/{org['id']}/report?year=2025")
    assert r.status_code == 404 and r.json()["error"] == "org_not_found"
