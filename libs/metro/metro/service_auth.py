"""Service-to-service authentication: each service signs short-lived tokens with its own Ed25519 key.

The gateway authenticates people; internal services trust only these tokens. A token names the calling service
(``iss``, and ``kid`` to find its public key), the service it is for (``aud``), its minute of validity and an
id (``jti``), and on behalf of which account (``sub``) it acts. Only the gateway authenticates people, so only
its tokens may carry roles: a compromised connector cannot act as an administrator. Each internal route
declares the services it accepts (``caller("gateway")``); any other gets 403 ``caller_not_allowed``.

Keys: ``signing_key`` (this service's private key, PEM) and ``service_keys`` ({service: public key PEM}) in
its settings; in local mode each service's pair is derived from its name, so nothing needs configuring.
"""
from __future__ import annotations

import functools
import hashlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import aiohttp
import orjson
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import Request
from joserfc import jwt
from joserfc.errors import ExpiredTokenError, InvalidClaimError, JoseError, MissingClaimError
from joserfc.jwk import OKPKey

from metro.errors import AppError, Forbidden, Unauthorized, UpstreamError
from metro.logs import current_request_id
from metro.services import NAMES

if TYPE_CHECKING:
    from metro.settings import ServiceSettings

TOKEN_TTL_SECONDS = 60
# Clock differences between hosts that an iat or exp may show.
CLOCK_LEEWAY_SECONDS = 5
# EdDSA on Ed25519, by the fully-specified name of RFC 9864 (joserfc warns that the polymorphic "EdDSA" is
# deprecated); the only algorithm accepted, so "none", HS256 with a public key as secret, ... never verify.
ALGORITHM = "Ed25519"
# The only service that authenticates people, hence the only one whose tokens may carry their roles.
PEOPLE_ISSUER = "gateway"
_LOCAL_SEED = b"metroenergies local service key, never outside local mode: "


@functools.cache
def local_signing_key(service: str) -> str:
    """The service's private key in local mode (PEM): derived from its name, known to everyone."""
    seed = hashlib.sha256(_LOCAL_SEED + service.encode()).digest()
    return Ed25519PrivateKey.from_private_bytes(seed).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()


def public_key_of(private_pem: str) -> str:
    return OKPKey.import_key(private_pem).as_pem(private=False).decode()


def local_service_keys() -> dict[str, str]:
    """Every service's public key in local mode."""
    return dict(_local_public_keys())


@functools.cache
def _local_public_keys() -> tuple[tuple[str, str], ...]:
    return tuple((name, public_key_of(local_signing_key(name))) for name in NAMES)


def import_ed25519(pem: str, *, private: bool) -> OKPKey:
    """The key, if it is an Ed25519 key of the expected kind; otherwise ValueError saying why."""
    try:
        key = OKPKey.import_key(pem)
    except (JoseError, ValueError, TypeError) as exc:
        raise ValueError(f"not an Ed25519 key in PEM ({type(exc).__name__})") from None
    if key.curve_name != "Ed25519":
        raise ValueError(f"an {key.curve_name} key, not Ed25519")
    if key.is_private != private:
        raise ValueError("a public key where the private key is expected" if private
                         else "a private key where only the public key belongs")
    return key


def is_local_key(pem: str) -> bool:
    """Whether the key (private or public) is one of the local-mode keys, which anyone can derive."""
    public = OKPKey.import_key(pem).as_dict(private=False)["x"]
    return any(OKPKey.import_key(p).as_dict()["x"] == public for _, p in _local_public_keys())


@dataclass(frozen=True)
class Principal:
    """Who a request acts for: an account with roles, or the platform itself (account_id None)."""
    account_id: uuid.UUID | None = None
    roles: tuple[str, ...] = field(default=())

    def has(self, role: str) -> bool:
        return role in self.roles


@dataclass(frozen=True)
class Caller:
    service: str
    principal: Principal


class _UnknownIssuer(Exception):
    pass


class ServiceTokens:
    """Issues this service's tokens and verifies those of the services it accepts (``trusted``: name -> PEM)."""

    def __init__(self, service: str, signing_key: str, trusted: dict[str, str]):
        self.service = service
        self._key = import_ed25519(signing_key, private=True)
        self._header = {"alg": ALGORITHM, "typ": "JWT", "kid": service}
        self._trusted = {name: import_ed25519(pem, private=False) for name, pem in trusted.items()}
        # Per issuer: its own name in iss (the kid picked its key), this service in aud, and every claim there.
        self._rules = {name: jwt.JWTClaimsRegistry(
            leeway=CLOCK_LEEWAY_SECONDS, iss={"essential": True, "value": name},
            aud={"essential": True, "value": service}, iat={"essential": True}, exp={"essential": True},
            jti={"essential": True}) for name in self._trusted}

    @classmethod
    def of(cls, service: str, settings: ServiceSettings) -> ServiceTokens:
        """The service's keys from its settings; in local mode, its derived ones where none is set."""
        local = settings.local_mode
        signing_key = settings.signing_key or (local_signing_key(service) if local else "")
        return cls(service, signing_key, settings.service_keys or (local_service_keys() if local else {}))

    @classmethod
    def local(cls, service: str) -> ServiceTokens:
        """The service's tokens in local mode, e.g. for a test or a bench speaking as that service."""
        return cls(service, local_signing_key(service), local_service_keys())

    def issue(self, audience: str, principal: Principal | None = None) -> str:
        if principal and principal.roles and self.service != PEOPLE_ISSUER:
            raise ValueError(f"{self.service} authenticates nobody: it cannot act with roles")
        now = int(time.time())
        claims: dict[str, Any] = {"iss": self.service, "aud": audience, "iat": now,
                                  "exp": now + TOKEN_TTL_SECONDS, "jti": uuid.uuid4().hex}
        if principal and principal.account_id:
            claims["sub"] = str(principal.account_id)
        if principal and principal.roles:
            claims["roles"] = list(principal.roles)
        return jwt.encode(self._header, claims, self._key, algorithms=[ALGORITHM])

    def _issuer_key(self, token: Any) -> OKPKey:
        kid = token.headers().get("kid")
        if kid not in self._trusted:
            raise _UnknownIssuer(str(kid)[:40])
        return self._trusted[kid]

    def verify(self, token: str) -> Caller:
        try:
            decoded = jwt.decode(token, self._issuer_key, algorithms=[ALGORITHM])
        except _UnknownIssuer as exc:
            raise Unauthorized(f"service token from a service not accepted here ({exc})",
                               code="invalid_service_token") from None
        except (JoseError, ValueError, TypeError) as exc:
            raise Unauthorized(f"invalid service token ({type(exc).__name__})", code="invalid_service_token") from None
        claims = decoded.claims
        try:
            self._rules[decoded.header["kid"]].validate(claims)
        except ExpiredTokenError:
            raise Unauthorized("service token expired", code="invalid_service_token") from None
        except (InvalidClaimError, MissingClaimError) as exc:
            raise Unauthorized(f"service token rejected: {exc.description}", code="invalid_service_token") from None
        if claims["exp"] - claims["iat"] > TOKEN_TTL_SECONDS:
            raise Unauthorized("service token lives longer than allowed", code="invalid_service_token")
        roles, sub = claims.get("roles", []), claims.get("sub")
        if not isinstance(roles, list):
            raise Unauthorized("service token with malformed roles", code="invalid_service_token")
        if roles and claims["iss"] != PEOPLE_ISSUER:
            raise Forbidden(f"{claims['iss']} authenticates nobody: its tokens carry no roles",
                            code="service_roles_forbidden")
        try:
            principal = Principal(uuid.UUID(sub) if sub else None, tuple(str(r) for r in roles))
        except (ValueError, TypeError, AttributeError):
            raise Unauthorized("service token with a malformed subject", code="invalid_service_token") from None
        return Caller(service=claims["iss"], principal=principal)


def _bearer(request: Request) -> Caller:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("bearer "):
        raise Unauthorized("service token required", code="invalid_service_token")
    return request.app.state.tokens.verify(header[7:])


def caller(*allowed: str) -> Callable[[Request], Awaitable[Caller]]:
    """FastAPI dependency for an internal route: the calling service, which must be one of ``allowed``, and
    the account it acts for. Every internal route declares its callers this way (or with acting_account)."""
    if not allowed or not set(allowed) <= set(NAMES):
        raise ValueError(f"callers must be services among {NAMES}: {allowed}")
    accepted = frozenset(allowed)

    # A coroutine although it does no I/O: FastAPI runs a plain function in its thread pool, a hop per
    # request that costs more than the check itself.
    async def accepted_caller(request: Request) -> Caller:
        who = _bearer(request)
        if who.service not in accepted:
            raise Forbidden(f"{who.service} may not call this route", code="caller_not_allowed")
        return who

    accepted_caller.allowed = accepted  # type: ignore[attr-defined]
    return accepted_caller


def acting_account(*allowed: str) -> Callable[[Request], Awaitable[uuid.UUID]]:
    """For internal routes that act on one account's data: the account named by the token of an allowed
    caller."""
    check = caller(*allowed)

    async def account(request: Request) -> uuid.UUID:
        who = await check(request)
        if who.principal.account_id is None:
            raise Forbidden("this operation acts for an account", code="account_required")
        return who.principal.account_id

    account.allowed = check.allowed  # type: ignore[attr-defined]
    return account


@dataclass(frozen=True)
class ServiceReply:
    status_code: int
    content: bytes

    def json(self) -> Any:
        return orjson.loads(self.content) if self.content else None


class ServiceStream:
    """A streamed answer: its status and its body line by line."""

    def __init__(self, response: aiohttp.ClientResponse):
        self.status_code = response.status
        self._response = response

    async def lines(self) -> AsyncIterator[bytes]:
        async for line in self._response.content:
            if line := line.strip():
                yield line

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body as it arrives, unchanged (a document passed on as it is)."""
        async for chunk in self._response.content.iter_any():
            yield chunk

    async def read(self) -> bytes:
        return await self._response.read()


class ServiceClient:
    """HTTP to the other services, with a fresh service token per call; their errors pass through.

    aiohttp rather than httpx (which the DSO clients use): every public request crosses this client, and here it
    spends a third to a half of httpx's CPU per call (bench/api_latency.py's load generator measured both), and its
    pool stays cheap however many connections a burst opened (httpcore walks every pooled connection per call)."""

    def __init__(self, tokens: ServiceTokens, urls: dict[str, str], *, timeout: float = 30.0):
        self.tokens = tokens
        self.urls = urls
        # Per step, as httpx counts it, not for the whole exchange: an export streams for as long as it needs.
        self.timeout = aiohttp.ClientTimeout(total=None, sock_connect=timeout, sock_read=timeout)
        self._http: aiohttp.ClientSession | None = None

    @property
    def http(self) -> aiohttp.ClientSession:
        """Opened on first use, inside the running event loop."""
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=self.timeout, cookie_jar=aiohttp.DummyCookieJar(),
                                               connector=aiohttp.TCPConnector(limit=100))
        return self._http

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()

    def _request(self, service: str, method: str, path: str, principal: Principal | None, kwargs: dict[str, Any]):
        headers = {"authorization": f"Bearer {self.tokens.issue(service, principal)}", **kwargs.pop("headers", {})}
        if request_id := current_request_id():
            headers.setdefault("x-request-id", request_id)
        if "content" in kwargs:
            kwargs["data"] = kwargs.pop("content")
        return self.http.request(method, self.urls[service] + path, headers=headers, **kwargs)

    async def send(self, service: str, method: str, path: str, *, principal: Principal | None = None,
                   **kwargs: Any) -> ServiceReply:
        try:
            async with self._request(service, method, path, principal, kwargs) as response:
                reply = ServiceReply(response.status, await response.read())
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise UpstreamError(f"{service} is unavailable") from exc
        if reply.status_code >= 500:
            raise UpstreamError(f"{service} failed ({reply.status_code})")
        if reply.status_code >= 400:
            try:
                body = reply.json()
                raise AppError(body["detail"], code=body["error"], status_code=reply.status_code)
            except (ValueError, KeyError, TypeError):
                raise AppError(reply.content[:200].decode("utf-8", "replace"),
                               status_code=reply.status_code) from None
        return reply

    async def json(self, service: str, method: str, path: str, **kwargs: Any) -> Any:
        return (await self.send(service, method, path, **kwargs)).json()

    @asynccontextmanager
    async def stream(self, service: str, method: str, path: str, *, principal: Principal | None = None,
                     **kwargs: Any) -> AsyncIterator[ServiceStream]:
        try:
            async with self._request(service, method, path, principal, kwargs) as response:
                yield ServiceStream(response)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise UpstreamError(f"{service} is unavailable") from exc
