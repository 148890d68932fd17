"""Issue 22 item 6 (manual part): a resident declares a meter read by hand and enters its statements, on a phone."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from devstack.client import ApiUser
from tests.browser.conftest import NO_SIDEWAYS_SCROLL, PHONE, assert_accessible, error_of, heading, shot
from tests.browser.test_resident_quality import log_in

pytestmark = pytest.mark.browser
DWELLING = {"street": "3 rue Lesdiguières", "postal_code": "38000", "municipality": "Grenoble",
            "insee_code": "38185", "surface_m2": 70, "occupants": 2, "dwelling_type": "apartment",
            "heating_energy": "gas"}


def test_a_resident_declares_a_manual_meter_and_states_its_index_with_errors_focused_and_checks_confirmed(
        browser, site, stack):
    user = ApiUser(stack.url("gateway")).signup()
    assert user.put("/me/dwelling", json=DWELLING).status_code == 200
    user.close()
    context = browser.new_context(base_url=site, locale="fr-FR", viewport=PHONE, is_mobile=True, has_touch=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    today = dt.date.today()
    try:
        page.goto("/login")
        log_in(page, user.email)
        page.get_by_role("link", name="Relevés").click()
        expect(heading(page, "Mes relevés manuels")).to_be_visible()
        assert_accessible(page, "manual readings, none yet")
        page.get_by_label("Énergie").select_option("electricity")
        page.get_by_label(re.compile("^Nom")).fill("Vieux compteur")
        page.get_by_role("button", name="Ajouter ce compteur").click()
        expect(page.get_by_role("heading", level=2, name="Vieux compteur")).to_be_visible()

        def state(day: dt.date, index: str) -> None:
            page.get_by_label("Date du relevé").fill(day.isoformat())
            page.get_by_label(re.compile(r"^Index du compteur")).fill(index)
            page.get_by_role("button", name="Enregistrer le relevé").click()

        state(today - dt.timedelta(days=60), "1000")
        expect(page.locator("[data-statement]")).to_have_count(1)
        state(today - dt.timedelta(days=30), "900")
        assert "plus petit que le précédent" in error_of(page, "Index du compteur (kWh)")
        focused = page.evaluate("[document.activeElement.tagName, document.activeElement.getAttribute('aria-invalid')]")
        assert focused == ["INPUT", "true"], f"focus is on {focused}, not on the field in error"
        assert_accessible(page, "a falling index refused")

        state(today - dt.timedelta(days=30), "1300")  # 10 kWh a day
        expect(page.locator("[data-statement]")).to_have_count(2)
        expect(page.locator("[data-statement]").first).to_contain_text("300 kWh en 30 jours")
        state(today, "4300")  # 100 kWh a day: the accuracy control asks
        check = page.locator("[data-check='statement_above_history']")
        expect(check).to_contain_text("Ce relevé nous surprend")
        expect(check).to_be_focused()
        assert_accessible(page, "a statement to confirm")
        for width in (390, 320):
            page.set_viewport_size({"width": width, "height": 800})
            assert page.evaluate(NO_SIDEWAYS_SCROLL), f"sideways scrolling at {width} px"
        shot(page, "60-phone-manual-statement-check-fr")
        check.get_by_role("button", name="Il est juste : l'enregistrer").click()
        expect(page.locator("[data-statement]")).to_have_count(3)
        expect(page.locator("[data-statement]").first).to_contain_text("confirmé par vous")
    finally:
        context.close()
