"""Issue 21 item 4 in the SPA: the actions page on a phone, a commitment, and an adviser's new action."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from devstack.client import ApiUser, admin_user
from tests.browser.conftest import NO_SIDEWAYS_SCROLL, PHONE, assert_accessible, error_of, heading, shot
from tests.browser.test_resident_quality import log_in

pytestmark = pytest.mark.browser
DWELLING = {"street": "8 place Grenette", "postal_code": "38000", "municipality": "Grenoble", "insee_code": "38185",
            "surface_m2": 60, "occupants": 2, "dwelling_type": "apartment", "heating_energy": "gas",
            "heating_mode": "individual", "hot_water_energy": "gas"}


def test_a_resident_commits_to_an_action_and_an_adviser_adds_one(browser, site, stack):
    user = ApiUser(stack.url("gateway")).signup()
    assert user.put("/me/dwelling", json=DWELLING).status_code == 200
    user.close()
    adviser = ApiUser(stack.url("gateway")).signup()
    admin = admin_user(stack.url("gateway"))
    assert admin.put(f"/admin/accounts/{adviser.account['id']}/roles", json={"roles": ["adviser"]}).status_code == 200
    admin.close()
    adviser.close()
    context = browser.new_context(base_url=site, locale="fr-FR", viewport=PHONE, is_mobile=True, has_touch=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        page.goto("/login")
        log_in(page, user.email)
        page.get_by_role("link", name="Agir").click()
        expect(heading(page, "Agir sur ma consommation")).to_be_visible()
        expect(page.get_by_text("Vous ne vous êtes encore engagé sur aucune action.")).to_be_visible()
        assert page.get_by_role("heading", name="Ajouter une action au catalogue").count() == 0
        page.get_by_label("Parcours").select_option("bill")
        card = page.locator("[data-action]").filter(has_text="Faire entretenir sa chaudière")
        expect(card).to_contain_text("Suggéré pour vous")
        assert_accessible(page, "actions page")
        for width in (390, 320):
            page.set_viewport_size({"width": width, "height": 800})
            assert page.evaluate(NO_SIDEWAYS_SCROLL), f"sideways scrolling at {width} px"
        card.get_by_role("button", name=re.compile("Je m'engage")).click()
        expect(card.get_by_role("status")).to_have_text("Engagé")
        commitment = page.locator("[data-commitment]")
        expect(commitment).to_contain_text("Faire entretenir sa chaudière")
        # No gas meter declared yet: nothing measures the effect, and the page says so.
        expect(commitment).to_contain_text("Aucun compteur ne mesure cette énergie")
        shot(page, "61-phone-actions-committed-fr")
        assert_accessible(page, "an action committed")
        page.get_by_role("button", name="Se déconnecter").click()

        page.goto("/login")
        log_in(page, adviser.email)
        page.get_by_role("link", name="Agir").click()
        form = page.locator("form").filter(has=page.get_by_role("heading", name="Ajouter une action au catalogue"))
        form.get_by_label("Titre (français)").fill("Couvrir les casseroles")
        form.get_by_label("Titre (anglais)").fill("Put lids on pans")
        form.get_by_label("Explication (français)").fill("L'eau bout plus vite.")
        form.get_by_label("Explication (anglais)").fill("Water boils faster.")
        form.get_by_label("Économie attendue (% de l'usage)").fill("deux")
        form.get_by_label("Source du chiffre").fill("estimation du conseiller")
        form.get_by_role("button", name="Publier l'action").click()
        assert error_of(page, "Économie attendue (% de l'usage)")
        form.get_by_label("Économie attendue (% de l'usage)").fill("2")
        form.get_by_role("button", name="Publier l'action").click()
        expect(form.get_by_role("status")).to_have_text("Action publiée.")
        expect(page.locator("[data-action]").filter(has_text="Couvrir les casseroles")).to_be_visible()
        assert_accessible(page, "the adviser's form")
    finally:
        context.close()
