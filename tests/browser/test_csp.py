"""Issue 18 item 3: the SPA runs under its Content-Security-Policy, with nothing refused."""
from __future__ import annotations

import re

import pytest
from devstack.client import STRONG_PASSWORD, ApiUser
from playwright.sync_api import Page, expect

from tests.browser.conftest import csp_violations, heading

pytestmark = pytest.mark.browser


def test_signing_in_and_the_dashboard_work_under_the_content_security_policy(page: Page, stack):
    resident = ApiUser(stack.url("gateway")).signup()
    resident.close()
    response = page.goto("/login")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    page.get_by_label("Adresse e-mail").fill(resident.email)
    page.get_by_label("Mot de passe").fill(STRONG_PASSWORD)
    page.get_by_role("button", name="Me connecter").click()
    landing = page.get_by_role("heading", level=1, name=re.compile("Mes compteurs|Ma consommation"))
    expect(landing).to_be_visible()
    page.get_by_role("link", name="Ma consommation").click()
    expect(heading(page, "Ma consommation")).to_be_visible()
    page.evaluate("navigator.serviceWorker.ready")
    assert csp_violations(page, page.console_reports) == []
