"""Issue 7: the resident web app in headless Chromium, against the real services and the Enedis sandbox."""
from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import time
import uuid

import httpx
import pytest
from playwright.sync_api import Page, expect

from devstack.client import MAIL_SINK_URL_ENV, STRONG_PASSWORD, ApiUser, Mailbox, admin_user
from tests.browser.conftest import NO_SIDEWAYS_SCROLL, PHONE, assert_accessible, error_of, heading, shot

pytestmark = pytest.mark.browser


MOIS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre",
        "décembre")


def new_email() -> str:
    return f"web-{uuid.uuid4().hex[:10]}@example.org"


def sign_up(page: Page, email: str, password: str = STRONG_PASSWORD) -> None:
    page.goto("/signup")
    expect(page.locator(".terms")).to_be_visible()
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe", exact=True).fill(password)
    page.get_by_label(re.compile("accepte les conditions")).check()
    page.get_by_role("button", name="Créer mon compte").click()


def skip_the_dwelling(page: Page) -> None:
    """After signing up, onboarding asks for the home first; these tests describe it later."""
    expect(heading(page, "Mon logement")).to_be_visible()
    page.get_by_role("link", name="Plus tard").click()
    expect(heading(page, "Mes compteurs")).to_be_visible()


def follow_mailed_link(page: Page, email: str, path: str) -> None:
    """Opens, in this browser, the link of the newest e-mail to ``email`` that leads to ``path``."""
    mailbox = Mailbox(os.environ[MAIL_SINK_URL_ENV])
    try:
        token = mailbox.token(email, path)
    finally:
        mailbox.close()
    page.goto(f"{path}#token={token}")


def verify_address(page: Page, email: str) -> None:
    follow_mailed_link(page, email, "/verify-email")
    expect(page.get_by_role("status").filter(has_text=f"Votre adresse e-mail {email} est confirmée")).to_be_visible()


def admin(stack) -> ApiUser:
    return admin_user(stack.url("gateway"))


def wait_for_readings(page: Page, meter_id: str, stack, timeout: float = 90) -> list[dict]:
    """Asks for a collection cycle, then waits until the resident's own API session sees readings."""
    operator = admin(stack)
    try:
        deadline = time.monotonic() + timeout
        asked = 0.0
        today = dt.date.today()
        while time.monotonic() < deadline:
            if time.monotonic() - asked > 15:
                operator.post("/admin/collections/enedis/run")
                asked = time.monotonic()
            r = page.request.get(f"/api/v1/meters/{meter_id}/consumption",
                                 params={"from": (today - dt.timedelta(days=40)).isoformat(),
                                         "to": (today + dt.timedelta(days=1)).isoformat(), "step": "day"})
            points = [p for p in r.json().get("points", []) if p["wh"] is not None] if r.ok else []
            if points:
                return points
            time.sleep(1)
    finally:
        operator.close()
    raise AssertionError("no readings reached the resident's dashboard")


def test_resident_signs_up_gives_consent_sees_bars_revokes_exports_and_deletes(page: Page, stack):
    email = new_email()
    sandbox = stack.sandboxes["enedis"].url
    page.goto("/signup")
    expect(heading(page, "Créer mon compte")).to_be_visible()
    expect(page.get_by_role("heading", name="Ce que nous collectons et pourquoi")).to_be_visible()
    assert page.locator(".terms tbody tr").count() >= 1
    shot(page, "01-signup")
    assert_accessible(page, "signup")
    sign_up(page, email)
    skip_the_dwelling(page)
    expect(page.get_by_text(f"le lien envoyé à {email}")).to_be_visible()
    assert_accessible(page, "meters (empty, address to verify)")
    verify_address(page, email)
    shot(page, "01b-email-verified")
    assert_accessible(page, "e-mail verified")
    page.get_by_role("link", name="Aller à mes compteurs").click()
    expect(heading(page, "Mes compteurs")).to_be_visible()
    expect(page.get_by_text("le lien envoyé à")).to_have_count(0)
    assert_accessible(page, "meters (empty)")

    # No missing day: the newest one published is there, so the data is up to date.
    customer = httpx.post(f"{sandbox}/_sandbox/customers", json={"count": 1, "hole_rate": 0.0}, timeout=10).json()
    prm = customer["prms"][0]
    httpx.put(f"{sandbox}/_sandbox/session", json={"customer_id": customer["customer_id"]}, timeout=10)
    page.get_by_label("Numéro du compteur").fill(prm)
    page.get_by_label(re.compile("^Nom")).fill("Appartement")
    shot(page, "02-meters-declare")
    page.get_by_role("button", name="Déclarer et donner mon accord").click()

    page.wait_for_url(re.compile(re.escape(sandbox)))
    shot(page, "03-enedis-consent-page")
    page.locator("#accept").click()

    page.wait_for_url(re.compile(r"/meters\?consent="))
    assert "consent=active" in page.url, page.url
    expect(page.get_by_role("status").filter(has_text="Votre accord est enregistré")).to_be_visible()
    card = page.locator("li.meter", has_text=prm)
    expect(card.locator(".badge")).to_contain_text("actif")
    expect(card).to_contain_text("Valable jusqu'au")
    shot(page, "04-meters-consent-active")
    assert_accessible(page, "meters (consent given)")

    meter_id = page.url.split("meter=")[1].split("&")[0]
    points = wait_for_readings(page, meter_id, stack)
    assert points

    page.get_by_role("link", name="Ma consommation").click()
    expect(heading(page, "Ma consommation")).to_be_visible()
    expect(page.get_by_test_id("month-total")).to_contain_text("kWh")
    page.get_by_test_id("energy-link").first.click()
    expect(heading(page, "Détail par énergie")).to_be_visible()
    expect(page.locator("canvas[role=img]")).to_be_visible()
    expect(page.locator(".big-sentence").first).to_contain_text("kWh")
    page.get_by_text("Voir les valeurs en tableau").click()
    shown = {row.get_attribute("data-period"): row.locator("td[data-wh]").get_attribute("data-wh")
             for row in page.locator("tr[data-period]").all()}
    assert shown, "the dashboard shows no daily value"
    # Collection fills the newest days first: compare over what the page shows, once it is all there.
    last = dt.date.fromisoformat(max(shown)) + dt.timedelta(days=1)
    truth = httpx.get(f"{sandbox}/_sandbox/ground_truth/{prm}",
                      params={"start": min(shown), "end": last.isoformat(), "published_only": "true"},
                      timeout=10).json()
    expected = {d["date"]: d["value"] for d in truth["days"] if d["value"] is not None}
    compared = [period for period, wh in shown.items() if wh and period in expected]
    assert len(compared) >= 5, f"too few days to compare: {shown} against {expected}"
    for period in compared:
        assert int(shown[period]) == expected[period], f"{period}: {shown[period]} Wh shown, the DSO says {expected[period]}"
    shot(page, "05-dashboard-kwh")
    assert_accessible(page, "dashboard")

    page.get_by_role("button", name="€", exact=True).click()
    expect(page.get_by_role("button", name="€", exact=True)).to_have_attribute("aria-pressed", "true")
    expect(page.locator(".big-sentence").first).to_contain_text("€")
    shot(page, "06-dashboard-eur")
    page.get_by_role("button", name="Mois", exact=True).click()
    expect(page.locator(".period-label")).to_be_visible()
    shot(page, "07-dashboard-months")

    page.get_by_role("link", name="Logement").click()
    page.get_by_label("Adresse (numéro et rue)").fill("3 rue Félix Poulat")
    page.get_by_label("Code postal").fill("38000")
    page.get_by_label("Commune", exact=True).fill("Grenoble")
    page.get_by_label("Code INSEE de la commune").fill("38185")
    page.get_by_label(re.compile("Surface habitable")).fill("62")
    page.get_by_label(re.compile("Nombre d'occupants")).fill("2")
    page.get_by_label(re.compile("Énergie de chauffage")).select_option("electricity")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status").filter(has_text="Votre logement est enregistré")).to_be_visible()
    shot(page, "08-dwelling")
    assert_accessible(page, "dwelling")

    page.get_by_role("link", name="Compteurs").click()
    card = page.locator("li.meter", has_text=prm)
    expect(card.locator(".freshness")).to_have_text("À jour : tout ce que Enedis a publié est arrivé.")
    # The newest window is collected first: the first readings seen hold the newest day.
    newest = dt.date.fromisoformat(max(p["period"] for p in points))
    expect(card).to_contain_text(f"Dernier jour reçu : {newest.day} {MOIS[newest.month - 1]} {newest.year}")
    # When the next update is due (Data Connect's quota may not serve every meter each day).
    expect(card).to_contain_text(re.compile(r"Prochaine mise à jour\s*prévue le \d{1,2} \S+ \d{4}"))
    shot(page, "08b-meters-fresh")
    card.get_by_role("button", name="Retirer mon accord").click()
    card.locator(".confirm").get_by_role("button", name="Retirer mon accord").click()
    expect(card.locator(".badge")).to_contain_text("retiré")
    expect(card.locator(".freshness")).to_have_text("Aucune collecte : pas d'accord actif pour ce compteur.")
    expect(card).not_to_contain_text("Prochaine mise à jour")
    shot(page, "09-meters-revoked")

    page.get_by_role("link", name="Mes données").click()
    expect(heading(page, "Mes données")).to_be_visible()
    expect(page.get_by_role("heading", name="Données conservées")).to_be_visible()
    shot(page, "10-my-data")
    assert_accessible(page, "my data")
    link = page.get_by_role("link", name="Télécharger (JSON)")
    assert link.get_attribute("download") is not None
    export = page.request.get(link.get_attribute("href"))
    assert export.ok and "attachment" in export.headers.get("content-disposition", "")
    assert email in export.text() and prm in export.text()

    page.get_by_role("button", name="Supprimer mon compte").click()
    page.get_by_role("button", name="Oui, tout supprimer").click()
    expect(page.get_by_role("status").filter(has_text="Votre compte est supprimé")).to_be_visible()
    shot(page, "11-account-deleted")
    gone = ApiUser(stack.url("gateway"))
    try:
        assert gone.login(email).status_code in (401, 403)
    finally:
        gone.close()


def expire_sessions(stack, email: str) -> None:
    # Playwright's sync API owns this thread's event loop: go through psql rather than asyncpg.
    database = stack.database_url.rsplit("/", 1)[1]
    sql = ("update gateway.sessions set expires_at = now() - interval '1 minute' where account_id = "
           "(select id from gateway.accounts where email = :'email')")
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", database, "-q", "-v", "ON_ERROR_STOP=1",
                    "-v", f"email={email}"], input=sql, text=True, check=True, capture_output=True)


def test_bad_input_is_explained_next_to_the_field_and_nothing_typed_is_lost(page: Page, stack):
    email = new_email()
    sign_up(page, email, password="short")
    assert "12 caractères" in error_of(page, "Mot de passe")
    expect(page.get_by_label("Adresse e-mail")).to_have_value(email)
    expect(page.get_by_label(re.compile("accepte les conditions"))).to_be_checked()
    shot(page, "20-signup-weak-password")
    assert_accessible(page, "signup with an error")

    page.get_by_label("Mot de passe", exact=True).fill(STRONG_PASSWORD)
    page.get_by_role("button", name="Créer mon compte").click()
    skip_the_dwelling(page)
    verify_address(page, email)
    page.get_by_role("link", name="Aller à mes compteurs").click()

    page.get_by_label("Numéro du compteur").fill("1234 567")
    page.get_by_label(re.compile("^Nom")).fill("Maison")
    page.get_by_role("button", name="Déclarer et donner mon accord").click()
    assert "14 chiffres" in error_of(page, "Numéro du compteur")
    expect(page.get_by_label("Numéro du compteur")).to_have_value("1234 567")
    expect(page.get_by_label(re.compile("^Nom"))).to_have_value("Maison")
    shot(page, "21-meters-wrong-prm")
    assert_accessible(page, "meters with an error")

    page.get_by_role("link", name="Logement").click()
    page.get_by_label("Adresse (numéro et rue)").fill("12 avenue Alsace-Lorraine")
    page.get_by_label("Code postal").fill("38000")
    page.get_by_label("Commune", exact=True).fill("Grenoble")
    page.get_by_label("Code INSEE de la commune").fill("38185")
    page.get_by_label(re.compile("Surface habitable")).fill("3")
    page.get_by_role("button", name="Enregistrer").click()
    assert error_of(page, "Surface habitable (m²) (facultatif)")
    expect(page.get_by_label("Adresse (numéro et rue)")).to_have_value("12 avenue Alsace-Lorraine")

    page.get_by_label(re.compile("Surface habitable")).fill("48")
    expire_sessions(stack, email)
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("heading", name="Votre session a expiré")).to_be_visible()
    expect(page.get_by_label("Adresse (numéro et rue)")).to_have_value("12 avenue Alsace-Lorraine")
    expect(page.get_by_label(re.compile("Surface habitable"))).to_have_value("48")
    shot(page, "22-dwelling-session-expired")
    assert_accessible(page, "dwelling with an expired session")
    page.locator(".reauth").get_by_label("Mot de passe").fill(STRONG_PASSWORD)
    page.get_by_role("button", name="Me reconnecter").click()
    expect(page.get_by_text("Vous êtes reconnecté")).to_be_visible()
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status").filter(has_text="Votre logement est enregistré")).to_be_visible()

    page.get_by_role("button", name="Se déconnecter").click()
    expect(heading(page, "Me connecter")).to_be_visible()
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill("not the right password")
    page.get_by_role("button", name="Me connecter").click()
    assert "incorrect" in error_of(page, "Mot de passe")
    expect(page.get_by_label("Adresse e-mail")).to_have_value(email)
    shot(page, "23-login-wrong-password")
    assert_accessible(page, "login with an error")


def test_english_on_a_phone_installable_and_accessible(browser, site):
    context = browser.new_context(base_url=site, viewport=PHONE, is_mobile=True, has_touch=True,
                                  device_scale_factor=2)
    page = context.new_page()
    try:
        page.goto("/signup")
        page.get_by_role("button", name="Switch to English").click()
        expect(heading(page, "Create my account")).to_be_visible()
        assert page.evaluate("document.documentElement.lang") == "en"
        assert_accessible(page, "signup (English, phone)")
        shot(page, "30-phone-signup-en")
        page.get_by_label("E-mail address").fill(new_email())
        page.get_by_label("Password", exact=True).fill(STRONG_PASSWORD)
        page.get_by_label(re.compile("I have read and accept")).check()
        page.get_by_role("button", name="Create my account").click()
        expect(heading(page, "My home")).to_be_visible()
        page.get_by_role("link", name="Later").click()
        expect(heading(page, "My meters")).to_be_visible()
        page.get_by_role("link", name="My consumption").click()
        expect(page.get_by_text("Declare a meter to see your consumption here.")).to_be_visible()
        assert page.evaluate(NO_SIDEWAYS_SCROLL), "sideways scrolling"
        shot(page, "31-phone-dashboard-empty-en")
        assert_accessible(page, "dashboard (English, phone)")
        page.get_by_role("link", name="My data").click()
        expect(heading(page, "My data")).to_be_visible()
        assert page.evaluate(NO_SIDEWAYS_SCROLL), "sideways scrolling"
        shot(page, "32-phone-my-data-en")

        manifest = page.request.get("/manifest.webmanifest").json()
        assert manifest["display"] == "standalone" and manifest["start_url"] == "/"
        for icon in manifest["icons"]:
            assert page.request.get(icon["src"]).ok, icon["src"]
        scope = page.evaluate("navigator.serviceWorker.ready.then(r => r.scope)")
        assert scope == site + "/"
    finally:
        context.close()


def test_a_forgotten_password_is_replaced_through_the_mailed_link_once(page: Page, stack):
    email = new_email()
    sign_up(page, email)
    skip_the_dwelling(page)
    page.get_by_role("button", name="Se déconnecter").click()
    page.get_by_role("link", name="Mot de passe oublié ?").click()
    expect(heading(page, "Mot de passe oublié")).to_be_visible()
    assert_accessible(page, "forgot password")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_role("button", name="Recevoir le lien").click()
    expect(page.get_by_role("status").filter(has_text="Si un compte utilise cette adresse")).to_be_visible()
    shot(page, "50-forgot-password-sent")

    follow_mailed_link(page, email, "/reset-password")
    expect(heading(page, "Choisir un nouveau mot de passe")).to_be_visible()
    assert "token" not in page.url  # the token leaves the address bar and the history
    page.get_by_label("Nouveau mot de passe", exact=True).fill("short")
    page.get_by_role("button", name="Enregistrer le mot de passe").click()
    assert "12 caractères" in error_of(page, "Nouveau mot de passe")
    assert_accessible(page, "reset password with an error")
    page.get_by_label("Nouveau mot de passe", exact=True).fill("a brand new passphrase 2026")
    page.get_by_role("button", name="Enregistrer le mot de passe").click()
    expect(page.get_by_role("status").filter(has_text="Votre mot de passe est changé")).to_be_visible()
    shot(page, "51-password-reset")

    page.get_by_role("link", name="Me connecter").click()
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill("a brand new passphrase 2026")
    page.get_by_role("button", name="Me connecter").click()
    expect(heading(page, "Ma consommation")).to_be_visible()

    # The link worked once: opened again, it says so.
    follow_mailed_link(page, email, "/reset-password")
    page.get_by_label("Nouveau mot de passe", exact=True).fill("yet another passphrase 2026")
    page.get_by_role("button", name="Enregistrer le mot de passe").click()
    expect(page.get_by_role("alert").filter(has_text="a déjà servi")).to_be_visible()


def test_changed_terms_are_accepted_again_before_anything_else(page: Page, stack):
    # Runs last: the new terms version applies to every account of this test database.
    email = new_email()
    sign_up(page, email)
    skip_the_dwelling(page)
    operator = admin(stack)
    version = f"web-{uuid.uuid4().hex[:6]}"
    try:
        r = operator.post("/admin/terms", json={
            "version": version, "summary": "Nous ajoutons la comparaison avec des logements semblables.",
            "text": "Nouvelles conditions.",
            "data_collected": [{"data": "Profil du logement", "why": "comparaison", "kept": "tant que le compte existe"}]})
        assert r.status_code == 201, r.text
    finally:
        operator.close()
    page.goto("/login")
    page.context.clear_cookies()
    page.reload()
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(STRONG_PASSWORD)
    page.get_by_role("button", name="Me connecter").click()
    expect(heading(page, "Les conditions d'utilisation ont changé")).to_be_visible()
    expect(page.get_by_text("Profil du logement")).to_be_visible()
    expect(page.get_by_role("navigation")).to_have_count(0)
    shot(page, "40-terms-changed")
    assert_accessible(page, "terms re-acceptance")
    page.get_by_role("button", name=f"J'accepte la version {version}").click()
    expect(heading(page, "Ma consommation")).to_be_visible()
