"""Issue 20: the home that coaches (this month across energies, the comparison's missing piece, the month's days
with estimated and missing ones), onboarding, the dashboard's choices in the address, error summaries, the 404
page (the screenshots of every screen are in test_screens)."""
from __future__ import annotations

import asyncio
import datetime as dt
import random
import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import pytest
from playwright.sync_api import Page, expect

from devstack.client import ApiUser
from devstack.events import publish
from metro.events import Envelope, ReadingsCollected
from tests.browser.conftest import NO_SIDEWAYS_SCROLL, PHONE, assert_accessible, error_of, heading, shot, wait_until
from tests.browser.test_resident_app import new_email, sign_up, verify_address
from tests.browser.test_resident_quality import GREEN, PAINTED_OVER, log_in

pytestmark = pytest.mark.browser

ELECTRICITY_WH, GAS_WH, LAST_YEAR_ELECTRICITY_WH, LAST_YEAR_GAS_WH = 10_000, 30_000, 12_000, 40_000


def in_thread(coroutine) -> None:
    """Playwright's sync API holds this thread's event loop: events are published from another thread."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, coroutine).result()


def readings(meter_id: str, days: dict[dt.date, tuple[int, str]]) -> Envelope:
    payload = ReadingsCollected(meter_id=meter_id, source="test",
                                readings=[(d, wh, quality, None) for d, (wh, quality) in sorted(days.items())])
    return Envelope(id=uuid.uuid4(), name=payload.name, producer="test", payload=payload.to_payload())


@dataclass
class Coached:
    email: str
    electricity: str
    gas: str
    as_of: dt.date
    estimated: dt.date
    missing: dt.date

    @property
    def days(self) -> list[dt.date]:
        return [self.as_of.replace(day=d) for d in range(1, self.as_of.day + 1)]


@pytest.fixture(scope="module")
def coached(stack) -> Coached:
    """A resident with an electricity and a gas meter: this month to date and the same days last year, the
    second day estimated by the DSO and the third missing (electricity)."""
    user = ApiUser(stack.url("gateway")).signup()
    prm = "".join(random.choice("0123456789") for _ in range(14))
    electricity = user.post("/meters", json={"energy": "electricity", "dso": "enedis", "identifier": prm})
    assert electricity.status_code == 201, electricity.text
    pce = "".join(random.choice("0123456789") for _ in range(14))
    httpx.post(stack.sandboxes["grdf"].url + "/_sandbox/customers", timeout=30,
               json={"pce": pce, "holder_name": "ROUSSEAU", "postal_code": "38000", "profile": "heating"})
    gas = user.post("/meters", json={"energy": "gas", "dso": "grdf", "identifier": pce, "grdf_holder": {
        "holder_name": "Jeanne Rousseau", "postal_code": "38000", "email": "jeanne.rousseau@example.org"}})
    assert gas.status_code == 201, gas.text
    # A month with at least four days to date: this one from yesterday back, else the last one.
    yesterday = dt.date.today() - dt.timedelta(days=1)
    as_of = yesterday if yesterday.day >= 4 else yesterday.replace(day=1) - dt.timedelta(days=1)
    coached = Coached(user.email, electricity.json()["id"], gas.json()["id"], as_of, as_of.replace(day=2),
                      as_of.replace(day=3))
    last_year = [d.replace(year=d.year - 1) for d in coached.days]
    user.close()

    async def load():
        # Known to consumption at declaration; readings before that would be dropped: wait until it knows both.
        await asyncio.sleep(2)
        e = {d: (ELECTRICITY_WH, "estimated" if d == coached.estimated else "measured")
             for d in coached.days if d != coached.missing}
        await publish(stack.amqp_url, readings(coached.electricity, e))
        await publish(stack.amqp_url, readings(coached.gas, {d: (GAS_WH, "measured") for d in coached.days}))
        await publish(stack.amqp_url, readings(coached.electricity,
                                               {d: (LAST_YEAR_ELECTRICITY_WH, "measured") for d in last_year}))
        await publish(stack.amqp_url, readings(coached.gas, {d: (LAST_YEAR_GAS_WH, "measured") for d in last_year}))
    in_thread(load())

    reader = ApiUser(stack.url("gateway"))
    reader.login(coached.email)
    for _ in range(90):
        summary = reader.get("/me/summary").json()
        totals = {m["meter_id"]: m["totals"] for m in summary["meters"]}
        if all(totals.get(m, {}).get("as_of") == as_of.isoformat() and totals[m].get("last_year_month_wh")
               for m in (coached.electricity, coached.gas)):
            break
        time.sleep(1)
    else:
        pytest.fail(f"the readings did not arrive: {summary}")
    reader.close()
    return coached


def phone(browser, site, lang: str = "fr", width: int = PHONE["width"]) -> Page:
    context = browser.new_context(base_url=site, locale="fr-FR", viewport={"width": width, "height": 844},
                                  is_mobile=width < 600, has_touch=width < 600, device_scale_factor=2)
    context.set_default_timeout(15_000)
    if lang == "en":
        context.add_init_script("localStorage.setItem('metro.lang', 'en')")
    return context.new_page()


def test_the_home_adds_energies_up_explains_the_comparison_and_marks_estimated_and_missing_days(
        browser, site, coached: Coached):
    page = phone(browser, site)
    try:
        page.goto("/")
        log_in(page, coached.email)
        card = page.get_by_test_id("this-month")
        expect(card.get_by_role("heading", name="Ce mois-ci")).to_be_visible()
        n = len(coached.days)
        now_wh = ELECTRICITY_WH * (n - 1) + GAS_WH * n
        before_wh = (LAST_YEAR_ELECTRICITY_WH + LAST_YEAR_GAS_WH) * n
        # Electricity and gas added up, in kWh (and euros where both are priced).
        expect(card.get_by_test_id("month-total")).to_contain_text(f"{now_wh // 1000} kWh")
        expect(card.get_by_test_id("forecast")).to_contain_text("d'ici la fin du mois")
        pct = round(100 * (before_wh - now_wh) / before_wh)
        expect(card.get_by_test_id("versus")).to_contain_text(
            f"{pct} % de moins que les mêmes jours l'an dernier ({before_wh // 1000} kWh)")
        grams = round((n - 1) * ELECTRICITY_WH * 0.0461) + round(n * GAS_WH * 0.215)
        expect(card.get_by_test_id("co2e")).to_contain_text(f"{round(grams / 1000)} kg CO₂e")

        # The comparison says what is missing, and offers to describe the home.
        comparison = page.get_by_test_id("comparison")
        expect(comparison).to_contain_text("il nous faut la description de votre logement")
        expect(comparison.get_by_role("link", name="Décrire mon logement (2 min)")).to_have_count(1)

        # The month's days: bars drawn, the estimated and the missing day named.
        bars = page.get_by_test_id("month-bars")
        wait_until(page, PAINTED_OVER, [list(GREEN), 100])
        month = {1: "janvier", 2: "février", 3: "mars", 4: "avril", 5: "mai", 6: "juin", 7: "juillet", 8: "août",
                 9: "septembre", 10: "octobre", 11: "novembre", 12: "décembre"}[coached.as_of.month]
        expect(bars.get_by_test_id("estimated-days")).to_have_text(f"Jours estimés par le distributeur : 2 {month}.")
        expect(bars.get_by_test_id("missing-days")).to_have_text(f"Jours manquants : 3 {month}.")
        assert page.evaluate(NO_SIDEWAYS_SCROLL), "sideways scrolling on the home"
        assert_accessible(page, "home with data (phone)")
        shot(page, "60-phone-home-fr")

        # The tab's label wraps between its words, never inside one, at 320 px.
        page.set_viewport_size({"width": 320, "height": 700})
        tab = page.get_by_role("navigation", name="Menu principal").get_by_role("link", name="Ma consommation")
        broken = tab.evaluate("""(a) => {
          const text = [...a.childNodes].find((n) => n.nodeType === 3);
          const words = [...text.data.matchAll(/\\S+/g)];
          const out = [];
          for (const w of words) {
            const r = document.createRange();
            r.setStart(text, w.index); r.setEnd(text, w.index + w[0].length);
            const box = a.getBoundingClientRect();
            const rects = [...r.getClientRects()];
            if (rects.length !== 1 || rects[0].right > box.right + 0.5 || rects[0].left < box.left - 0.5) out.push(w[0]);
          }
          return out;
        }""")
        assert broken == [], f"'Ma consommation' is broken or overflows at 320 px: {broken}"
        assert page.evaluate(NO_SIDEWAYS_SCROLL), "sideways scrolling on the home at 320 px"
        page.set_viewport_size(PHONE)

        # One tap to an energy's detail; its choices live in the address.
        card.get_by_role("link", name=re.compile("^Gaz")).click()
        expect(heading(page, "Détail par énergie")).to_be_visible()
        assert f"meter={coached.gas}" in page.url
        expect(page.get_by_role("button", name=re.compile("^Gaz "))).to_have_attribute("aria-pressed", "true")
        page.get_by_role("button", name="Mois", exact=True).click()
        page.get_by_role("button", name="€", exact=True).click()
        assert "view=month" in page.url and "unit=eur" in page.url, page.url
        page.reload()
        expect(page.get_by_role("button", name="Mois", exact=True)).to_have_attribute("aria-pressed", "true")
        expect(page.get_by_role("button", name="€", exact=True)).to_have_attribute("aria-pressed", "true")
        expect(page.get_by_role("button", name=re.compile("^Gaz "))).to_have_attribute("aria-pressed", "true")
        assert_accessible(page, "energy detail (phone)")
        page.go_back()
        expect(page.get_by_role("button", name="kWh", exact=True)).to_have_attribute("aria-pressed", "true")
        expect(page.get_by_role("button", name="Mois", exact=True)).to_have_attribute("aria-pressed", "true")
        page.go_back()
        expect(page.get_by_role("button", name="Jours", exact=True)).to_have_attribute("aria-pressed", "true")

        # The missing piece, described: the comparison no longer asks for it.
        page.get_by_role("link", name="Ma consommation").first.click()
        page.get_by_test_id("comparison").get_by_role("link", name="Décrire mon logement (2 min)").click()
        expect(heading(page, "Mon logement")).to_be_visible()
    finally:
        page.context.close()


def test_an_unknown_address_is_a_404_page_and_a_refused_form_has_an_error_summary(browser, site, coached):
    page = phone(browser, site)
    try:
        page.goto("/login")
        log_in(page, coached.email)
        expect(page.get_by_test_id("this-month")).to_be_visible()
        page.goto("/no-such-page")
        expect(heading(page, "Page introuvable")).to_be_visible()
        assert page.title().startswith("Page introuvable")
        expect(page.get_by_test_id("this-month")).to_have_count(0)
        assert_accessible(page, "404")
        page.get_by_role("link", name="Revenir à l'accueil").click()
        expect(page.get_by_test_id("this-month")).to_be_visible()

        page.get_by_role("link", name="Logement", exact=True).click()
        surface = page.get_by_label(re.compile("Surface habitable"))
        surface.fill("62 m²")
        page.get_by_label(re.compile("Nombre d'occupants")).fill("deux")
        page.get_by_role("button", name="Enregistrer").click()
        summary = page.locator(".error-summary")
        expect(summary.get_by_role("heading", name="Le formulaire contient 2 erreur(s) à corriger")).to_be_visible()
        expect(summary.get_by_role("link")).to_have_count(2)
        assert "nombre" in error_of(page, "Surface habitable (m²) (facultatif)")
        assert page.evaluate("document.activeElement.id") == surface.get_attribute("id"), "focus is not on the first error"
        summary.get_by_role("link", name=re.compile("^Nombre d'occupants")).click()
        assert page.evaluate("document.activeElement.id") == page.get_by_label(
            re.compile("Nombre d'occupants")).get_attribute("id")
        assert_accessible(page, "dwelling with an error summary")
    finally:
        page.context.close()


def test_onboarding_asks_for_the_home_then_the_meters_with_help_to_find_the_numbers(browser, site, stack):
    page = phone(browser, site)
    try:
        email = new_email()
        sign_up(page, email)
        expect(heading(page, "Mon logement")).to_be_visible()
        steps = page.get_by_role("navigation", name="Premiers pas")
        expect(steps).to_contain_text("Étape 1 sur 2")
        expect(steps.locator("[aria-current=step]")).to_have_text(re.compile("Votre logement"))
        assert_accessible(page, "onboarding: the home")
        page.get_by_label("Adresse (numéro et rue)").fill("3 rue Félix Poulat")
        page.get_by_label("Code postal").fill("38000")
        page.get_by_label("Commune", exact=True).fill("Grenoble")
        page.get_by_label("Code INSEE de la commune").fill("38185")
        page.get_by_role("button", name="Enregistrer et passer aux compteurs").click()

        expect(heading(page, "Mes compteurs")).to_be_visible()
        expect(page.get_by_role("navigation", name="Premiers pas")).to_contain_text("Étape 2 sur 2")
        expect(page.get_by_role("img", name=re.compile("compteur Linky affichant NUMERO PRM"))).to_be_visible()
        expect(page.get_by_role("img", name=re.compile("facture d'électricité"))).to_be_visible()
        expect(page.get_by_role("heading", name="Ce que la page d'Enedis va vous demander")).to_be_visible()
        expect(page.get_by_text("vous connecter à votre espace client Enedis")).to_be_visible()
        page.get_by_label("Énergie et distributeur").select_option("grdf-gas")
        expect(page.get_by_role("img", name=re.compile("Compteur Gazpar"))).to_be_visible()
        expect(page.get_by_text("Point de comptage et d'estimation (PCE)")).to_be_visible()
        expect(page.get_by_role("heading", name="Ce que GRDF va vous demander")).to_be_visible()
        assert page.evaluate(NO_SIDEWAYS_SCROLL), "sideways scrolling on the meters' help"
        assert_accessible(page, "onboarding: the meters, with help")
        shot(page, "61-phone-onboarding-meters")

        # After consent, before any data: the date the first data is due by, from the DSO's publication rules.
        verify_address(page, email)
        page.get_by_role("link", name="Aller à mes compteurs").click()
        sandbox = stack.sandboxes["enedis"].url
        tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
        customer = httpx.post(f"{sandbox}/_sandbox/customers", timeout=10,
                              json={"count": 1, "hole_rate": 0.0, "activation_date": tomorrow}).json()
        httpx.put(f"{sandbox}/_sandbox/session", json={"customer_id": customer["customer_id"]}, timeout=10)
        page.get_by_label("Numéro du compteur").fill(customer["prms"][0])
        page.get_by_role("button", name="Déclarer et donner mon accord").click()
        page.wait_for_url(re.compile(re.escape(sandbox)))
        page.locator("#accept").click()
        page.wait_for_url(re.compile(r"/meters\?consent="))
        card = page.locator("li.meter", has_text=customer["prms"][0])
        expect(card).to_contain_text(re.compile(r"Premières données attendues au plus tard le \d+ [^ ]+ \d{4}"),
                                     timeout=60_000)
    finally:
        page.context.close()


def test_a_meter_whose_consent_awaits_the_holder_says_what_its_first_data_waits_for(browser, site, coached):
    """Declared, its Enedis page not answered yet: no DSO date exists yet, the card says what the data waits for."""
    page = phone(browser, site)
    try:
        page.goto("/login")
        log_in(page, coached.email)
        expect(page.get_by_test_id("this-month")).to_be_visible()
        page.goto("/meters")
        card = page.locator(f"li[data-meter='{coached.electricity}']")
        expect(card).to_contain_text("en attente de votre accord")
        expect(card).to_contain_text("Premières données : au plus tard le lendemain de votre accord sur la page "
                                     "d'Enedis, que nous attendons encore.")
        expect(card).not_to_contain_text("Aucune donnée reçue pour l'instant")
    finally:
        page.context.close()
