"""Service-to-service authentication: short-lived HS256 tokens naming the caller and the acting account.

The gateway authenticates people; internal services trust only these tokens, which say which service
calls, for which audience, and on behalf of which account and roles.
"""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import Request
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey

from metro.errors import AppError, Forbidden, Unauthorized, UpstreamError

TOKEN_TTL_SECONDS = 60


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


class ServiceTokens:
    def __init__(self, secret: str, service: str):
        self._key = OctKey.import_key(secret)
        self.service = service

    def issue(self, audience: str, principal: Principal | None = None) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {"iss": self.service, "aud": audience, "iat": now,
                                  "exp": now + TOKEN_TTL_SECONDS}
        if principal and principal.account_id:
            claims["sub"] = str(principal.account_id)
        if principal and principal.roles:
            claims["roles"] = list(principal.roles)
        return jwt.encode({"alg": "HS256"}, claims, self._key)

    def verify(self, token: str) -> Caller:
        try:
            claims = jwt.decode(token, self._key, algorithms=["HS256"]).claims
        except (JoseError, ValueError) as exc:
            raise Unauthorized("invalid service token", code="invalid_service_token") from exc
        if claims.get("aud") != self.service:
            raise Unauthorized("service token for another audience", code="invalid_service_token")
        if int(claims.get("exp", 0)) < time.time():
            raise Unauthorized("service token expired", code="invalid_service_token")
        sub = claims.get("sub")
        return Caller(service=str(claims.get("iss")),
                      principal=Principal(uuid.UUID(sub) if sub else None, tuple(claims.get("roles", ()))))


# The dependencies are coroutines although they do no I/O: FastAPI runs a plain function in its thread pool,
# a hop per request that costs more than the check itself.
async def caller(request: Request) -> Caller:
    """FastAPI dependency for internal routes: the calling service and the account it acts for."""
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("bearer "):
        raise Unauthorized("service token required", code="invalid_service_token")
    return request.app.state.tokens.verify(header[7:])


async def acting_account(request: Request) -> uuid.UUID:
    """For internal routes that act on one account's data: the account named by the token."""
    who = await caller(request)
    if who.principal.account_id is None:
        raise Forbidden("this operation acts for an account", code="account_required")
    return who.principal.account_id


class ServiceClient:
    """HTTP to the other services, with a fresh service token per call; their errors pass through."""

    def __init__(self, tokens: ServiceTokens, urls: dict[str, str], *, timeout: float = 30.0):
        self.tokens = tokens
        self.urls = urls
        # A small pool: httpcore walks every pooled connection (and counts them all again for each one) on each
        # request, so a pool grown to hundreds by a burst made every later call slower. A service serves at most
        # its database pool at once; more connections would only queue there.
        self.http = httpx.AsyncClient(timeout=timeout, limits=httpx.Limits(max_connections=40,
                                                                            max_keepalive_connections=10))

    async def close(self) -> None:
        await self.http.aclose()

    async def send(self, service: str, method: str, path: str, *, principal: Principal | None = None,
                   **kwargs: Any) -> httpx.Response:
        headers = {"authorization": f"Bearer {self.tokens.issue(service, principal)}",
                   **kwargs.pop("headers", {})}
        try:
            response = await self.http.request(method, self.urls[service] + path, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise UpstreamError(f"{service} is unavailable") from exc
        if response.status_code >= 500:
            raise UpstreamError(f"{service} failed ({response.status_code})")
        if response.status_code >= 400:
            try:
                body = response.json()
                raise AppError(body["detail"], code=body["error"], status_code=response.status_code)
            except (ValueError, KeyError, TypeError):
                raise AppError(response.text[:200], status_code=response.status_code) from None
        return response

    async def json(self, service: str, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.send(service, method, path, **kwargs)
        return response.json() if response.content else None

    def stream(self, service: str, method: str, path: str, *, principal: Principal | None = None,
               **kwargs: Any):
        headers = {"authorization": f"Bearer {self.tokens.issue(service, principal)}"}
        return self.http.stream(method, self.urls[service] + path, headers=headers, **kwargs)
