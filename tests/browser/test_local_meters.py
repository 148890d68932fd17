"""Issue 22 in the browser: a resident declares a CCIAG heat dwelling and an Eau de Grenoble water meter with the
contract reference and holder on the bill, sees each wait for the operator, then their energies in the summary
once the operator's first files named them (water in m³)."""
from __future__ import annotations

import datetime as dt
import random
import re
import time

import httpx
import pytest
from playwright.sync_api import Page, expect

from metro.service_auth import ServiceTokens
from tests.browser.conftest import assert_accessible, heading, shot
from tests.browser.test_resident_app import new_email, sign_up, verify_address

pytestmark = pytest.mark.browser


def run_cycle(stack) -> None:
    token = ServiceTokens.local("gateway").issue("ingest_local")
    r = httpx.post(stack.url("ingest_local") + "/internal/collections/run",
                   headers={"authorization": f"Bearer {token}"}, timeout=300)
    assert r.status_code == 200 and r.json()["outcome"] == "ok", r.text


def declare(page: Page, sandbox: str, supplier: str, identifier: str) -> None:
    holder = httpx.get(f"{sandbox}/_sandbox/holders/{identifier}").json()["holder_name"]
    page.get_by_label("Énergie et distributeur").select_option(label=supplier)
    page.get_by_label("Numéro du compteur").fill(identifier)
    page.get_by_label("Référence du contrat").fill(f"CT-{identifier[-6:]}")
    page.get_by_label("Nom du titulaire du contrat").fill(holder)
    page.get_by_role("button", name="Déclarer et donner mon accord").click()
    card = page.locator("li.meter", has_text=identifier)
    expect(card.locator(".badge")).to_contain_text("demandé")
    expect(card).to_contain_text("le recevra dans sa prochaine liste")


def test_resident_declares_heat_and_water_and_sees_them_in_the_summary(page: Page, stack):
    rng = random.Random()
    sandbox = stack.sandboxes["local"].url
    email = new_email()
    sign_up(page, email)
    verify_address(page, email)
    page.goto("/meters")
    expect(heading(page, "Mes compteurs")).to_be_visible()
    dwelling = f"SST{rng.randrange(1, 41):04d}-L00{rng.randrange(1, 6)}"
    water = f"EG{rng.randrange(10**7, 10**8)}"
    declare(page, sandbox, "Chaleur — CCIAG", dwelling)
    shot(page, "local-01-heat-declared")
    assert_accessible(page, "meters (local operator declared)")
    declare(page, sandbox, "Eau — Eau de Grenoble", water)

    run_cycle(stack)
    start = dt.date.today() - dt.timedelta(days=8)
    for operator, energy in (("cciag", "heat"), ("eau_de_grenoble", "water")):
        r = httpx.post(f"{sandbox}/_sandbox/publish", json={"operator": operator, "energy": energy,
                                                            "start": start.isoformat(),
                                                            "end": (start + dt.timedelta(days=6)).isoformat()})
        assert r.status_code == 200, r.text
    run_cycle(stack)

    def both_active():
        page.reload()
        for identifier in (dwelling, water):
            assert "actif" in page.locator("li.meter", has_text=identifier).locator(".badge").inner_text()
        return True
    eventually_sync(both_active)
    shot(page, "local-02-active")

    page.get_by_role("link", name="Ma consommation").click()
    expect(heading(page, "Ma consommation")).to_be_visible()
    # The home's "Ce mois-ci" card links each energy to its detail, where the meters are chosen.
    page.get_by_test_id("this-month").get_by_role("link", name=re.compile("^Eau")).click()
    expect(heading(page, "Détail par énergie")).to_be_visible()
    page.get_by_role("button", name=re.compile(f"^Eau {water[-4:]}")).click()
    expect(page.locator(".big-sentence").first).to_contain_text("m³", timeout=30_000)
    page.get_by_role("button", name=re.compile(f"^Chaleur {dwelling[-4:]}")).click()
    expect(page.locator(".big-sentence").first).to_contain_text("kWh", timeout=30_000)
    shot(page, "local-03-summary")
    assert_accessible(page, "dashboard (district heat)")


def eventually_sync(check, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            check()
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)
