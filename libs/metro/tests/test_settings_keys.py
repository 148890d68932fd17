"""Outside local mode a service starts only with its own Ed25519 key and real public keys of the services it
accepts: no missing, short, local or wrong-type key."""
from __future__ import annotations

import json

import pytest
from joserfc.jwk import ECKey, OKPKey, RSAKey
from pydantic import ValidationError
from pydantic_settings import SettingsConfigDict

from metro.service_auth import ServiceTokens, local_service_keys, local_signing_key
from metro.settings import ServiceSettings


class ConsentSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="METRO_TESTKEYS_", extra="ignore")


def pair() -> tuple[str, str]:
    key = OKPKey.generate_key("Ed25519")
    return key.as_pem(private=True).decode(), key.as_pem(private=False).decode()


def production(**kwargs) -> ConsentSettings:
    return ConsentSettings(local_mode=False, **kwargs)


def test_a_service_with_its_own_key_and_its_callers_public_keys_starts():
    private, _ = pair()
    _, gateway_public = pair()
    settings = production(signing_key=private, service_keys={"gateway": gateway_public})
    tokens = ServiceTokens.of("consent", settings)
    assert tokens.service == "consent"


def test_keys_come_from_the_environment_as_pem_and_json(monkeypatch):
    private, _ = pair()
    gateway_private, gateway_public = pair()
    monkeypatch.setenv("METRO_TESTKEYS_LOCAL_MODE", "false")
    monkeypatch.setenv("METRO_TESTKEYS_SIGNING_KEY", private)
    monkeypatch.setenv("METRO_TESTKEYS_SERVICE_KEYS", json.dumps({"gateway": gateway_public}))
    tokens = ServiceTokens.of("consent", ConsentSettings())
    assert tokens.verify(ServiceTokens("gateway", gateway_private, {}).issue("consent")).service == "gateway"


def test_a_missing_signing_key_is_refused_outside_local_mode():
    with pytest.raises(ValidationError, match="signing_key .* is required outside local mode"):
        production()


def test_a_local_key_is_refused_outside_local_mode():
    with pytest.raises(ValidationError, match="signing_key is a local-mode key"):
        production(signing_key=local_signing_key("consent"))
    # Another service's local key is as public.
    with pytest.raises(ValidationError, match="signing_key is a local-mode key"):
        production(signing_key=local_signing_key("gateway"))
    with pytest.raises(ValidationError, match=r"service_keys\[gateway\] is a local-mode key"):
        production(signing_key=pair()[0], service_keys={"gateway": local_service_keys()["gateway"]})


@pytest.mark.parametrize("key", [
    "short",
    "a-real-secret-0123456789abcdef0123456789",
    "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIDEx\n-----END PRIVATE KEY-----\n",
    RSAKey.generate_key(2048).as_pem(private=True).decode(),
    ECKey.generate_key("P-256").as_pem(private=True).decode(),
    OKPKey.generate_key("Ed448").as_pem(private=True).decode(),
], ids=["short", "hs256-secret", "truncated", "rsa", "p256", "ed448"])
def test_a_signing_key_that_is_not_ed25519_is_refused(key):
    with pytest.raises(ValidationError, match="signing_key: (not an Ed25519 key|an Ed448 key)"):
        production(signing_key=key)


def test_a_public_key_cannot_sign_nor_a_private_key_be_shared():
    private, public = pair()
    with pytest.raises(ValidationError, match="a public key where the private key is expected"):
        production(signing_key=public)
    with pytest.raises(ValidationError, match=r"service_keys\[gateway\]: a private key where only the public"):
        production(signing_key=private, service_keys={"gateway": pair()[0]})


def test_a_public_key_of_an_unknown_service_is_refused():
    with pytest.raises(ValidationError, match="unknown service 'gatway'"):
        production(signing_key=pair()[0], service_keys={"gatway": pair()[1]})


def test_local_mode_runs_with_each_services_derived_key():
    settings = ConsentSettings()
    gateway = ServiceTokens.of("gateway", settings)
    consent = ServiceTokens.of("consent", settings)
    assert consent.verify(gateway.issue("consent")).service == "gateway"
    assert ServiceTokens.of("consent", settings).verify(ServiceTokens.local("notify").issue("consent")).service == \
        "notify"
