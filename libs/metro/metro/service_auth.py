"""Service-to-service authentication: short-lived HS256 tokens naming the caller and the acting account.

The gateway authenticates people; internal services trust only these tokens, which say which service
calls, for which audience, and on behalf of which account and roles.
"""
from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson
from fastapi import Request
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey

from metro.errors import AppError, Forbidden, Unauthorized, UpstreamError
from metro.logs import current_request_id

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
