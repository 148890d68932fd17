"""Issue 20, items 4 and 6 in the browser: account settings, notification centre, preferences, contract declaration,
consent history, figures kept offline. Each screen on a 320 px phone, axe clean, as a resident sees it."""
from __future__ import annotations

import asyncio
import re
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from devstack.client import STRONG_PASSWORD, ApiUser, random_prm
from devstack.events import publish
from metro.events import AnomalyDetected, Envelope
from tests.browser.conftest import NO_SIDEWAYS_SCROLL, assert_accessible, error_of, heading, shot, wait_until
from tests.browser.test_resident_quality import log_in

pytestmark = pytest.mark.browser
NARROW = {"width": 320, "height": 700}


@pytest.fixture
def phone(browser: Browser, site):
    context = browser.new_context(base_url=site, locale="fr-FR", viewport=NARROW, is_mobile=True, has_touch=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def signed_in(page: Page, stack) -> ApiUser:
    user = ApiUser(stack.url("gateway")).signup()
    page.goto("/")
    log_in(page, user.email)
    expect(heading(page, "Ma consommation")).to_be_visible()
    return user


def fits(page: Page, name: str) -> None:
    assert page.evaluate(NO_SIDEWAYS_SCROLL), f"{name} scrolls sideways at {page.viewport_size['width']} px"
    assert_accessible(page, name)


def focused_id(page: Page) -> str:
    return page.evaluate("document.activeElement.id")


def test_account_settings_change_password_language_email_and_end_a_token(phone: Page, stack):
    user = signed_in(phone, stack)
    token = user.http.post("/auth/tokens", json={"email": user.email, "password": STRONG_PASSWORD,
                                                 "name": "tableur"})
    assert token.status_code == 201, token.text
    phone.get_by_role("link", name="Compte", exact=True).click()
    expect(heading(phone, "Mon compte")).to_be_visible()
    assert phone.title().startswith("Mon compte")
    expect(phone.get_by_text(f"Adresse actuelle : {user.email}")).to_be_visible()
    sessions = phone.locator("section", has=phone.get_by_role("heading", name="Sessions et jetons d'API"))
    expect(sessions.get_by_text("Jeton d'API « tableur »")).to_be_visible()
    fits(phone, "account settings (320 px, fr)")
    shot(phone, "account-settings-320-fr")

    # Refused before leaving: a summary of the errors, the focus on the first field in error.
    password = phone.locator("form", has=phone.get_by_role("heading", name="Mot de passe"))
    password.get_by_label("Nouveau mot de passe", exact=True).fill("court")
    password.get_by_label("Nouveau mot de passe, une seconde fois").fill("autre")
    password.get_by_role("button", name="Changer de mot de passe").click()
    summary = password.get_by_role("alert").filter(has_text="Le formulaire contient 3 erreur(s)")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("Les deux mots de passe ne sont pas identiques.")
    assert focused_id(phone) == "password-current"
    assert "Au moins 12 caractères" in error_of(phone, "Nouveau mot de passe")
    fits(phone, "account settings with errors")
    # The API's refusal lands on its field too.
    password.get_by_label("Mot de passe actuel").fill("not my password at all")
    password.get_by_label("Nouveau mot de passe", exact=True).fill(STRONG_PASSWORD + " 2")
    password.get_by_label("Nouveau mot de passe, une seconde fois").fill(STRONG_PASSWORD + " 2")
    password.get_by_role("button", name="Changer de mot de passe").click()
    expect(password.get_by_role("alert")).to_contain_text("Ce n'est pas votre mot de passe actuel.")
    expect(phone.locator("#password-current")).to_be_focused()
    password.get_by_label("Mot de passe actuel").fill(STRONG_PASSWORD)
    password.get_by_role("button", name="Changer de mot de passe").click()
    expect(password.get_by_role("status")).to_contain_text("Mot de passe changé")

    # Every other session and token ended with the password change; this browser's stays and says so.
    expect(sessions.get_by_text("cet appareil")).to_be_visible()
    expect(sessions.get_by_text("Jeton d'API « tableur »")).to_have_count(0)
    assert user.get("/me").status_code == 401
    other = ApiUser(stack.url("gateway"))
    assert other.login(user.email, STRONG_PASSWORD + " 2").status_code == 200
    phone.reload()
    second = sessions.locator("li", has_not_text="cet appareil").first
    expect(second).to_be_visible()
    second.get_by_role("button", name="Fermer cette session").click()
    second.get_by_role("button", name="Fermer cette session").click()
    expect(sessions.get_by_role("status")).to_have_text("Session fermée.")
    assert other.get("/me").status_code == 401

    # The language is the account's: saved, the app and the next e-mails follow it.
    phone.get_by_label("English (anglais)").check()
    phone.get_by_role("button", name="Enregistrer la langue").click()
    expect(heading(phone, "My account")).to_be_visible()
    expect(phone.get_by_role("status").filter(has_text="Language saved")).to_be_visible()
    me = ApiUser(stack.url("gateway"))
    me.login(user.email, STRONG_PASSWORD + " 2")
    assert me.account["language"] == "en"
    fits(phone, "account settings (320 px, en)")

    email = phone.locator("form", has=phone.get_by_role("heading", name="E-mail address"))
    new_address = f"moved-{uuid.uuid4().hex[:8]}@example.org"
    email.get_by_label("New e-mail address").fill(new_address)
    email.get_by_label("Current password").fill(STRONG_PASSWORD + " 2")
    email.get_by_role("button", name="Change the address").click()
    expect(email.get_by_role("status")).to_contain_text(f"A link was sent to {new_address}")

    # The header's switch changes the account's language too.
    phone.get_by_role("button", name="Passer en français").click()
    expect(heading(phone, "Mon compte")).to_be_visible()
    for client in (user, other, me):
        client.close()
    check = ApiUser(stack.url("gateway"))
    check.login(user.email, STRONG_PASSWORD + " 2")
    assert check.account["language"] == "fr"
    check.close()


def send_events(stack, *events: Envelope) -> None:
    """Published from a thread of its own: Playwright's sync API keeps an event loop running in this one."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, publish(stack.amqp_url, *events)).result()


def anomaly(account_id: str, episode: str) -> Envelope:
    return Envelope(name=AnomalyDetected.name, producer="consumption", payload={
        "meter_id": str(uuid.uuid4()), "account_id": account_id, "episode_key": episode, "kind": "day",
        "start": episode, "end": episode, "expected_wh": 20000, "observed_wh": 52340, "excess_wh": 32340})


def test_notification_centre_marks_read_and_preferences_refuse_bad_thresholds(phone: Page, stack):
    user = signed_in(phone, stack)
    send_events(stack, anomaly(user.account["id"], "2025-01-14"), anomaly(user.account["id"], "2025-01-20"))
    phone.get_by_role("link", name="Compte", exact=True).click()
    expect(phone.get_by_role("link", name="Notifications (2 non lues)")).to_be_visible(timeout=30_000)
    phone.get_by_role("link", name="Notifications (2 non lues)").click()
    expect(heading(phone, "Notifications")).to_be_visible()
    expect(phone.get_by_text("2 non lue(s) sur 2")).to_be_visible()
    cards = phone.locator("li.note")
    expect(cards).to_have_count(2)
    expect(cards.first).to_contain_text("Consommation inhabituelle détectée")
    expect(cards.first).to_contain_text("52,3 kWh")
    fits(phone, "notification centre (320 px)")
    shot(phone, "notifications-320-fr")
    cards.first.get_by_role("button", name=re.compile("^Marquer comme lue")).click()
    expect(phone.get_by_text("1 non lue(s) sur 2")).to_be_visible()
    expect(cards.first).to_contain_text("Lue le")
    phone.reload()
    expect(phone.get_by_text("1 non lue(s) sur 2")).to_be_visible()

    phone.get_by_role("link", name="Choisir quelles alertes recevoir").click()
    expect(heading(phone, "Préférences d'alertes et de bilans")).to_be_visible()
    email_alerts = phone.get_by_role("group", name="Alertes par e-mail")
    expect(email_alerts.get_by_label("Consommation inhabituelle")).to_be_checked()
    expect(phone.get_by_role("radio", name="Chaque mois")).to_be_checked()
    # Web Push: off until the resident turns it on on this device.
    push = phone.locator("section", has=phone.get_by_role("heading", name="Alertes sur cet appareil"))
    expect(push.get_by_text("Désactivées sur cet appareil.")).to_be_visible()
    fits(phone, "preferences (320 px)")
    shot(phone, "preferences-320-fr")

    email_alerts.get_by_label("Consommation inhabituelle").uncheck()
    phone.get_by_role("radio", name="Chaque semaine").check()
    phone.get_by_label("Seuil en kWh par mois").fill("62 kWh")
    phone.get_by_role("button", name="Enregistrer mes préférences").click()
    expect(phone.get_by_role("alert").filter(has_text="Le formulaire contient 1 erreur(s)")).to_be_visible()
    expect(phone.get_by_label("Seuil en kWh par mois")).to_be_focused()
    assert "nombre positif" in error_of(phone, "Seuil en kWh par mois (facultatif)")
    assert user.get("/me/preferences").json()["report_frequency"] == "monthly"  # nothing saved
    fits(phone, "preferences with an error")
    phone.get_by_label("Seuil en kWh par mois").fill("350,5")
    phone.get_by_role("button", name="Enregistrer mes préférences").click()
    expect(phone.get_by_role("status").filter(has_text="Préférences enregistrées.")).to_be_visible()
    saved = user.get("/me/preferences").json()
    assert (saved["report_frequency"], saved["threshold_kwh_per_month"], saved["email"]["alerts"]) == \
        ("weekly", 350.5, ["threshold", "consent"])
    assert saved["push"]["alerts"] == []
    phone.reload()
    expect(phone.get_by_label("Seuil en kWh par mois")).to_have_value("350.5")
    expect(phone.get_by_role("group", name="Alertes par e-mail").get_by_label("Consommation inhabituelle")) \
        .not_to_be_checked()

    # Turning push on asks the browser; refused here, which the resident is told.
    push.get_by_role("button", name="Activer les alertes sur cet appareil").click()
    expect(push.get_by_role("alert")).to_contain_text("Les notifications sont bloquées")
    user.close()


def test_contract_declaration_and_consent_history_of_a_meter(phone: Page, stack):
    user = signed_in(phone, stack)
    # A meter whose DSO has sent no contract yet (its consent is still awaited): its euros are estimated.
    r = user.post("/meters", json={"energy": "electricity", "dso": "enedis", "identifier": random_prm()})
    assert r.status_code == 201, r.text
    waiting = r.json()["id"]
    sandbox = stack.sandboxes["enedis"].url
    customer = httpx.post(f"{sandbox}/_sandbox/customers", json={"count": 1, "hole_rate": 0.0}, timeout=10).json()
    prm = customer["prms"][0]
    httpx.put(f"{sandbox}/_sandbox/session", json={"customer_id": customer["customer_id"]}, timeout=10)
    phone.get_by_role("link", name="Compteurs", exact=True).click()
    phone.get_by_label("Numéro du compteur").fill(prm)
    phone.get_by_role("button", name="Déclarer et donner mon accord").click()
    phone.wait_for_url(re.compile(re.escape(sandbox)))
    phone.locator("#accept").click()
    phone.wait_for_url(re.compile(r"/meters\?consent="))
    active = phone.url.split("meter=")[1].split("&")[0]

    phone.locator(f"li[data-meter='{active}']").get_by_role("link", name=re.compile("^Historique du consentement")).click()
    expect(heading(phone, "Historique du consentement")).to_be_visible()
    expect(phone.get_by_text(f"Compteur {prm}")).to_be_visible()
    section = phone.locator("section.card").first
    expect(section.get_by_role("heading", level=2)).to_contain_text("Accord du")
    expect(section.get_by_role("heading", level=2)).to_contain_text("actif")
    entries = section.locator("li.history-entry")
    expect(entries.first).to_contain_text("créé")
    expect(entries.last).to_contain_text("→ actif")
    expect(entries.last).to_contain_text("Preuve")
    expect(entries.last.locator(".evidence dt").first).to_be_visible()
    fits(phone, "consent history (320 px)")
    shot(phone, "consent-history-320-fr")

    phone.get_by_role("link", name="Retour aux compteurs").click()
    phone.locator(f"li[data-meter='{waiting}']").get_by_role("link", name=re.compile("^Mon contrat")).click()
    expect(heading(phone, "Mon contrat d'électricité")).to_be_visible()
    expect(phone.get_by_role("status").filter(has_text="Euros estimés")).to_be_visible()
    fits(phone, "contract declaration (320 px)")
    phone.get_by_label("Option tarifaire").select_option("HPHC")
    phone.get_by_role("button", name="Déclarer mon contrat").click()
    expect(phone.get_by_role("alert").filter(has_text="Le formulaire contient 1 erreur(s)")).to_be_visible()
    expect(phone.get_by_label("Heures creuses")).to_be_focused()
    fits(phone, "contract declaration with an error")
    phone.get_by_label("Option tarifaire").select_option("BASE")
    phone.get_by_label("Puissance souscrite").select_option("9")
    phone.get_by_label(re.compile("^Fournisseur et offre")).fill("EDF Tarif Bleu")
    phone.get_by_role("button", name="Déclarer mon contrat").click()
    expect(phone.get_by_role("status").filter(has_text="Contrat enregistré.")).to_be_visible()
    expect(phone.get_by_text("Contrat déclaré : Base (un seul prix) · 9 kVA · EDF Tarif Bleu.")).to_be_visible()
    expect(phone.get_by_role("status").filter(has_text="Les euros ne sont plus estimés")).to_be_visible()
    shot(phone, "contract-320-fr")
    contract = user.get(f"/meters/{waiting}/contract").json()
    assert (contract["origin"], contract["subscribed_kva"], contract["supplier_offer"]) == ("resident", 9,
                                                                                           "EDF Tarif Bleu")
    user.close()


def test_last_figures_stay_readable_offline_marked_stale_and_go_at_logout(browser: Browser, site, stack):
    context = browser.new_context(base_url=site, locale="fr-FR", viewport=NARROW)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        user = signed_in(page, stack)
        send_events(stack, anomaly(user.account["id"], "2025-03-03"))
        wait_until(page, "() => navigator.serviceWorker.controller !== null")
        page.get_by_role("link", name="Compte", exact=True).click()
        expect(page.get_by_role("link", name="Notifications (1 non lues)")).to_be_visible(timeout=30_000)
        page.get_by_role("link", name="Notifications (1 non lues)").click()
        expect(page.locator("li.note")).to_contain_text("Consommation inhabituelle détectée")
        page.reload()  # the service worker now holds the screens' code
        expect(page.locator("li.note")).to_contain_text("Consommation inhabituelle détectée")
        expect(page.locator(".stale")).to_have_count(0)
        page.wait_for_timeout(1000)  # the cache is written at most every half second

        context.set_offline(True)
        page.reload()
        expect(heading(page, "Notifications")).to_be_visible()
        expect(page.locator("li.note")).to_contain_text("Consommation inhabituelle détectée")
        expect(page.get_by_role("status").filter(has_text=re.compile(
            r"Hors ligne : les chiffres affichés sont ceux enregistrés le \d"))).to_be_visible()
        fits(page, "notifications offline")

        context.set_offline(False)
        expect(page.locator(".stale")).to_have_count(0)
        assert "Consommation inhabituelle" in (page.evaluate("localStorage.getItem('metro.cache')") or "")
        page.get_by_role("button", name="Se déconnecter").click()
        expect(heading(page, "Me connecter")).to_be_visible()
        page.wait_for_timeout(1000)
        kept = page.evaluate("localStorage.getItem('metro.cache')") or ""
        assert "Consommation inhabituelle" not in kept and user.email not in kept, kept[:300]
        user.close()
    finally:
        context.close()
