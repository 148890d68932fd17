"""Who is calling: a session cookie (with CSRF protection) or a bearer token, and what they may do."""
from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from gateway import service
from metro.errors import AppError, Forbidden, Unauthorized
from metro.service_auth import Principal

SESSION_COOKIE = "metro_session"
CSRF_COOKIE = "metro_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# Outside local mode the cookies are `__Host-` ones: the browser keeps them only if Secure, for Path=/ and
# without Domain, so a neighbouring subdomain can neither read nor plant them.
HOST_PREFIX = "__Host-"

cookie_scheme = APIKeyCookie(name=HOST_PREFIX + SESSION_COOKIE, auto_error=False,
                             description=f"`{SESSION_COOKIE}` in local mode (plain HTTP)")
bearer_scheme = HTTPBearer(auto_error=False)


def cookie_names(local_mode: bool) -> tuple[str, str]:
    """(session cookie, CSRF cookie)."""
    prefix = "" if local_mode else HOST_PREFIX
    return prefix + SESSION_COOKIE, prefix + CSRF_COOKIE


def set_session_cookies(request: Request, response: Response, token: str, csrf: str,
                        expires: dt.datetime) -> None:
    local = request.app.state.settings.local_mode
    session_name, csrf_name = cookie_names(local)
    max_age = int((expires - dt.datetime.now(dt.UTC)).total_seconds())
    response.set_cookie(session_name, token, max_age=max_age, httponly=True, secure=not local, samesite="lax",
                        path="/")
    # Readable by the SPA, which echoes it in X-CSRF-Token (double submit bound to the session).
    response.set_cookie(csrf_name, csrf, max_age=max_age, httponly=False, secure=not local, samesite="lax",
                        path="/")


def clear_session_cookies(request: Request, response: Response) -> None:
    local = request.app.state.settings.local_mode
    for name in cookie_names(local):
        response.delete_cookie(name, path="/", secure=not local, samesite="lax")


@dataclass(frozen=True)
class Identity:
    account_id: uuid.UUID
    email: str
    roles: tuple[str, ...]
    via: str
    terms_ok: bool
    token: str
    email_verified: bool

    @property
    def principal(self) -> Principal:
        return Principal(self.account_id, self.roles)

    def has(self, role: str) -> bool:
        return role in self.roles


async def identity(request: Request, _: Annotated[str | None, Depends(cookie_scheme)],
                   bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]) -> Identity:
    settings = request.app.state.settings
    cookie = request.cookies.get(cookie_names(settings.local_mode)[0])
    if bearer is not None:
        token, via = bearer.credentials, "bearer"
    elif cookie:
        token, via = cookie, "cookie"
    else:
        raise Unauthorized("you are not logged in", code="not_authenticated")
    # Every request's first step: one statement outside any transaction (no BEGIN and ROLLBACK around it).
    async with request.app.state.db.reader() as session:
        row = await service.resolve_session(session, token, settings.session_idle_timeout)
    if via == "cookie" and request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER)
        if not sent or sent != row.csrf_token:
            raise Forbidden("missing or wrong CSRF token", code="csrf_failed")
    return Identity(row.id, row.email, tuple(row.roles), via, bool(row.terms_ok), token,
                    row.email_verified_at is not None)


# The rights that must always work (export, deletion, logout, reading the terms) need this only.
Authenticated = Annotated[Identity, Depends(identity)]


async def user(who: Authenticated) -> Identity:
    """Every other data operation needs the current terms of use accepted."""
    if not who.terms_ok:
        raise AppError("the terms of use have changed: accept the new version to continue",
                       code="terms_acceptance_required", status_code=403)
    return who


User = Annotated[Identity, Depends(user)]


async def verified_user(who: User) -> Identity:
    """Asking a DSO for someone's data needs an address shown to be the account holder's."""
    if not who.email_verified:
        raise Forbidden("confirm your e-mail address first (follow the link we sent you)",
                        code="email_not_verified")
    return who


VerifiedUser = Annotated[Identity, Depends(verified_user)]


def require_role(*roles: str):
    async def check(who: User) -> Identity:
        if not any(who.has(r) for r in roles):
            raise Forbidden("your role does not allow this", code="forbidden_role")
        return who
    return check


Admin = Annotated[Identity, Depends(require_role("admin"))]
