"""Service identity: each service signs with its own Ed25519 key, tokens name issuer and audience, each internal
route accepts only the callers it declares, and only the gateway's tokens carry people's roles."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Annotated

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import OKPKey

from metro.errors import install_error_handlers
from metro.service_auth import (Caller, Principal, ServiceTokens, acting_account, caller, local_service_keys,
                                local_signing_key)

ADMIN = Principal(uuid.uuid4(), ("admin",))


def app_of(service: str = "consent") -> TestClient:
    """A service with two internal routes: one for the gateway, one for ingest-grdf."""
    app = FastAPI()
    install_error_handlers(app)
    app.state.tokens = ServiceTokens.local(service)

    @app.get("/internal/gateway-only")
    async def gateway_only(who: Annotated[Caller, Depends(caller("gateway"))]):
        return {"service": who.service, "account": str(who.principal.account_id), "roles": who.principal.roles}

    @app.get("/internal/from-grdf")
    async def from_grdf(_: Annotated[Caller, Depends(caller("ingest_grdf"))]):
        return {}

    @app.get("/internal/mine")
    async def mine(account: Annotated[uuid.UUID, Depends(acting_account("gateway"))]):
        return {"account": str(account)}

    return TestClient(app)


def call(client: TestClient, token: str, path: str = "/internal/gateway-only"):
    return client.get(path, headers={"authorization": f"Bearer {token}"})


def b64(data: dict | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def claims(iss: str = "gateway", aud: str = "consent", **extra) -> dict:
    now = int(time.time())
    return {"iss": iss, "aud": aud, "iat": now, "exp": now + 60, "jti": uuid.uuid4().hex, **extra}


def signed(claims: dict, signer: str = "gateway", kid: str | None = None, alg: str = "Ed25519") -> str:
    """A token signed with ``signer``'s local key, whatever it claims."""
    return jwt.encode({"alg": alg, "kid": kid or signer}, claims, OKPKey.import_key(local_signing_key(signer)),
                      algorithms=[alg])


def refused(response, status: int, code: str, detail: str = "") -> bool:
    body = response.json()
    return response.status_code == status and body["error"] == code and detail in body["detail"]


def test_a_gateway_token_reaches_a_gateway_route_with_its_account_and_roles():
    token = ServiceTokens.local("gateway").issue("consent", ADMIN)
    r = call(app_of(), token)
    assert r.status_code == 200, r.text
    assert r.json() == {"service": "gateway", "account": str(ADMIN.account_id), "roles": ["admin"]}
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    payload = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert header == {"alg": "Ed25519", "typ": "JWT", "kid": "gateway"}
    assert payload["iss"] == "gateway" and payload["aud"] == "consent" and len(payload["jti"]) == 32
    assert payload["exp"] - payload["iat"] == 60


def test_each_token_has_its_own_id():
    tokens = ServiceTokens.local("gateway")
    ids = {json.loads(base64.urlsafe_b64decode(tokens.issue("consent").split(".")[1] + "=="))["jti"]
           for _ in range(3)}
    assert len(ids) == 3


def test_a_caller_the_route_does_not_declare_is_forbidden():
    grdf = ServiceTokens.local("ingest_grdf").issue("consent")
    assert refused(call(app_of(), grdf), 403, "caller_not_allowed", "ingest_grdf may not call this route")
    assert call(app_of(), grdf, "/internal/from-grdf").status_code == 200
    gateway = ServiceTokens.local("gateway").issue("consent")
    assert refused(call(app_of(), gateway, "/internal/from-grdf"), 403, "caller_not_allowed")


def test_no_token_or_a_malformed_one_is_unauthorized():
    client = app_of()
    assert refused(client.get("/internal/gateway-only"), 401, "invalid_service_token", "required")
    assert refused(call(client, "not-a-token"), 401, "invalid_service_token")


def test_a_token_for_another_audience_is_refused():
    token = ServiceTokens.local("gateway").issue("consumption", ADMIN)
    assert refused(call(app_of("consent"), token), 401, "invalid_service_token", "'aud'")


def test_an_expired_token_is_refused():
    past = int(time.time()) - 120
    token = signed(claims(iat=past, exp=past + 60))
    assert refused(call(app_of(), token), 401, "invalid_service_token", "expired")


def test_a_token_living_longer_than_a_minute_is_refused():
    now = int(time.time())
    token = signed(claims(iat=now, exp=now + 3600))
    assert refused(call(app_of(), token), 401, "invalid_service_token", "longer")


@pytest.mark.parametrize("missing", ["iss", "aud", "iat", "exp", "jti"])
def test_a_token_without_a_required_claim_is_refused(missing):
    body = claims()
    del body[missing]
    assert refused(call(app_of(), signed(body)), 401, "invalid_service_token")


def test_an_issuer_the_service_does_not_know_is_refused():
    tokens = ServiceTokens("gateway", local_signing_key("gateway"), local_service_keys())
    consent = FastAPI()
    install_error_handlers(consent)
    consent.state.tokens = ServiceTokens("consent", local_signing_key("consent"),
                                         {"ingest_grdf": local_service_keys()["ingest_grdf"]})

    @consent.get("/internal/gateway-only")
    async def route(_: Annotated[Caller, Depends(caller("gateway"))]):
        return {}

    r = call(TestClient(consent), tokens.issue("consent"))
    assert refused(r, 401, "invalid_service_token", "not accepted here (gateway)")
    assert refused(call(app_of(), signed(claims(iss="nobody"), kid="nobody")), 401, "invalid_service_token",
                   "not accepted here (nobody)")


def test_an_unsigned_token_is_refused():
    token = f"{b64({'alg': 'none', 'kid': 'gateway'})}.{b64(claims())}."
    assert refused(call(app_of(), token), 401, "invalid_service_token")


def test_hs256_signed_with_the_gateways_public_key_as_secret_is_refused():
    # Built by hand: joserfc itself refuses a PEM public key as an HMAC secret.
    signing_input = f"{b64({'alg': 'HS256', 'kid': 'gateway'})}.{b64(claims(roles=['admin']))}"
    mac = hmac.new(local_service_keys()["gateway"].encode(), signing_input.encode(), hashlib.sha256).digest()
    token = f"{signing_input}.{b64(mac)}"
    assert refused(call(app_of(), token), 401, "invalid_service_token")


def test_the_deprecated_eddsa_name_is_not_accepted_either():
    with pytest.warns(Warning):
        token = signed(claims(), alg="EdDSA")
    assert refused(call(app_of(), token), 401, "invalid_service_token")


def test_a_service_signing_with_its_own_key_while_claiming_to_be_the_gateway_is_refused():
    forged = signed(claims(iss="gateway", sub=str(ADMIN.account_id), roles=["admin"]), signer="ingest_sge",
                    kid="gateway")
    assert refused(call(app_of(), forged), 401, "invalid_service_token", "BadSignatureError")
    # Its own kid with the gateway's name in iss: the signature is its own, the claim is not.
    forged = signed(claims(iss="gateway", roles=["admin"]), signer="ingest_sge")
    assert refused(call(app_of(), forged), 401, "invalid_service_token", "'iss'")


def test_only_the_gateway_may_act_with_roles():
    with pytest.raises(ValueError, match="cannot act with roles"):
        ServiceTokens.local("ingest_sge").issue("consent", ADMIN)
    client = app_of()
    # A token that names ingest-sge honestly but carries an administrator's roles: refused whatever the route.
    forged = signed(claims(iss="ingest_sge", sub=str(ADMIN.account_id), roles=["admin"]), signer="ingest_sge")
    assert refused(call(client, forged, "/internal/from-grdf"), 403, "service_roles_forbidden")
    grdf = signed(claims(iss="ingest_grdf", roles=["reader:all"]), signer="ingest_grdf")
    assert refused(call(client, grdf, "/internal/from-grdf"), 403, "service_roles_forbidden")


def test_another_service_may_act_for_one_account_without_roles():
    notify = ServiceTokens.local("notify")
    account = uuid.uuid4()
    assert ServiceTokens.local("consumption").verify(notify.issue("consumption", Principal(account))) == \
        Caller("notify", Principal(account, ()))


def test_a_route_acting_for_an_account_needs_one_and_an_allowed_caller():
    client = app_of()
    account = uuid.uuid4()
    gateway = ServiceTokens.local("gateway")
    assert call(client, gateway.issue("consent", Principal(account)), "/internal/mine").json() == \
        {"account": str(account)}
    assert refused(call(client, gateway.issue("consent"), "/internal/mine"), 403, "account_required")
    notify = ServiceTokens.local("notify").issue("consent", Principal(account))
    assert refused(call(client, notify, "/internal/mine"), 403, "caller_not_allowed")


def test_a_route_declares_real_services():
    with pytest.raises(ValueError, match="callers must be services"):
        caller("gatway")
    with pytest.raises(ValueError, match="callers must be services"):
        caller()


def test_each_service_has_its_own_local_key():
    keys = local_service_keys()
    assert len(set(keys.values())) == len(keys) and "gateway" in keys and "ingest_sge" in keys
    assert local_signing_key("gateway") == local_signing_key("gateway")
