"""E-mail addresses: the schema's "email" format admits special-use domains that never receive mail; the API
refuses them under a code of its own (the fuzzing found them as undocumented 422s)."""
from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from gateway.schemas import Login
from metro.errors import install_error_handlers


@pytest.fixture
def app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/login")
    async def login(body: Login):
        return {"email": body.email}
    return app


@pytest.mark.parametrize("address, status, answer", [
    ("resident@example.org", 200, "resident@example.org"),
    ("x@nx.test", 422, "undeliverable_email"),
    ("someone@printer.local", 422, "undeliverable_email"),
    ("root@localhost", 422, "undeliverable_email"),
    ("no-at-sign", 422, "invalid_field"),
])
async def test_an_address_at_a_special_use_domain_is_refused_with_its_own_code(app, address, status, answer):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        r = await client.post("/login", json={"email": address, "password": "x"})
    assert r.status_code == status
    assert (r.json()["email"] if status == 200 else r.json()["error"]) == answer
