"""Issue 21: the administration console in headless Chromium (accounts, catalogue preview line by line, address
base, audit trail), phone-usable and axe clean; and the dwelling form's address autocomplete."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from devstack.client import ADMIN_EMAIL, ADMIN_PASSWORD, ApiUser, admin_user
from devstack.stack import ROOT
from tests.browser.conftest import NO_SIDEWAYS_SCROLL, assert_accessible, heading, shot

pytestmark = pytest.mark.browser

BAN_EXTRACT = Path(__file__).resolve().parents[1] / "data" / "adresses-38-extract.csv"


def log_in(page: Page, email: str, password: str) -> None:
    page.goto("/login")
    expect(heading(page, "Me connecter")).to_be_visible()
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe", exact=True).fill(password)
    page.get_by_role("button", name="Me connecter").click()


def as_admin(page: Page, stack) -> None:
    admin = admin_user(stack.url("gateway"))  # accepts the terms in force for the administrator
    # The language is the account's: another test may have left the shared administrator in English.
    assert admin.put("/me/language", json={"language": "fr"}).status_code == 200
    admin.close()
    log_in(page, ADMIN_EMAIL, ADMIN_PASSWORD)
    page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Administration").click()
    expect(heading(page, "Administration")).to_be_visible()


def section(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Sections de l'administration").get_by_role("link", name=name).click()


def test_an_administrator_finds_an_account_reads_its_consents_and_disables_it_and_the_audit_shows_it(
        page: Page, stack):
    resident = ApiUser(stack.url("gateway")).signup()
    try:
        as_admin(page, stack)
        page.get_by_label(re.compile("Adresse e-mail, ou une partie")).fill(resident.email)
        page.get_by_role("button", name="Rechercher").click()
        found = page.get_by_role("list", name="Comptes trouvés").get_by_role("listitem")
        expect(found).to_have_count(1)
        found.get_by_role("button", name="Voir le compte et ses consentements").click()
        expect(found.get_by_text("Aucun compteur déclaré.")).to_be_visible()
        expect(found.get_by_text(re.compile("journal des accès de l'habitant"))).to_be_visible()
        shot(page, "admin-01-account")
        assert_accessible(page, "admin account detail")

        found.get_by_role("button", name="Désactiver le compte").click()
        found.get_by_role("button", name="Oui, désactiver").click()
        expect(found.get_by_text("désactivé", exact=True)).to_be_visible()
        assert resident.get("/me").status_code == 401
        assert resident.get("/me").status_code == 401
        log = ApiUser(stack.url("gateway"))
        assert log.login(resident.email).json()["error"] == "account_disabled"
        log.close()

        section(page, "Journal")
        rows = page.locator("tbody tr").filter(has_text="compte désactivé")
        expect(rows.first).to_contain_text(ADMIN_EMAIL)
        expect(rows.first).to_contain_text(resident.account["id"])
        assert_accessible(page, "admin audit trail")
    finally:
        resident.close()


def test_a_tariff_file_is_checked_line_by_line_before_anything_is_stored(page: Page, stack):
    as_admin(page, stack)
    section(page, "Tarifs et DJU")
    lines = (ROOT / "services/consumption/consumption/data/trve.csv").read_text("utf-8").split("\n")
    lines[3] = lines[3].replace("BASE", "BAS", 1)
    lines[7] = lines[7].replace(",2023-", ",2023/", 1)
    page.get_by_label("Fichier CSV").set_input_files(files=[{"name": "trve.csv", "mimeType": "text/csv",
                                                            "buffer": "\n".join(lines).encode()}])
    page.get_by_role("button", name="Vérifier le fichier").click()
    expect(page.get_by_role("alert").filter(has_text="Fichier refusé : 2 problème(s)")).to_be_visible()
    problems = page.get_by_role("table", name="Problèmes ligne par ligne").locator("tbody tr")
    expect(problems).to_have_count(2)
    expect(problems.nth(0)).to_contain_text("tariff_csv_bad_option")
    expect(problems.nth(0).locator("td").first).to_have_text("4")
    expect(problems.nth(1).locator("td").first).to_have_text("8")
    expect(page.get_by_role("button", name="Enregistrer cette version")).to_have_count(0)
    page.locator("summary").filter(has_text="Premières lignes du fichier").click()
    expect(page.locator("tr.line-error")).to_have_count(2)
    shot(page, "admin-02-tariff-preview")
    assert_accessible(page, "admin tariff preview")


def test_the_address_base_is_imported_from_the_console_and_the_dwelling_form_autocompletes_from_it(
        page: Page, browser, site, stack):
    as_admin(page, stack)
    section(page, "Base d'adresses")
    page.get_by_label("Fichier BAN").set_input_files(str(BAN_EXTRACT))
    page.get_by_role("button", name="Compter les changements").click()
    expect(page.get_by_text("Ce que l'import changerait")).to_be_visible()
    page.get_by_role("button", name="Importer").click()
    done = page.get_by_role("status").filter(has_text="Import terminé")
    expect(done).to_be_visible()
    expect(done.locator("li").filter(has_text="dans la base")).to_contain_text("21")
    assert_accessible(page, "admin address base")

    # On a phone, every console screen scrolls only down.
    page.set_viewport_size({"width": 320, "height": 700})
    for name in ("Comptes", "Suppressions", "Adresses à vérifier", "Tarifs et DJU", "Conditions d'utilisation",
                 "Collecte", "Abonnements SGE", "Base d'adresses", "Journal"):
        section(page, name)
        expect(heading(page, f"Administration · {name}")).to_be_visible()
        page.wait_for_load_state("networkidle")
        assert page.evaluate(NO_SIDEWAYS_SCROLL), f"sideways scrolling on {name} at 320 px"
    shot(page, "admin-03-phone-collection")
    section(page, "Collecte")
    expect(page.get_by_role("heading", name="ENEDIS")).to_be_visible()
    expect(page.get_by_role("list", name="Fraîcheur des données").first).to_contain_text("à jour")
    assert_accessible(page, "admin collection health")

    resident = ApiUser(stack.url("gateway")).signup()
    context = browser.new_context(base_url=site, locale="fr-FR", viewport={"width": 390, "height": 844})
    other = context.new_page()
    try:
        log_in(other, resident.email, "correct horse battery staple")
        expect(other.get_by_role("link", name="Logement")).to_be_visible()
        expect(other.get_by_role("link", name="Administration")).to_have_count(0)
        other.goto("/admin")
        expect(other.get_by_role("link", name="Logement")).to_be_visible()
        expect(heading(other, "Administration")).to_have_count(0)
        other.get_by_role("link", name="Logement").click()
        search = other.get_by_role("combobox", name="Rechercher mon adresse")
        search.fill("5 bis grenette")
        options = other.get_by_role("listbox", name="Adresses proposées").get_by_role("option")
        expect(options.first).to_contain_text("5 bis Place Grenette")
        assert_accessible(other, "dwelling address suggestions")
        search.press("ArrowDown")
        expect(search).to_have_attribute("aria-activedescendant", re.compile("option-0"))
        search.press("Enter")
        expect(other.get_by_label("Code postal", exact=True)).to_have_value("38000")
        expect(other.get_by_label("Commune", exact=True)).to_have_value("Grenoble")
        expect(other.get_by_label(re.compile("Code INSEE"))).to_have_value("38185")
        expect(other.get_by_label("Adresse (numéro et rue)", exact=True)).to_have_value("5 bis Place Grenette")
        assert other.evaluate(NO_SIDEWAYS_SCROLL)
    finally:
        context.close()
        resident.close()
