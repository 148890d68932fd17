"""What a resident's browser does at the Enedis consent page: open it, tick the meter, press a button."""
from __future__ import annotations

import re
from html.parser import HTMLParser

import httpx


class _Form(HTMLParser):
    def __init__(self):
        super().__init__()
        self.fields: dict[str, list[str]] = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("name") and (a.get("type") not in ("checkbox", "radio") or "checked" in a):
            self.fields.setdefault(a["name"], []).append(a.get("value", ""))


def create_customer(sandbox_url: str, prm: str, *, street="5 place Grenette", insee="38185", postal="38000",
                    profile: str = "electric_heating") -> str:
    r = httpx.post(f"{sandbox_url}/_sandbox/customers", json={
        "prms": [prm], "consent": False, "profile": profile,
        "address": {"street": street, "postal_code": postal, "insee_code": insee, "city": "Grenoble"}})
    assert r.status_code in (200, 201), r.text
    return r.json()["customer_id"]


def consent_at_dso(sandbox_url: str, authorize_url: str, customer_id: str, decision: str = "accept") -> httpx.Response:
    with httpx.Client(base_url=sandbox_url) as dso:
        dso.put("/_sandbox/session", json={"customer_id": customer_id})
        page = dso.get(authorize_url)
        assert page.status_code == 200, page.text[:300]
        form = _Form()
        form.feed(page.text)
        action = re.search(r'<form[^>]*id="consent"[^>]*action="([^"]+)"', page.text).group(1)
        data = {k: vs for k, vs in form.fields.items() if k != "decision"}
        data["decision"] = decision
        return dso.post(action, data=data)
