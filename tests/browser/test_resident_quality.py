"""Issue 20 (quality): signing in through the form, bars on a phone, no sideways scrolling, footer pages."""
from __future__ import annotations

import re
import subprocess

import httpx
import pytest
from playwright.sync_api import Page, expect

from devstack.client import STRONG_PASSWORD, ApiUser
from tests.browser.conftest import NO_SIDEWAYS_SCROLL, PHONE, assert_accessible, error_of, heading, shot, wait_until
from tests.browser.test_resident_app import (expire_sessions, new_email, sign_up, skip_the_dwelling, verify_address,
                                            wait_for_readings)

pytestmark = pytest.mark.browser

GREEN = (0x0B, 0x6E, 0x4F)
# Pixels of exactly this colour in the chart's canvas: the inside of the drawn bars (or of a legend box).
PAINTED = """([r, g, b]) => {
  const canvas = document.querySelector('.chart canvas');
  const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
  let n = 0;
  for (let i = 0; i < data.length; i += 4)
    if (data[i] === r && data[i + 1] === g && data[i + 2] === b && data[i + 3] === 255) n++;
  return n;
}"""
# Over `least` pixels of that colour (none while the chart is not there yet).
PAINTED_OVER = f"([rgb, least]) => {{ try {{ return ({PAINTED})(rgb) > least; }} catch {{ return false; }} }}"


def psql(stack, sql: str, **params: str) -> None:
    database = stack.database_url.rsplit("/", 1)[1]
    args = [arg for k, v in params.items() for arg in ("-v", f"{k}={v}")]
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", database, "-q", "-v",
                    "ON_ERROR_STOP=1", *args], input=sql, text=True, check=True, capture_output=True)


def log_in(page: Page, email: str, password: str = STRONG_PASSWORD) -> None:
    expect(heading(page, "Me connecter")).to_be_visible()
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe", exact=True).fill(password)
    page.get_by_role("button", name="Me connecter").click()


def test_signing_in_through_the_form_from_the_home_page_enters_the_app(page: Page, stack):
    user = ApiUser(stack.url("gateway")).signup()
    user.close()
    page.goto("/")
    log_in(page, user.email)
    expect(heading(page, "Ma consommation")).to_be_visible()
    assert page.title().startswith("Ma consommation")


def test_a_wrong_password_is_explained_and_focused(page: Page, stack):
    user = ApiUser(stack.url("gateway")).signup()
    user.close()
    page.goto("/")
    log_in(page, user.email, "not the right password")
    assert "incorrect" in error_of(page, "Mot de passe")
    focused = page.evaluate("[document.activeElement.type, "
                            "document.activeElement.getAttribute('aria-invalid')]")
    assert focused == ["password", "true"], f"focus is on {focused}, not on the field in error"
    assert_accessible(page, "login with a wrong password")
    page.get_by_label("Mot de passe", exact=True).fill(STRONG_PASSWORD)
    page.get_by_role("button", name="Me connecter").click()
    expect(heading(page, "Ma consommation")).to_be_visible()


def test_after_an_expired_session_signing_in_returns_to_the_page(page: Page, stack):
    user = ApiUser(stack.url("gateway")).signup()
    user.close()
    page.goto("/login")
    log_in(page, user.email)
    page.get_by_role("link", name="Mes données").click()
    expect(heading(page, "Mes données")).to_be_visible()
    expire_sessions(stack, user.email)
    # Any action that reaches the API (here a page whose data is not loaded yet) asks to sign in again...
    page.get_by_role("link", name="Logement").click()
    expect(page.get_by_role("status").filter(has_text="Votre session a expiré")).to_be_visible()
    log_in(page, user.email)
    # ... and signing in returns to that page.
    expect(heading(page, "Mon logement")).to_be_visible()
    assert page.url.endswith("/dwelling")

    page.context.clear_cookies()
    page.reload()
    log_in(page, user.email)
    expect(heading(page, "Mon logement")).to_be_visible()


def test_phone_with_data_draws_bars_scrolls_only_down_and_survives_the_access_log(browser, site, stack):
    context = browser.new_context(base_url=site, locale="fr-FR", viewport=PHONE, is_mobile=True,
                                  has_touch=True, device_scale_factor=2)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        email = new_email()
        sign_up(page, email)
        skip_the_dwelling(page)
        # A DSO consent needs a verified address (issue 18): the mailed link, then back to the meters.
        verify_address(page, email)
        page.get_by_role("link", name="Aller à mes compteurs").click()
        expect(heading(page, "Mes compteurs")).to_be_visible()
        sandbox = stack.sandboxes["enedis"].url
        customer = httpx.post(f"{sandbox}/_sandbox/customers", json={"count": 1, "hole_rate": 0.0},
                              timeout=10).json()
        prm = customer["prms"][0]
        httpx.put(f"{sandbox}/_sandbox/session", json={"customer_id": customer["customer_id"]}, timeout=10)
        page.get_by_label("Numéro du compteur").fill(prm)
        page.get_by_label(re.compile("^Nom")).fill("Appartement")
        page.get_by_role("button", name="Déclarer et donner mon accord").click()
        page.wait_for_url(re.compile(re.escape(sandbox)))
        page.locator("#accept").click()
        page.wait_for_url(re.compile(r"/meters\?consent="))
        meter_id = page.url.split("meter=")[1].split("&")[0]
        wait_for_readings(page, meter_id, stack)

        page.get_by_role("link", name="Ma consommation").click()
        expect(page.get_by_test_id("month-total")).to_contain_text("kWh")
        wait_until(page, PAINTED_OVER, [list(GREEN), 100])
        shot(page, "50-phone-home-bars-fr")
        assert_accessible(page, "home with data (phone)")
        page.get_by_test_id("energy-link").first.click()
        expect(page.locator(".big-sentence").first).to_contain_text("kWh")
        wait_until(page, PAINTED_OVER, [list(GREEN), 500])
        page.reload()
        expect(page.locator(".big-sentence").first).to_contain_text("kWh")
        wait_until(page, PAINTED_OVER, [list(GREEN), 500])
        shot(page, "50-phone-dashboard-bars-fr")
        assert_accessible(page, "dashboard with data (phone)")

        page.get_by_label("Comparer avec l'an dernier").check()
        colours = page.locator(".chart").get_attribute("data-colours").split()
        assert len(colours) == 2, colours
        background = page.evaluate(
            "getComputedStyle(document.querySelector('.chart').closest('.card')).backgroundColor")
        for colour in colours:
            rgb = [int(colour[i:i + 2], 16) for i in (1, 3, 5)]
            wait_until(page, PAINTED_OVER, [rgb, 20])
            ratio = contrast(rgb, [int(x) for x in re.findall(r"\d+", background)[:3]])
            assert ratio >= 3, f"{colour} on {background}: {ratio:.2f}:1"

        # Someone read the resident's data: "Mes données" lists it instead of going blank.
        psql(stack, "insert into consent.access_log (resident_id, reader_id, reader_role, reader_name, what) "
                    "select id, id, 'adviser', 'Conseillère ALEC', 'consommation' from gateway.accounts "
                    "where email = :'email'", email=email)
        page.get_by_role("link", name="Mes données").click()
        expect(page.get_by_role("cell", name=re.compile("Conseillère ALEC"))).to_be_visible()
        assert_accessible(page, "my data with an access log (phone)")

        page.get_by_role("link", name="Logement").click()
        surface = page.get_by_label(re.compile("Surface habitable"))
        surface.fill("62 m²")
        page.get_by_role("button", name="Enregistrer").click()
        assert "nombre" in error_of(page, "Surface habitable (m²) (facultatif)")
        assert page.evaluate("document.activeElement.id") == surface.get_attribute("id")
        expect(page.get_by_role("status").filter(has_text="Votre logement est enregistré")).to_have_count(0)
        assert_accessible(page, "dwelling with a wrong number (phone)")

        titles = set()
        for lang, links in (("fr", ("Ma consommation", "Compteurs", "Logement", "Mes données")),
                            ("en", ("My consumption", "Meters", "Home", "My data"))):
            if lang == "en":
                page.get_by_role("button", name="Switch to English").click()
            for width in (390, 320):
                page.set_viewport_size({"width": width, "height": 800})
                for name in links:
                    page.get_by_role("navigation", name=re.compile("Main menu|Menu principal")) \
                        .get_by_role("link", name=name, exact=True).click()
                    expect(page.locator("h1")).to_be_visible()
                    expect(page.locator("main")).not_to_contain_text(re.compile("Chargement|Loading"))
                    assert page.evaluate(NO_SIDEWAYS_SCROLL), f"sideways scrolling: {name}, {width}px, {lang}"
                    titles.add(page.title())
                    shot(page, f"51-{lang}-{width}-{links.index(name)}")
        assert len(titles) == 8, titles

        page.get_by_role("button", name="Passer en français").click()
        for name, title in (("Accessibilité : partiellement conforme", "Déclaration d'accessibilité"),
                            ("Mentions légales", "Mentions légales"), ("Contact", "Nous contacter")):
            page.get_by_role("contentinfo").get_by_role("link", name=name).click()
            expect(heading(page, title)).to_be_visible()
            assert page.title().startswith(title)
            assert page.evaluate(NO_SIDEWAYS_SCROLL), f"sideways scrolling on {title}"
            assert_accessible(page, title)
        shot(page, "52-phone-accessibility-statement")
    finally:
        context.close()


def contrast(a: list[int], b: list[int]) -> float:
    def luminance(rgb: list[int]) -> float:
        c = [x / 255 for x in rgb]
        c = [x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4 for x in c]
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)
