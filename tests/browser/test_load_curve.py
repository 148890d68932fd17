"""Issue 20 item 3: the load-curve view in headless Chromium, on a phone, against the real services and the Enedis
sandbox: its own chunk, the curve drawn, the values as tables, French and English, axe clean."""
from __future__ import annotations

import asyncio
import datetime as dt
import re
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from playwright.sync_api import Browser, expect

from devstack.client import STRONG_PASSWORD, ApiUser
from devstack.db import fetchval
from tests.browser.conftest import NO_SIDEWAYS_SCROLL, PHONE, assert_accessible, heading, shot
from tests.e2e.test_enedis_collection import new_meter

pytestmark = pytest.mark.browser


def run(coro):
    """Playwright's sync API holds this thread's event loop: the stack's async helpers run on another thread."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def collected_week(stack, meter_id: str) -> int:
    return run(fetchval(stack.database_url, "select count(*) from consumption.load_curve_days "
                                "where meter_id = $1 and watts is not null", uuid.UUID(meter_id)))


def test_the_load_curve_view_on_a_phone_its_own_chunk_with_tables(browser: Browser, site, stack):
    resident = ApiUser(stack.url("gateway")).signup()
    sandbox = httpx.Client(base_url=stack.sandboxes["enedis"].url, timeout=30)
    meter = run(new_meter(stack, sandbox, resident, activation_date="2015-01-01", hole_rate=0.0))

    context = browser.new_context(base_url=site, locale="fr-FR", viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    scripts: list[str] = []
    page.on("request", lambda r: scripts.append(r.url) if r.resource_type == "script" else None)
    r = page.request.post("/api/v1/auth/login", data={"email": resident.email, "password": STRONG_PASSWORD})
    assert r.ok, r.text()
    page.goto("/meters")
    expect(heading(page, "Mes compteurs")).to_be_visible()
    assert not [s for s in scripts if "LoadCurve" in s], "the load-curve chunk is loaded before it is opened"

    page.locator("li.meter", has_text=meter["prm"]).get_by_role("link", name="Courbe de charge").click()
    expect(heading(page, "Courbe de charge")).to_be_visible()
    assert [s for s in scripts if "LoadCurve" in s], "the load-curve view did not come as its own chunk"
    expect(page).to_have_title(re.compile("^Courbe de charge"))
    # Opening the view asked for the history.
    expect(page.get_by_role("status").filter(has_text="Nous récupérons votre historique")).to_be_visible()

    page.get_by_role("button", name="Semaine").click()
    assert "span=week" in page.url
    # The history comes newest week first; the view follows it as it comes in.
    days = page.locator("section", has=page.get_by_role("heading", name="Chaque jour")).locator("tbody tr")
    expect(days).to_have_count(7, timeout=240_000)
    assert collected_week(stack, meter["meter_id"]) >= 7
    chart = page.locator(".chart--power svg[role=img]")
    expect(chart).to_be_visible()
    expect(chart).to_have_attribute("aria-label", re.compile(r"puissance moyenne la plus haute [\d,]+ kW"))
    expect(days.first).to_contain_text("kWh")
    expect(days.first).to_contain_text("kVA")
    page.get_by_text("Voir les valeurs en tableau").click()
    rows = page.locator("details.curve-table tbody tr")
    assert rows.count() >= 6 * 46
    assert page.evaluate(NO_SIDEWAYS_SCROLL), "the load-curve view scrolls sideways on a phone"
    shot(page, "loadcurve-week-fr-390")
    assert_accessible(page, "load curve (week, phone)")

    # A reload keeps the choices; the day view shows one day's half-hours, in English too.
    page.reload()
    expect(page.get_by_role("button", name="Semaine")).to_have_attribute("aria-pressed", "true")
    page.get_by_role("button", name="Jour").click()
    page.locator("button.lang").click()
    expect(heading(page, "Load curve")).to_be_visible()
    page.get_by_text("Show the values as a table").click()
    shown = re.search(r"day=(\d{4}-\d{2}-\d{2})", page.url).group(1)
    served = page.request.get(f"/api/v1/meters/{meter['meter_id']}/load-curve",
                              params={"from": shown, "to": (dt.date.fromisoformat(shown) + dt.timedelta(days=1)).isoformat()})
    [one_day] = served.json()["days"]
    expect(page.locator("details.curve-table tbody tr")).to_have_count(len(one_day["points"]))
    assert len(one_day["points"]) in (46, 48, 50, 288)
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    shot(page, "loadcurve-day-en-390")
    assert_accessible(page, "load curve (day, English, phone)")
    context.close()
    sandbox.close()
    resident.close()

