"""Who is calling: a session cookie (with CSRF protection) or a bearer token, and what they may do."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from gateway import service
from metro.errors import AppError, Forbidden, Unauthorized
from metro.service_auth import Principal

SESSION_COOKIE = "metro_session"
CSRF_COOKIE = "metro_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}

cookie_scheme = APIKeyCookie(name=SESSION_COOKIE, auto_error=False)
bearer_scheme = HTTPBearer(auto_error=False)


@dataclass(frozen=True)
class Identity:
    account_id: uuid.UUID
    email: str
    roles: tuple[str, ...]
    via: str
    terms_ok: bool
    token: str

    @property
    def principal(self) -> Principal:
        return Principal(self.account_id, self.roles)

    def has(self, role: str) -> bool:
        return role in self.roles


async def identity(request: Request, cookie: Annotated[str | None, Depends(cookie_scheme)],
                   bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]) -> Identity:
    if bearer is not None:
        token, via = bearer.credentials, "bearer"
    elif cookie:
        token, via = cookie, "cookie"
    else:
        raise Unauthorized("you are not logged in", code="not_authenticated")
    # Every request's first step: one statement outside any transaction (no BEGIN and ROLLBACK around it).
    async with request.app.state.db.reader() as session:
        row = await service.resolve_session(session, token)
    if via == "cookie" and request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER)
        if not sent or sent != row.csrf_token:
            raise Forbidden("missing or wrong CSRF token", code="csrf_failed")
    return Identity(row.id, row.email, tuple(row.roles), via, bool(row.terms_ok), token)


# The rights that must always work (export, deletion, logout, reading the terms) need this only.
Authenticated = Annotated[Identity, Depends(identity)]


async def user(who: Authenticated) -> Identity:
    """Every other data operation needs the current terms of use accepted."""
    if not who.terms_ok:
        raise AppError("the terms of use have changed: accept the new version to continue",
                       code="terms_acceptance_required", status_code=403)
    return who


User = Annotated[Identity, Depends(user)]


def require_role(*roles: str):
    async def check(who: User) -> Identity:
        if not any(who.has(r) for r in roles):
            raise Forbidden("your role does not allow this", code="forbidden_role")
        return who
    return check


Admin = Annotated[Identity, Depends(require_role("admin"))]
