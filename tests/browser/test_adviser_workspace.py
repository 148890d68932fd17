"""Issue 21 (items 1, 3, 6): the resident shares with an adviser under a name of their choosing, the adviser reads
and writes advice in their workspace and publishes news; the resident reads both and deletes the advice."""
from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import NO_SIDEWAYS_SCROLL, assert_accessible, heading, shot
from tests.browser.test_resident_quality import log_in
from tests.e2e.test_personal_data import make_adviser, resident_with_data

pytestmark = pytest.mark.browser


@pytest.fixture
def world(stack):
    """A resident with five days of readings in January 2025 and an adviser (set up over the API, in a thread of
    its own: the browser's event loop runs in this one)."""
    with ThreadPoolExecutor(1) as pool:
        alice, meter = pool.submit(asyncio.run, resident_with_data(stack, days=5)).result()
    adviser = make_adviser(stack)
    yield {"alice": alice, "meter": meter, "adviser": adviser}
    alice.close()
    adviser.close()


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Se déconnecter").click()
    expect(heading(page, "Me connecter")).to_be_visible()


def test_adviser_flow_share_read_advise_publish_news_and_the_resident_reads_and_deletes(page: Page, world):
    alice, adviser = world["alice"], world["adviser"]
    page.goto("/")
    log_in(page, alice.email)
    page.get_by_role("link", name="Mes données").click()
    page.get_by_label("E-mail du conseiller").fill(adviser.email)
    page.get_by_label(re.compile("^Nom affiché au conseiller")).fill("Alice M.")
    page.get_by_label(re.compile("^Moyen de vous joindre")).fill("06 12 34 56 78")
    page.get_by_label(re.compile("description de votre logement")).check()
    page.get_by_role("button", name="Partager", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="Partage enregistré")).to_be_visible()
    share = page.locator(".shares li").filter(has_text=adviser.email)
    expect(share).to_contain_text("actif jusqu'au")
    expect(share).to_contain_text("vous voit sous le nom « Alice M. »")
    expect(share).to_contain_text("consommation, logement")
    assert_accessible(page, "my data with a share")
    shot(page, "21-resident-share")
    log_out(page)

    # The adviser lands in the workspace and finds the resident under the name and contact she chose.
    log_in(page, adviser.email)
    expect(heading(page, "Espace conseiller")).to_be_visible()
    expect(page.get_by_text("Contact : 06 12 34 56 78")).to_be_visible()
    assert alice.email not in page.content()
    assert_accessible(page, "adviser's residents")
    page.get_by_role("link", name="Voir Alice M.").click()
    expect(heading(page, "Alice M.")).to_be_visible()
    expect(page.get_by_role("heading", name="Synthèse")).to_be_visible()
    month = page.get_by_label(re.compile("^Mois affiché"))
    month.fill("2025-01")
    expect(page.locator(".meter-block .big-sentence")).to_contain_text("5 kWh")
    expect(page.get_by_role("heading", name="Logement")).to_be_visible()
    expect(page.get_by_text("70 m²")).to_be_visible()
    page.get_by_label(re.compile("^Nouveau conseil")).fill("Baissez le chauffage à 19 °C la nuit.")
    page.get_by_role("button", name="Envoyer le conseil").click()
    expect(page.get_by_role("status").filter(has_text="Conseil envoyé")).to_be_visible()
    expect(page.locator(".notes")).to_contain_text("Baissez le chauffage")
    assert_accessible(page, "a resident's page in the adviser workspace")
    shot(page, "21-adviser-resident")
    page.set_viewport_size({"width": 320, "height": 800})
    assert page.evaluate(NO_SIDEWAYS_SCROLL), "the resident's page scrolls sideways at 320 px"
    page.set_viewport_size({"width": 1100, "height": 900})

    # News, written with a preview in both languages.
    page.get_by_role("link", name="Actualités").click()
    expect(heading(page, "Actualités de saison")).to_be_visible()
    page.get_by_label("Titre en français").fill("Les soirées d'hiver")
    page.get_by_label("Titre en anglais").fill("Winter evenings")
    page.get_by_label("Texte en français").fill("Fermez les volets le soir.")
    expect(page.get_by_text("Remplissez le titre et le texte")).to_be_visible()
    page.get_by_label("Texte en anglais").fill("Close the shutters at night.")
    preview = page.locator(".preview")
    expect(preview.locator("article[lang=fr]")).to_contain_text("Les soirées d'hiver")
    expect(preview.locator("article[lang=en]")).to_contain_text("Close the shutters at night.")
    assert_accessible(page, "news editor with a preview")
    shot(page, "21-news-editor")
    page.get_by_role("button", name="Publier").click()
    expect(page.get_by_role("status").filter(has_text="Actualité publiée")).to_be_visible()
    expect(page.locator(".news-list").first).to_contain_text("Les soirées d'hiver")
    log_out(page)

    # The resident: the news on her home screen, the advice in "Mes données", deleted.
    log_in(page, alice.email)
    news = page.locator("section.news")
    expect(news).to_contain_text("Les soirées d'hiver")
    expect(news).to_contain_text("Fermez les volets le soir.")
    page.get_by_role("link", name="Mes données").click()
    expect(page.get_by_role("heading", name="Conseils de votre conseiller")).to_be_visible()
    expect(page.locator(".notes")).to_contain_text("Baissez le chauffage à 19 °C la nuit.")
    assert_accessible(page, "the resident's advice")
    page.get_by_role("button", name=re.compile("^Supprimer le conseil du")).click()
    page.get_by_role("button", name="Oui, supprimer").click()
    expect(page.get_by_role("status").filter(has_text="Conseil supprimé")).to_be_visible()
    expect(page.get_by_text("Aucun conseil pour le moment")).to_be_visible()
    page.set_viewport_size({"width": 320, "height": 800})
    assert page.evaluate(NO_SIDEWAYS_SCROLL), "my data scrolls sideways at 320 px"
    page.set_viewport_size({"width": 1100, "height": 900})

    # She extends the share, then takes it back: the adviser's page says so.
    page.get_by_role("button", name=re.compile("^Prolonger de 6 mois")).click()
    expect(page.get_by_role("status").filter(has_text="Le partage est prolongé")).to_be_visible()
    page.get_by_role("button", name=re.compile("^Arrêter le partage avec")).click()
    expect(page.get_by_text("Vous ne partagez vos données avec personne.")).to_be_visible()
    log_out(page)
    log_in(page, adviser.email)
    expect(page.get_by_text("Aucun habitant ne partage ses données avec vous")).to_be_visible()
    page.goto(f"/adviser/residents/{alice.account['id']}")
    expect(page.get_by_role("status").filter(has_text="ne partage plus ses données")).to_be_visible()
    assert_accessible(page, "a resident who stopped sharing")
