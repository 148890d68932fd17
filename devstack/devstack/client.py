"""A person using the public API, as the SPA or a script would."""
from __future__ import annotations

import uuid

import httpx

STRONG_PASSWORD = "correct horse battery staple"


class ApiUser:
    def __init__(self, base_url: str):
        self.http = httpx.Client(base_url=base_url + "/api/v1", timeout=30)
        self.email: str | None = None
        self.account: dict | None = None

    def _csrf(self) -> dict[str, str]:
        token = self.http.cookies.get("metro_csrf")
        return {"x-csrf-token": token} if token else {}

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

    def signup(self, email: str | None = None, password: str = STRONG_PASSWORD) -> "ApiUser":
        self.email = email or f"resident-{uuid.uuid4().hex[:10]}@example.org"
        version = self.http.get("/terms/current").json()["version"]
        r = self.http.post("/auth/signup", json={"email": self.email, "password": password,
                                                 "accepted_terms_version": version})
        assert r.status_code == 201, r.text
        self.account = r.json()
        return self

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
