"""A person using the public API, as the SPA or a script would."""
from __future__ import annotations

import os
import re
import time
import uuid
from email import message_from_bytes, policy

import httpx

STRONG_PASSWORD = "correct horse battery staple"
MAIL_SINK_URL_ENV = "METRO_MAIL_SINK_URL"


class Mailbox:
    """The e-mails the SMTP sink received for one address, through its web page."""

    def __init__(self, sink_url: str | None):
        if not sink_url:
            raise RuntimeError(f"no SMTP sink to read e-mails from: start one (devstack.sandbox_smtp) or set "
                               f"{MAIL_SINK_URL_ENV}")
        self.http = httpx.Client(base_url=sink_url, timeout=30)

    def files(self, to: str) -> list[str]:
        r = self.http.get("/messages", params={"to": to})
        r.raise_for_status()
        return [m["file"] for m in r.json()]

    def text(self, name: str) -> str:
        msg = message_from_bytes(self.http.get(f"/messages/{name}").content, policy=policy.default)
        return msg.get_body(("plain",)).get_content()

    def wait(self, to: str, contains: str, *, ignore: set[str] = frozenset(), timeout: float = 90) -> str:
        """The text of the first new e-mail to ``to`` that contains ``contains``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name in self.files(to):
                if name not in ignore and contains in (text := self.text(name)):
                    return text
            time.sleep(0.3)
        raise AssertionError(f"no e-mail to {to} containing {contains!r} within {timeout}s")

    def token(self, to: str, path: str, **kw) -> str:
        """The token of the link to ``path`` (e.g. /verify-email) in a new e-mail to ``to``."""
        text = self.wait(to, path + "#token=", **kw)
        return re.search(re.escape(path) + r"#token=([\w-]+)", text).group(1)

    def close(self) -> None:
        self.http.close()


class ApiUser:
    def __init__(self, base_url: str, mail_url: str | None = None):
        self.http = httpx.Client(base_url=base_url + "/api/v1", timeout=30)
        self.mail_url = mail_url or os.environ.get(MAIL_SINK_URL_ENV)
        self.email: str | None = None
        self.account: dict | None = None

    def _csrf(self) -> dict[str, str]:
        token = self.http.cookies.get("metro_csrf") or self.http.cookies.get("__Host-metro_csrf")
        return {"x-csrf-token": token} if token else {}

    def mailbox(self) -> Mailbox:
        return Mailbox(self.mail_url)

    def request(self, method: str, path: str, **kwargs) -> httpx.Response:
        headers = {**self._csrf(), **kwargs.pop("headers", {})}
        return self.http.request(method, path, headers=headers, **kwargs)

    def get(self, path: str, **kw) -> httpx.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw) -> httpx.Response:
        return self.request("POST", path, **kw)

    def put(self, path: str, **kw) -> httpx.Response:
        return self.request("PUT", path, **kw)

    def delete(self, path: str, **kw) -> httpx.Response:
        return self.request("DELETE", path, **kw)

    def signup(self, email: str | None = None, password: str = STRONG_PASSWORD,
               verify: bool = True) -> "ApiUser":
        """A new account; with ``verify`` its address is verified the real way, by the link e-mailed to it."""
        self.email = email or f"resident-{uuid.uuid4().hex[:10]}@example.org"
        version = self.http.get("/terms/current").json()["version"]
        r = self.http.post("/auth/signup", json={"email": self.email, "password": password,
                                                 "accepted_terms_version": version})
        assert r.status_code == 201, r.text
        self.account = r.json()
        if verify:
            self.verify_email()
        return self

    def verify_email(self) -> None:
        mailbox = self.mailbox()
        try:
            token = mailbox.token(self.email, "/verify-email")
        finally:
            mailbox.close()
        r = self.post("/auth/email-verification", json={"token": token})
        assert r.status_code == 200, r.text
        self.account = self.get("/me").json()

    def login(self, email: str, password: str = STRONG_PASSWORD) -> httpx.Response:
        r = self.http.post("/auth/login", json={"email": email, "password": password})
        if r.status_code == 200:
            self.email, self.account = email, r.json()
        return r

    def close(self) -> None:
        self.http.close()


ADMIN_EMAIL = "admin@metroenergies.example.org"
ADMIN_PASSWORD = "local-admin-password-change-me"


def admin_user(base_url: str) -> ApiUser:
    admin = ApiUser(base_url)
    r = admin.login(ADMIN_EMAIL, ADMIN_PASSWORD)
    assert r.status_code == 200, r.text
    if r.json()["terms"]["acceptance_required"]:
        admin.post("/me/terms", json={"version": r.json()["terms"]["current_version"]})
    return admin


def random_prm() -> str:
    import random
    return "".join(random.choice("0123456789") for _ in range(14))
