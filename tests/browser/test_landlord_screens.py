"""Issue 23 item 9: a building's own page and the landlord statements' screens. A manager builds the dwellings and
the meters' roles through the forms and hands a tenant a single-use code; the tenant enters it and reads their
dwelling's monthly statement (their share of the collective heating and hot water estimated by share key); a
viewer reads the same building without a form to fill. Each screen accessible (axe) and usable on a phone."""
from __future__ import annotations

import asyncio
import calendar
import datetime as dt
import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from devstack.client import ApiUser
from devstack.db import fetchval
from devstack.events import publish, readings_event
from devstack.waiting import eventually
from tests.browser.conftest import NO_SIDEWAYS_SCROLL, PHONE, assert_accessible, error_of, heading, shot
from tests.browser.test_coach import in_thread
from tests.browser.test_organisations import with_roles
from tests.browser.test_resident_quality import log_in
from tests.e2e.test_landlord_statements import HOUSING

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

HEAT_WH, HOT_WATER_WH = 100_000, 16_000  # per day: the building's collective heating and hot water


def last_month() -> tuple[dt.date, int]:
    """The first day of the last whole month (the screens' default month) and its number of days."""
    first = (dt.date.today().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    return first, calendar.monthrange(first.year, first.month)[1]


def landlord(stack, manager: ApiUser) -> tuple[str, str, dict[str, dict]]:
    """A landlord organisation with a housing building and its three meters (no dwelling, no role yet)."""
    org = manager.post("/orgs", json={"name": "Office Public de l'Habitat des Alpes", "kind": "landlord"})
    assert org.status_code == 201, org.text
    org_id = org.json()["id"]
    building = manager.post(f"/orgs/{org_id}/buildings", json=HOUSING)
    assert building.status_code == 201, building.text
    base = f"/orgs/{org_id}/buildings/{building.json()['id']}"
    meters = {}
    for label, energy in (("Chaufferie", "heat"), ("ECS", "heat"), ("Électricité B2", "electricity")):
        r = manager.post(f"{base}/meters", json={"energy": energy, "dso": "manual", "label": label})
        assert r.status_code == 201, r.text
        meters[label] = r.json()
    return org_id, building.json()["id"], meters


def feed(stack, meters: list[dict], first: dt.date, days: int) -> None:
    """(From another thread: Playwright's sync API holds this one's event loop.) The last month's readings of the collective heating and hot water meters."""
    async def go():
        for m in meters:
            await eventually(lambda m=m: fetchval(stack.database_url, "select 1 from consumption.meters "
                                                  "where meter_id=$1", uuid.UUID(m["id"])))
        await publish(stack.amqp_url, readings_event(meters[0]["id"], first, [HEAT_WH] * days),
                      readings_event(meters[1]["id"], first, [HOT_WATER_WH] * days))
    in_thread(go())


def rolled_up(user: ApiUser, base: str, month: str, days: int) -> None:
    """Waits until the building's statements of the month have every day of their collective meters (the
    dwelling's own electricity meter is left without readings)."""
    def complete():
        r = user.get(f"{base}/statements?month={month}")
        lines = [line for s in r.json()["statements"] for line in s["lines"] if line["kind"] != "own"]
        assert lines and all(line["days_present"] == days for line in lines), r.text
        return True
    in_thread(eventually(lambda: asyncio.to_thread(complete), timeout=120, interval=1))


def test_a_manager_sets_dwellings_and_roles_and_the_tenant_reads_their_statement(page: Page, stack):
    manager = with_roles(stack, ["resident", "professional"])
    org_id, building_id, meters = landlord(stack, manager)
    first, days = last_month()
    page.goto("/")
    log_in(page, manager.email)
    page.get_by_role("link", name="Patrimoine").click()
    page.get_by_role("link", name="Office Public de l'Habitat des Alpes").click()
    page.get_by_role("link", name="Résidence Les Glycines").click()
    expect(heading(page, "Résidence Les Glycines")).to_be_visible()
    expect(page).to_have_url(re.compile(f"/orgs/{org_id}/buildings/{building_id}$"))
    facts = page.locator("dl.facts")
    for fact in ("8 avenue des Glycines, 38100 Grenoble", "Logements", "160 m²", "1985", "Gaz"):
        expect(facts).to_contain_text(fact)

    # A refused dwelling: the error is next to the field, read through aria-describedby, and focus goes there.
    form = page.locator("form", has=page.get_by_role("heading", name="Ajouter un logement"))
    form.get_by_role("button", name="Ajouter un logement").click()
    assert error_of(page, "Logement")
    expect(form.get_by_label("Logement", exact=True)).to_be_focused()
    for label, area, heating in (("Appartement A1", "50", "300"), ("Appartement B2", "70", "500"),
                                 ("Appartement C3", "40,0", "100")):
        form.get_by_label("Logement", exact=True).fill(label)
        form.get_by_label("Surface (m²)").fill(area)
        form.get_by_label("Tantièmes chauffage").fill(heating)
        form.get_by_role("button", name="Ajouter un logement").click()
        expect(page.get_by_role("status")).to_contain_text(f"Logement {label} enregistré.")
    # C3's tantièmes corrected: 300 / 500 / 200 split the heating 30 / 50 / 20 %.
    page.get_by_role("button", name="Modifier le logement Appartement C3").click()
    edit = page.locator("form", has=page.get_by_role("heading", name="Modifier le logement Appartement C3"))
    expect(edit.get_by_label("Logement", exact=True)).to_be_focused()
    edit.get_by_label("Tantièmes chauffage").fill("200")
    edit.get_by_role("button", name="Enregistrer le logement").click()
    expect(page.get_by_role("row", name="Appartement C3")).to_contain_text("200")
    expect(page.get_by_role("row", name="Appartement C3")).to_contain_text("pas encore inscrit")

    for meter, role in (("Chaufferie", "Chauffage collectif"), ("ECS", "Eau chaude collective"),
                        ("Électricité B2", "Compteur d'un logement : Appartement B2")):
        page.get_by_label(f"Rôle du compteur {meter}").select_option(label=role)
        page.get_by_role("button", name=f"Enregistrer le rôle de {meter}").click()
        expect(page.get_by_text(f"Rôle de {meter} enregistré.")).to_be_visible()
    roles = {r["meter_id"]: (r["role"], r["dwelling_id"])
             for r in manager.get(f"/orgs/{org_id}/buildings/{building_id}/statement-meters").json()}
    dwellings = {d["label"]: d["id"] for d in manager.get(f"/orgs/{org_id}/buildings/{building_id}/dwellings").json()}
    assert roles == {meters["Chaufferie"]["id"]: ("collective_heating", None),
                     meters["ECS"]["id"]: ("collective_hot_water", None),
                     meters["Électricité B2"]["id"]: ("dwelling", dwellings["Appartement B2"])}

    page.get_by_role("button", name="Code locataire pour Appartement C3").click()
    expect(page.get_by_role("heading", name="Code à remettre au locataire de Appartement C3")).to_be_focused()
    code = page.get_by_test_id("tenant-code").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", code), code
    expect(page.get_by_text("Ce code n'est affiché qu'une fois.")).to_be_visible()
    assert_accessible(page, "building page (manager)")
    shot(page, "building-manager-fr-1100")
    page.set_viewport_size(PHONE)
    assert page.evaluate(NO_SIDEWAYS_SCROLL), "the building page scrolls sideways on a phone"
    page.set_viewport_size({"width": 1100, "height": 900})

    feed(stack, [meters["Chaufferie"], meters["ECS"]], first, days)
    month = first.strftime("%Y-%m")
    rolled_up(manager, f"/orgs/{org_id}/buildings/{building_id}", month, days)

    # The tenant: from their account, the landlord's code; a wrong one is refused next to the field.
    tenant = ApiUser(stack.url("gateway")).signup()
    page.get_by_role("button", name="Se déconnecter").click()
    log_in(page, tenant.email)
    expect(heading(page, "Ma consommation")).to_be_visible()
    expect(page.get_by_role("link", name="Mon logement loué")).to_have_count(0)
    page.get_by_role("link", name="Compte", exact=True).click()
    page.get_by_role("link", name="Relevés de mon logement loué (code de mon bailleur)").click()
    expect(heading(page, "Relevés de mon logement loué")).to_be_visible()
    page.get_by_label("Code remis par le bailleur").fill("AAAA-BBBB-CCCC")
    page.get_by_role("button", name="Valider le code").click()
    assert "inconnu, déjà utilisé ou expiré" in error_of(page, "Code remis par le bailleur")
    expect(page.get_by_label("Code remis par le bailleur")).to_be_focused()
    assert_accessible(page, "tenancy code form")
    page.get_by_label("Code remis par le bailleur").fill(code.lower())
    page.get_by_role("button", name="Valider le code").click()
    expect(page.get_by_role("status")).to_contain_text("Logement ajouté : Appartement C3.")
    expect(page.get_by_role("link", name="Mon logement loué")).to_be_visible()
    expect(page.get_by_label("Mois")).to_have_value(month)

    statement = page.locator("table[data-statement='Appartement C3']")
    heat, water = days * HEAT_WH / 1000 * 0.2, days * HOT_WATER_WH / 1000 * 40 / 160
    for line, how, value in (("Chauffage collectif", "tantièmes, 20 %", heat), ("Eau chaude collective", "surface, 25 %",
                                                                                 water)):
        cells = statement.get_by_role("row", name=line).locator("td")
        expect(cells.nth(0)).to_have_text(f"estimé par clé de répartition ({how} du bâtiment)")
        expect(cells.nth(1)).to_have_text(f"{value:g}")
    expect(statement.get_by_role("row", name="Total").locator("td").nth(0)).to_have_text(f"{heat + water:g}")
    expect(statement).not_to_contain_text("Électricité B2")  # B2's own meter is not C3's
    expect(page.get_by_role("link", name="Relevé à imprimer")).to_have_attribute(
        "href", re.compile(f"/api/v1/me/tenancies/{dwellings['Appartement C3']}/statement\\?month={month}&format=html"))
    assert_accessible(page, "tenancy statement")
    shot(page, "tenancy-fr-1100")
    page.set_viewport_size(PHONE)
    assert page.evaluate(NO_SIDEWAYS_SCROLL), "the tenant's statement scrolls sideways on a phone"
    shot(page, "tenancy-fr-390")


def test_a_viewer_reads_the_building_and_its_figures_without_any_form(page: Page, stack):
    manager = with_roles(stack, ["resident", "professional"])
    viewer = ApiUser(stack.url("gateway")).signup()
    org_id, building_id, meters = landlord(stack, manager)
    assert manager.put(f"/orgs/{org_id}/members", json={"email": viewer.email, "role": "viewer"}).status_code == 200
    base = f"/orgs/{org_id}/buildings/{building_id}"
    a1 = manager.post(f"{base}/dwellings", json={"label": "Appartement A1", "floor_area_m2": 50}).json()
    for meter, body in ((meters["Chaufferie"], {"role": "collective_heating"}),
                        (meters["Électricité B2"], {"role": "dwelling", "dwelling_id": a1["id"]})):
        assert manager.put(f"{base}/meters/{meter['id']}/statement-role", json=body).status_code == 200
    first, days = last_month()
    feed(stack, [meters["Chaufferie"], meters["ECS"]], first, days)
    rolled_up(manager, base, first.strftime("%Y-%m"), days)

    page.goto("/")
    log_in(page, viewer.email)
    expect(heading(page, "Ma consommation")).to_be_visible()
    page.goto(f"/orgs/{org_id}")
    expect(heading(page, "Office Public de l'Habitat des Alpes")).to_be_visible()
    expect(page.get_by_role("heading", name="Dépassements récents")).to_be_visible()
    expect(page.get_by_role("heading", name="Relevés mensuels des logements")).to_be_visible()
    expect(page.locator("main form")).to_have_count(0)
    assert_accessible(page, "organisation (viewer): buildings, excess, statements")

    page.get_by_role("link", name="Résidence Les Glycines").click()
    expect(heading(page, "Résidence Les Glycines")).to_be_visible()
    expect(page.get_by_role("row", name="Appartement A1")).to_contain_text("50")
    expect(page.locator("[data-meter='Chaufferie']")).to_contain_text("Rôle dans les relevés : Chauffage collectif")
    expect(page.locator("[data-meter='Électricité B2']")).to_contain_text(
        "Rôle dans les relevés : Compteur du logement Appartement A1")
    expect(page.locator("[data-meter='ECS']")).to_contain_text("Aucun (hors relevés)")
    # Nothing to fill or press: the API would refuse a viewer anyway.
    expect(page.locator("main form")).to_have_count(0)
    expect(page.locator("main button")).to_have_count(0)
    expect(page.get_by_role("link", name="relevés à imprimer")).to_have_attribute("href", re.compile(
        f"/api/v1/orgs/{org_id}/buildings/{building_id}/statements\\?month="))

    # The month's kWh of the building's meters together, and per m² of its 160 m².
    page.get_by_label("Année").select_option(str(first.year))
    kwh = days * (HEAT_WH + HOT_WATER_WH) // 1000
    table = page.get_by_role("table", name=f"Consommation mensuelle {first.year}")
    row = table.locator("tbody tr")
    expect(row).to_have_count(1)
    cells = row.locator("td")
    expect(cells.nth(0)).to_have_text(f"{kwh:,}".replace(",", "\u202f"))
    expect(cells.nth(2)).to_have_text(f"{kwh / 160:.2f}".replace(".", ",").rstrip("0").rstrip(","))
    assert_accessible(page, "building page (viewer)")
    page.set_viewport_size(PHONE)
    assert page.evaluate(NO_SIDEWAYS_SCROLL), "the building page scrolls sideways on a phone"
