"""Issue 20 item 9: every screen of the SPA, with data where it shows data, in French on a 390 px phone and in
English on a 1280 px desktop: a screenshot each in test-artifacts/screens, axe clean, no sideways scrolling. The
list of screens is checked against the routes the SPA serves (App.tsx, the footer's pages, the console's
sections): a route without a screen fails the test."""
from __future__ import annotations

import datetime as dt
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from devstack.client import STRONG_PASSWORD, ApiUser, admin_user
from metro.events import Envelope, LoadCurveCollected
from tests.browser.conftest import NO_SIDEWAYS_SCROLL, WEB, assert_accessible
from tests.browser.test_account_screens import anomaly, send_events
from tests.browser.test_coach import Coached, coached, in_thread  # noqa: F401 (the fixture, for this module)
from tests.conftest import ARTIFACTS
from tests.e2e.test_analyst import YEAR, add_homes, settled
from tests.e2e.test_organisations import SCHOOL

pytestmark = pytest.mark.browser

PARIS = ZoneInfo("Europe/Paris")
DWELLING = {"street": "3 rue Félix Poulat", "postal_code": "38000", "municipality": "Grenoble",
            "insee_code": "38185", "surface_m2": 62, "occupants": 2, "dwelling_type": "apartment",
            "heating_energy": "gas", "heating_mode": "individual", "hot_water_energy": "gas"}
CONTRACT = {"tariff_option": "HPHC", "subscribed_kva": 9, "offpeak_hours": "22:00-06:00",
            "supplier_offer": "EDF Tarif Bleu"}
ANALYST_MUNICIPALITY = "38421"  # Saint-Martin-d'Hères: no other test adds homes there


# ---------------------------------------------------------------------------------------------------------------
# The routes the SPA serves, read from its sources.

def _expand(pattern: str) -> list[str]:
    """A route's regular expression with each alternation `(a|b)` written out: one route per alternative."""
    group = re.search(r"\(([a-z-]+(?:\|[a-z-]+)+)\)", pattern)
    if not group:
        return [pattern]
    return [v for alt in group[1].split("|")
            for v in _expand(pattern[:group.start()] + alt + pattern[group.end():])]


def spa_routes() -> list[str]:
    """Every route as a Python regular expression matched against a screen's path (without its query): the
    literal paths App.tsx compares the address with, its prefixes ("/orgs/" is any organisation), its route
    expressions, the footer's pages and the administration console's sections."""
    src = WEB / "src"
    app = (src / "App.tsx").read_text("utf-8")
    routes: list[str] = []
    for literal in sorted(set(re.findall(r'"(/[A-Za-z0-9/_-]*)"', app))):
        if literal.startswith("/api/"):
            continue
        routes.append(re.escape(literal) + ("[^/]+" if literal.endswith("/") and literal != "/" else ""))
    for expression in re.findall(r"const \w+ = /\^(.+?)\$/;", app):
        routes += _expand(expression.replace("\\/", "/"))
    info = (src / "pages" / "infoPages.ts").read_text("utf-8")
    routes += [re.escape(p) for p in re.findall(r'^\s*"(/[a-z-]+)": \{', info, re.M)]
    admin = (src / "pages" / "Admin.tsx").read_text("utf-8")
    routes += [re.escape(p) for p in re.findall(r'\{ path: "(/admin[a-z/-]*)"', admin)]
    return routes


# ---------------------------------------------------------------------------------------------------------------
# Every screen, one line each.

@dataclass(frozen=True)
class Screen:
    name: str
    path: str  # {placeholders} filled from the world below
    who: str = "resident"  # "nobody" (signed out), "resident", or "staff" (adviser, professional, analyst, admin)
    data: str | None = None  # a selector shown only when the screen's data is on it
    then: Callable[[Page, dict], None] | None = None  # what to do on the screen before the picture


def _analyst_year(page: Page, world: dict) -> None:
    page.locator("#analyst-year").select_option(str(YEAR))
    expect(page.locator("main tbody tr").filter(has_text="Saint-Martin-d'Hères")).to_contain_text("12")


def _admin_search(page: Page, world: dict) -> None:
    search = page.locator("form[role=search]")
    search.locator("input").fill(world["resident_email"])
    search.locator("button[type=submit]").click()
    expect(page.locator("main").get_by_text(world["resident_email"])).to_be_visible()


SCREENS = [
    Screen("login", "/login", "nobody"),
    Screen("signup", "/signup", "nobody"),
    Screen("forgot-password", "/forgot-password", "nobody"),
    Screen("reset-password", "/reset-password", "nobody"),
    Screen("verify-email", "/verify-email", "nobody"),
    Screen("goodbye", "/goodbye", "nobody"),
    Screen("accessibility", "/accessibility", "nobody"),
    Screen("legal", "/legal", "nobody"),
    Screen("contact", "/contact", "nobody"),
    Screen("home", "/", data="[data-testid=month-bars] canvas"),
    Screen("energy-detail", "/consumption", data=".chart canvas"),
    Screen("energy-detail-months-eur", "/consumption?view=month&unit=eur", data=".chart canvas"),
    Screen("meters", "/meters", data="li.meter >> nth=2"),
    Screen("contract", "/meters/{electricity}/contract", data="main select"),
    Screen("consent-history", "/meters/{electricity}/consents", data="li.history-entry"),
    Screen("load-curve", "/load-curve?meter={electricity}&span=week&day={as_of}", data=".chart--power svg[role=img]"),
    Screen("statements", "/statements", data="[data-statement] >> nth=1"),
    Screen("tenancy", "/tenancy", data="main form input"),
    Screen("actions", "/actions", data="[data-commitment]"),
    Screen("onboarding-dwelling", "/dwelling?onboarding=1"),
    Screen("onboarding-meters", "/meters?onboarding=1"),
    Screen("dwelling", "/dwelling"),
    Screen("my-data", "/my-data", data=".shares li"),
    Screen("account", "/account"),
    Screen("notifications", "/notifications", data="li.note >> nth=1"),
    Screen("preferences", "/preferences"),
    Screen("not-found", "/no-such-page"),
    Screen("adviser-residents", "/adviser", "staff", data="ul.residents li"),
    Screen("adviser-resident", "/adviser/residents/{resident}", "staff", data=".meter-block"),
    Screen("news-editor", "/news/editor", "staff", data=".news-list li"),
    Screen("organisations", "/orgs", "staff", data="main a[href^='/orgs/']"),
    Screen("organisation", "/orgs/{org}", "staff", data="main tbody tr"),
    Screen("building", "/orgs/{org}/buildings/{building}", "staff", data="main dl.facts"),
    Screen("analyst", "/analyst", "staff", data="main svg path", then=_analyst_year),
    Screen("admin-accounts", "/admin", "staff", then=_admin_search),
    Screen("admin-erasures", "/admin/erasures", "staff"),
    Screen("admin-mismatches", "/admin/mismatches", "staff"),
    Screen("admin-catalogues", "/admin/catalogues", "staff"),
    Screen("admin-terms", "/admin/terms", "staff"),
    Screen("admin-collections", "/admin/collections", "staff"),
    Screen("admin-sge", "/admin/sge", "staff"),
    Screen("admin-address-base", "/admin/address-base", "staff"),
    Screen("admin-audit", "/admin/audit", "staff", data="main tbody tr"),
]
NOT_A_ROUTE = {"not-found"}  # the page every unknown address shows


def test_every_route_of_the_spa_has_a_screen():
    routes = spa_routes()
    # The sources still read as this parser expects (else a missing screen would go unseen).
    for known in ("/load-curve", "/meters/([0-9a-f-]{36})/consents", "/admin/audit", "/legal", "/orgs/[^/]+"):
        assert known in [r.replace("\\", "") for r in routes], f"{known} not found in {routes}"
    ids = {"electricity": uuid.UUID(int=1), "resident": uuid.UUID(int=2), "org": uuid.UUID(int=3),
           "building": uuid.UUID(int=4), "as_of": "2026-01-01"}
    paths = {s.name: s.path.format(**ids).split("?")[0] for s in SCREENS}
    missing = [r for r in routes if not any(re.fullmatch(r, p) for p in paths.values())]
    assert not missing, f"routes of the SPA without a Screen line: {missing}"
    unknown = [n for n, p in paths.items() if n not in NOT_A_ROUTE and not any(re.fullmatch(r, p) for r in routes)]
    assert not unknown, f"screens at no route of the SPA: {unknown}"


# ---------------------------------------------------------------------------------------------------------------
# Data on every screen.

def _load_curve(meter_id: str, last: dt.date) -> Envelope:
    """Seven days of half-hours: a base load with a morning and an evening peak, and each day's maximum power."""
    days, peaks = [], []
    for i in range(7):
        day = last - dt.timedelta(days=6 - i)
        watts = [300 + (1800 if 14 <= h < 17 else 0) + (2400 if 38 <= h < 42 else 0) + 20 * i for h in range(48)]
        days.append((day, 30, watts))
        peak = dt.datetime.combine(day, dt.time(19, 30), PARIS)
        peaks.append((day, 4800 + 100 * i, peak))
    payload = LoadCurveCollected(meter_id=uuid.UUID(meter_id), source="test", days=days, max_power=peaks)
    return Envelope(name=payload.name, producer="test", payload=payload.to_payload())


def _until(what: str, check: Callable[[], bool], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"the seeded data did not arrive: {what}")
        time.sleep(0.5)


@pytest.fixture(scope="module")
def world(stack, coached: Coached) -> dict:  # noqa: F811 (the fixture imported above)
    """The coached resident (this month across electricity and gas) with everything else a resident has: a
    dwelling, a contract, a load curve, a hand-read meter, a commitment, notifications, a share with an adviser
    who read it. A staff account (adviser, professional, analyst and administrator) with that resident's share,
    news, an organisation with a building, and a territory to map."""
    gateway = stack.url("gateway")
    staff = ApiUser(gateway).signup()
    admin = admin_user(gateway)
    r = admin.put(f"/admin/accounts/{staff.account['id']}/roles",
                  json={"roles": ["adviser", "professional", "analyst", "admin"]})
    assert r.status_code == 200, r.text
    admin.close()

    resident = ApiUser(gateway)
    assert resident.login(coached.email).status_code == 200
    assert resident.put("/me/dwelling", json=DWELLING).status_code == 200
    r = resident.put(f"/meters/{coached.electricity}/contract", json=CONTRACT)
    assert r.status_code == 200, r.text
    manual = resident.post("/meters", json={"energy": "electricity", "dso": "manual", "label": "Compteur du garage"})
    assert manual.status_code == 201, manual.text
    for days_ago, index in ((60, 1000), (30, 1300)):
        taken = (dt.date.today() - dt.timedelta(days=days_ago)).isoformat()
        _until("a manual meter known to consumption", lambda: resident.post(
            f"/meters/{manual.json()['id']}/statements", json={"taken_on": taken, "index": index}).status_code == 201)
    action = resident.get("/actions").json()[0]
    assert resident.post("/me/actions", json={"action_id": action["id"]}).status_code == 201
    r = resident.post("/me/shares", json={"adviser_email": staff.email, "resident_name": "Jeanne R.",
                                          "resident_contact": "06 12 34 56 78", "scopes": ["consumption", "dwelling"]})
    assert r.status_code == 201, r.text
    account_id = resident.account["id"]
    assert staff.get(f"/adviser/residents/{account_id}/dwelling").status_code == 200  # in her access log

    news = staff.post("/admin/news", json={"title_fr": "Chauffer juste ce qu'il faut", "title_en": "Just enough heat",
                                           "body_fr": "19 °C dans les pièces de vie, 17 °C dans les chambres.",
                                           "body_en": "19 °C in living rooms, 17 °C in bedrooms."})
    assert news.status_code == 201, news.text
    org = staff.post("/orgs", json={"name": "Ville d'Échirolles", "kind": "municipality", "siren": "213801511"})
    assert org.status_code == 201, org.text
    building = staff.post(f"/orgs/{org.json()['id']}/buildings", json=SCHOOL)
    assert building.status_code == 201, building.text

    send_events(stack, anomaly(account_id, "2025-01-14"), anomaly(account_id, "2025-01-20"),
                _load_curve(coached.electricity, coached.as_of))
    in_thread(add_homes(stack.database_url, ANALYST_MUNICIPALITY, 12, 6000))
    settled(staff)  # the territory as consumption's worker stores it once the rollups changed
    _until("two notifications", lambda: len(resident.get("/me/notifications").json()) >= 2)
    week = {"from": (coached.as_of - dt.timedelta(days=6)).isoformat(),
            "to": (coached.as_of + dt.timedelta(days=1)).isoformat()}
    _until("a week of load curve", lambda: len(
        resident.get(f"/meters/{coached.electricity}/load-curve", params=week).json().get("days", [])) == 7)
    world = {"resident_email": coached.email, "staff_email": staff.email, "electricity": coached.electricity,
             "resident": account_id, "org": org.json()["id"], "building": building.json()["id"],
             "as_of": coached.as_of.isoformat()}
    resident.close()
    staff.close()
    return world


# ---------------------------------------------------------------------------------------------------------------
# The pictures.

def _signed_in(browser, site, lang: str, width: int, email: str | None) -> Page:
    """A context of its own, at one pixel per CSS pixel (pictures twice as wide take twice as long to take)."""
    context = browser.new_context(base_url=site, locale="fr-FR", viewport={"width": width, "height": 844},
                                  is_mobile=width < 600, has_touch=width < 600)
    context.set_default_timeout(15_000)
    if lang == "en":
        context.add_init_script("localStorage.setItem('metro.lang', 'en')")
    page = context.new_page()
    if email is None:
        return page
    page.goto("/login")
    page.locator("input[type=email]").fill(email)
    page.locator("input[type=password]").fill(STRONG_PASSWORD)
    page.locator("form button[type=submit]").click()
    expect(page.locator("main h1")).to_be_visible()
    expect(page.locator("input[type=password]")).to_have_count(0)
    # Signing in adopts the account's language; the header switch changes the account's.
    if page.evaluate("document.documentElement.lang") != lang:
        page.locator("header button.lang").click()
        expect(page.locator("html")).to_have_attribute("lang", lang)
    return page


@pytest.mark.parametrize(("lang", "width"), [("fr", 390), ("en", 1280)])
def test_screenshots_of_every_screen(browser, site, world, lang, width):
    folder = ARTIFACTS / "screens"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob(f"{lang}-{width}-*.png"):
        old.unlink()
    emails = {"nobody": None, "resident": world["resident_email"], "staff": world["staff_email"]}
    for who, email in emails.items():
        page = _signed_in(browser, site, lang, width, email)
        try:
            for screen in (s for s in SCREENS if s.who == who):
                where = f"{screen.name}, {lang} {width}px"
                page.goto(screen.path.format(**world))
                expect(page.locator("main h1")).to_be_visible()
                if screen.data:
                    expect(page.locator(screen.data).first).to_be_visible()
                if screen.then:
                    screen.then(page, world)
                expect(page.locator("main")).not_to_contain_text(re.compile("Chargement|Loading"))
                assert page.evaluate("document.documentElement.lang") == lang, where
                assert page.evaluate(NO_SIDEWAYS_SCROLL), f"sideways scrolling: {where}"
                assert_accessible(page, where)
                page.evaluate("window.scrollTo(0, 0)")
                page.screenshot(path=str(folder / f"{lang}-{width}-{screen.name}.png"), full_page=True)
        finally:
            page.context.close()
    taken = {p.name for p in folder.glob(f"{lang}-{width}-*.png")}
    assert taken == {f"{lang}-{width}-{s.name}.png" for s in SCREENS}
