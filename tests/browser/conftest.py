"""Headless Chromium (Debian's, never a downloaded one) driving the SPA served by the test stack's gateway."""
from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect, sync_playwright

from tests.conftest import ARTIFACTS

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SCREENSHOTS = ARTIFACTS / "screenshots"
PHONE = {"width": 390, "height": 844}
# The viewport's client width, not innerWidth: innerWidth grows with a page that overflows on a phone.
NO_SIDEWAYS_SCROLL = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
# Six suites share two cores: answers can take seconds.
expect.set_options(timeout=15_000)


@pytest.fixture(scope="session")
def web_build() -> Path:
    """The gateway serves web/dist only if it exists when it starts: build first when it is missing."""
    if not (WEB / "dist" / "index.html").exists():
        if not (WEB / "node_modules").exists():
            subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=WEB, check=True)
        subprocess.run(["npm", "run", "build"], cwd=WEB, check=True)
    return WEB / "dist"


@pytest.fixture(scope="session")
def site(web_build, stack) -> str:
    url = stack.url("gateway")
    r = httpx.get(url + "/", timeout=10)
    if "text/html" not in r.headers.get("content-type", ""):
        pytest.fail("the gateway does not serve the SPA: build web/dist (make web) before the stack starts")
    return url


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (make browser)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


# Installed before any page script: what the page's Content-Security-Policy refused, as the page saw it.
WATCH_CSP = """window.__cspViolations = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"}`));"""


def csp_violations(page: Page, console: list[str]) -> list[str]:
    """Every CSP refusal of the page: its securitypolicyviolation events and Chromium's console reports."""
    return [*page.evaluate("window.__cspViolations || []"), *console]


@pytest.fixture
def page(browser, site) -> Page:
    """Fails the test on any Content-Security-Policy violation: the SPA must run under its policy."""
    context = browser.new_context(base_url=site, locale="fr-FR", accept_downloads=True,
                                  viewport={"width": 1100, "height": 900})
    context.set_default_timeout(15_000)
    context.add_init_script(WATCH_CSP)
    p = context.new_page()
    console: list[str] = []
    p.on("console", lambda m: console.append(m.text) if "Content Security Policy" in m.text else None)
    p.console_reports = console
    yield p
    violations = console if p.is_closed() else csp_violations(p, console)
    context.close()
    assert not violations, f"Content-Security-Policy violations: {violations}"


def wait_until(page: Page, function: str, arg=None, *, timeout_s: float = 15.0) -> None:
    """Polls ``function(arg)`` in the page until it is truthy. Not Playwright's wait_for_function: its polling
    evaluates the predicate with eval, which the SPA's Content-Security-Policy (no 'unsafe-eval') refuses whenever
    the first call is not already true; page.evaluate passes a function, which the policy does not cover."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(function, arg):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout_s:g} s: {function[:120]}")
        page.wait_for_timeout(100)


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")  # the sticky header would otherwise sit mid-picture
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def assert_accessible(page: Page, name: str) -> None:
    """axe-core on the page as it is now: no serious or critical violation (RGAA / WCAG 2.1 AA rules)."""
    # Only the violations' nodes are detailed (resultTypes): the same rules run, in a fraction of the time.
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a",
                                                                             "wcag21aa", "best-practice"]},
                                       "resultTypes": ["violations"]})
    bad = [v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]
    report = "; ".join(f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}" for v in bad)
    assert not bad, f"accessibility violations on {name}: {report}"


def error_of(page: Page, label: str) -> str:
    """The message shown next to the field labelled `label` (found through its aria-describedby)."""
    field = page.get_by_label(label, exact=True)
    expect(field).to_have_attribute("aria-invalid", "true")
    ids = (field.get_attribute("aria-describedby") or "").split()
    errors = [i for i in ids if i.endswith("-error")]
    assert errors, f"no error next to {label!r}"
    return page.locator(f"[id='{errors[0]}']").inner_text()


def heading(page: Page, text: str):
    return page.get_by_role("heading", level=1, name=re.compile(text))
