"""Issue 18 item 5: the running services trust a token only from the service whose key signed it, for them,
within its minute, from a caller the route accepts; a compromised connector cannot act as an administrator."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import OKPKey

from devstack.client import admin_user
from metro.service_auth import Principal, ServiceTokens, local_service_keys, local_signing_key

pytestmark = pytest.mark.timeout(600)  # the first test also pays for starting the stack

ADMIN = Principal(uuid.uuid4(), ("admin",))


def b64(data: dict | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def claims(iss: str, aud: str, **extra) -> dict:
    now = int(time.time())
    return {"iss": iss, "aud": aud, "iat": now, "exp": now + 60, "jti": uuid.uuid4().hex, **extra}


def signed_by(signer: str, claims: dict, kid: str | None = None) -> str:
    """What a service holding ``signer``'s key can sign, whatever it claims."""
    return jwt.encode({"alg": "Ed25519", "kid": kid or signer}, claims,
                      OKPKey.import_key(local_signing_key(signer)), algorithms=["Ed25519"])


def ask(stack, service: str, path: str, token: str) -> httpx.Response:
    return httpx.get(stack.url(service) + path, headers={"authorization": f"Bearer {token}"}, timeout=30)


def refused(r: httpx.Response, status: int, code: str) -> bool:
    return r.status_code == status and r.json()["error"] == code


def test_a_compromised_connector_cannot_act_as_an_administrator(stack):
    mismatches = "/internal/admin/address-mismatches"
    # The gateway, acting for an administrator, is served.
    assert ask(stack, "consent", mismatches, ServiceTokens.local("gateway").issue("consent", ADMIN)).status_code == 200
    admin = admin_user(stack.url("gateway"))
    assert admin.get("/admin/address-mismatches").status_code == 200
    admin.close()
    sge_claims = {"sub": str(ADMIN.account_id), "roles": ["admin"]}
    # ingest-sge's own key, honest about who it is, with an administrator's roles.
    r = ask(stack, "consent", mismatches, signed_by("ingest_sge", claims("ingest_sge", "consent", **sge_claims)))
    assert refused(r, 403, "service_roles_forbidden"), r.text
    # Its key, claiming to be the gateway: the gateway's public key does not verify it.
    r = ask(stack, "consent", mismatches,
            signed_by("ingest_sge", claims("gateway", "consent", **sge_claims), kid="gateway"))
    assert refused(r, 401, "invalid_service_token"), r.text
    # Without roles, a route meant for the gateway refuses it.
    r = ask(stack, "consent", "/internal/meters",
            ServiceTokens.local("ingest_sge").issue("consent", Principal(ADMIN.account_id)))
    assert refused(r, 403, "caller_not_allowed"), r.text


def test_tokens_for_another_service_expired_unsigned_or_hmac_signed_are_refused(stack):
    accounts = "/internal/accounts"
    notify = ServiceTokens.local("notify")
    assert ask(stack, "consumption", accounts, notify.issue("consumption")).status_code == 200
    assert refused(ask(stack, "consumption", accounts, notify.issue("consent")), 401, "invalid_service_token")
    past = int(time.time()) - 600
    expired = signed_by("notify", {**claims("notify", "consumption"), "iat": past, "exp": past + 60})
    assert refused(ask(stack, "consumption", accounts, expired), 401, "invalid_service_token")
    unsigned = f"{b64({'alg': 'none', 'kid': 'notify'})}.{b64(claims('notify', 'consumption'))}."
    assert refused(ask(stack, "consumption", accounts, unsigned), 401, "invalid_service_token")
    signing_input = f"{b64({'alg': 'HS256', 'kid': 'notify'})}.{b64(claims('notify', 'consumption'))}"
    mac = hmac.new(local_service_keys()["notify"].encode(), signing_input.encode(), hashlib.sha256).digest()
    assert refused(ask(stack, "consumption", accounts, f"{signing_input}.{b64(mac)}"), 401, "invalid_service_token")
    # The gateway's token is genuine but this route is notify's.
    gateway = ServiceTokens.local("gateway").issue("consumption")
    assert refused(ask(stack, "consumption", accounts, gateway), 403, "caller_not_allowed")
