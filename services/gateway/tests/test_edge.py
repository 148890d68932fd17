import datetime as dt

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from gateway.app import Settings
from gateway.edge import SecurityHeaders
from gateway.throttle import LoginThrottle

STRONG = {"admin_password": "a-real-admin-password", "login_key_secret": "a-real-login-key",
          "signing_key": Ed25519PrivateKey.generate().private_bytes(
              serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()}


def app_with_headers(hsts: bool) -> FastAPI:
    app = FastAPI()
    app.get("/")(lambda: {"ok": True})
    app.add_middleware(SecurityHeaders, hsts=hsts)
    return app


@pytest.mark.parametrize("hsts", [True, False])
async def test_hsts_is_sent_outside_local_mode_only(hsts):
    transport = httpx.ASGITransport(app_with_headers(hsts))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        r = await c.get("/")
    assert ("strict-transport-security" in r.headers) is hsts
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]


def test_outside_local_mode_no_proxy_is_trusted_unless_named_and_the_login_key_must_be_set():
    assert Settings(local_mode=False, **STRONG).proxies == []
    assert Settings(local_mode=False, trusted_proxies=["10.0.0.0/8"], **STRONG).proxies == ["10.0.0.0/8"]
    assert Settings().proxies == ["127.0.0.1/32", "::1"]
    with pytest.raises(ValueError, match="login_key_secret"):
        Settings(local_mode=False, **{**STRONG, "login_key_secret": "local-login-key-change-me"})


def test_a_client_address_is_slowed_by_a_doubling_capped_delay_never_refused():
    throttle = LoginThrottle(None, "k", slow_after_per_client=3, delay=dt.timedelta(seconds=1),
                             max_delay=dt.timedelta(seconds=10))
    assert [throttle.delay_after(n) for n in (0, 2, 3, 4, 5, 6, 7, 10_000)] == [0, 0, 1, 2, 4, 8, 10, 10]
    assert throttle.key("account", "a@example.org") != throttle.key("client", "a@example.org")
    assert "a@example.org" not in throttle.key("account", "a@example.org")
