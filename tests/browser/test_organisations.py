"""Issue 23 item 9: an organisation's manager creates it, adds a building and a member, and finds the spreadsheet
and the report; an analyst sees the territory's table and map. Both accessible (axe) and usable on a phone."""
from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
from playwright.sync_api import Page, expect

from devstack.client import ApiUser, admin_user
from tests.browser.conftest import NO_SIDEWAYS_SCROLL, PHONE, assert_accessible, heading, shot
from tests.browser.test_resident_quality import log_in
from tests.e2e.test_analyst import YEAR, add_homes, settled
from tests.e2e.test_renovations import add_renovations

pytestmark = pytest.mark.browser


def with_roles(stack, roles: list[str]) -> ApiUser:
    user = ApiUser(stack.url("gateway")).signup()
    admin = admin_user(stack.url("gateway"))
    assert admin.put(f"/admin/accounts/{user.account['id']}/roles", json={"roles": roles}).status_code == 200
    admin.close()
    return user


def test_a_manager_builds_the_portfolio_and_finds_its_spreadsheet_and_report(page: Page, stack):
    manager = with_roles(stack, ["resident", "professional"])
    colleague = ApiUser(stack.url("gateway")).signup()
    page.goto("/")
    log_in(page, manager.email)
    page.get_by_role("link", name="Patrimoine").click()
    expect(heading(page, "Mes organisations")).to_be_visible()
    expect(page.get_by_text("Vous n'êtes membre d'aucune organisation.")).to_be_visible()

    page.get_by_label("Nom de l'organisation").fill("Ville d'Échirolles")
    page.get_by_label("SIREN (9 chiffres)").fill("12345")
    page.get_by_role("button", name="Créer une organisation").click()
    siren = page.get_by_label("SIREN (9 chiffres)")
    expect(siren).to_have_attribute("aria-invalid", "true")
    expect(siren).to_be_focused()
    siren.fill("213801511")
    page.get_by_role("button", name="Créer une organisation").click()
    page.get_by_role("link", name="Ville d'Échirolles").click()
    expect(heading(page, "Ville d'Échirolles")).to_be_visible()
    expect(page).to_have_title("Patrimoine · MétroEnergies")

    form = page.locator("form", has=page.get_by_role("heading", name="Ajouter un bâtiment"))
    form.get_by_label("Nom du bâtiment").fill("Groupe scolaire Jean Moulin")
    form.get_by_label("Adresse").fill("1 rue Jean Moulin")
    form.get_by_label("Code postal").fill("38130")
    form.get_by_label("Commune").fill("Échirolles")
    form.get_by_label("Code INSEE").fill("38151")
    form.get_by_label("Usage").select_option("school")
    form.get_by_label("Surface chauffée (m²)").fill("2400,5")
    form.get_by_role("button", name="Ajouter un bâtiment").click()
    row = page.get_by_role("row", name="Groupe scolaire Jean Moulin")
    expect(row).to_contain_text("École")
    expect(row).to_contain_text("2")

    member = page.locator("form", has=page.get_by_role("heading", name="Ajouter un membre"))
    member.get_by_label("Adresse e-mail du membre").fill(colleague.email)
    member.get_by_role("button", name="Ajouter un membre").click()
    expect(page.get_by_text(f"{colleague.email} — lecteur")).to_be_visible()

    last = page.get_by_label("Année").input_value()
    expect(page.get_by_role("link", name="Tableau des compteurs par mois (Excel)")).to_have_attribute(
        "href", f"/api/v1/orgs/{page.url.rsplit('/', 1)[1]}/spreadsheet?year={last}&format=xlsx")
    with page.expect_download() as download:
        page.get_by_role("link", name="Tableau des compteurs par mois (CSV)").click()
    text = open(download.value.path(), encoding="utf-8-sig").read()
    assert text.startswith("Bâtiment;Site;Usage") and "Total" in text
    assert_accessible(page, "organisation")
    shot(page, "organisation-fr-1100")

    page.set_viewport_size(PHONE)
    assert page.evaluate(NO_SIDEWAYS_SCROLL), "the organisation page scrolls sideways on a phone"


def test_an_analyst_reads_the_territory_as_a_table_and_a_map(page: Page, stack):
    async def population():
        await add_homes(stack.database_url, "38150", 14, 7000)  # Domène: published
        await add_homes(stack.database_url, "38126", 3, 7000)   # Corenc: withheld
        await add_homes(stack.database_url, "38071", 2, 7000)   # Champ-sur-Drac: withheld
        await add_renovations(stack.database_url, "Écoles sobres", 2)  # a programme too small to publish
    # Playwright's sync API holds this thread's event loop: the population is written from another thread.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, population()).result()
    reader = with_roles(stack, ["analyst"])
    settled(reader)  # the territory as consumption's worker stores it once the rollups changed
    page.goto("/")
    log_in(page, reader.email)
    page.get_by_role("link", name="Territoire").click()
    expect(heading(page, "Consommations du territoire")).to_be_visible()
    page.get_by_label("Année").select_option(str(YEAR))
    expect(page.get_by_role("row", name="Domène")).to_contain_text("14")
    expect(page.get_by_role("row", name="Corenc")).to_contain_text("secret statistique")
    expect(page.get_by_role("row", name="Écoles sobres")).to_contain_text("moins de 10 rénovations mesurées")
    chart = page.get_by_role("img", name=f"Carte des communes — Gaz {YEAR}")
    expect(chart).to_be_visible()
    assert chart.locator("path").count() == 49
    assert_accessible(page, "analyst")
    shot(page, "analyst-fr-1100")
    page.set_viewport_size(PHONE)
    assert page.evaluate(NO_SIDEWAYS_SCROLL), "the analyst page scrolls sideways on a phone"
