"""Identity and terms-of-use operations of the public API."""
from __future__ import annotations

import datetime as dt
import uuid

from fastapi import APIRouter, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from gateway import repository, service
from gateway.auth import CSRF_COOKIE, SESSION_COOKIE, Admin, Authenticated
from gateway.schemas import (Account, Login, RoleUpdate, Signup, Terms, TermsAcceptance, TermsPublication, TokenIssued,
                             TokenRequest)
from metro.db import DbSession
from metro.errors import AppError, Conflict, NotFound, TooManyRequests, Unauthorized, error_responses

router = APIRouter(prefix="/api/v1", tags=["identity"])
# Committed before the response leaves (a yield dependency's default is after it): the client acts on the
# answer at once, e.g. with the session cookie it carries, and must find what the request wrote.
Session = DbSession


def _settings(request: Request):
    return request.app.state.settings


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _set_session_cookies(request: Request, response: Response, token: str, csrf: str, expires: dt.datetime):
    secure = not _settings(request).local_mode
    max_age = int((expires - dt.datetime.now(dt.UTC)).total_seconds())
    response.set_cookie(SESSION_COOKIE, token, max_age=max_age, httponly=True, secure=secure, samesite="lax",
                        path="/")
    # Readable by the SPA, which echoes it in X-CSRF-Token (double submit bound to the session).
    response.set_cookie(CSRF_COOKIE, csrf, max_age=max_age, httponly=False, secure=secure, samesite="lax",
                        path="/")


async def _login(request: Request, session: AsyncSession, email: str, password: str):
    throttle = request.app.state.runtime.extras["throttle"]
    row = await service.authenticate(session, throttle, email, password, _client(request))
    if row is None:
        # The failure must be counted although the request fails: commit it on its own.
        async with request.app.state.db.session() as s, s.begin():
            await repository.record_login_failure(s, throttle.keys(email, _client(request)))
        raise Unauthorized("wrong e-mail or password", code="invalid_credentials")
    return row


@router.post("/auth/signup", response_model=Account, status_code=201,
             responses=error_responses(Conflict, AppError))
async def signup(body: Signup, request: Request, response: Response, session: Session):
    """422 `weak_password` for a password under 12 characters, with fewer than 5 different characters or equal to
    the e-mail address; `terms_version_mismatch` unless the terms accepted are those in force."""
    account_id = await service.signup(session, body)
    token, csrf, expires = await service.open_session(session, account_id, "cookie",
                                                      _settings(request).session_lifetime)
    _set_session_cookies(request, response, token, csrf, expires)
    return await service.account_view(session, await repository.account_by_id(session, account_id))


@router.post("/auth/login", response_model=Account, responses=error_responses(Unauthorized, TooManyRequests))
async def login(body: Login, request: Request, response: Response, session: Session):
    row = await _login(request, session, body.email, body.password)
    token, csrf, expires = await service.open_session(session, row.id, "cookie",
                                                      _settings(request).session_lifetime)
    _set_session_cookies(request, response, token, csrf, expires)
    return await service.account_view(session, row)


@router.post("/auth/tokens", response_model=TokenIssued, status_code=201,
             responses=error_responses(Unauthorized, TooManyRequests))
async def create_token(body: TokenRequest, request: Request, session: Session):
    """A bearer token for scripts (`Authorization: Bearer <token>`), with the same rights as the account."""
    row = await _login(request, session, body.email, body.password)
    token, _, expires = await service.open_session(session, row.id, "bearer", _settings(request).token_lifetime,
                                                   name=body.name)
    return TokenIssued(token=token, expires_at=expires)


@router.post("/auth/logout", status_code=204)
async def logout(who: Authenticated, response: Response, session: Session):
    await repository.delete_session(session, service.token_hash(who.token))
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")


@router.get("/me", response_model=Account, responses=error_responses(Unauthorized))
async def me(who: Authenticated, session: Session):
    return await service.account_view(session, await repository.account_by_id(session, who.account_id))


@router.post("/me/terms", response_model=Account)
async def accept_terms(body: TermsAcceptance, who: Authenticated, session: Session):
    """422 `terms_version_mismatch` unless the version is the one in force (`GET /terms/current`)."""
    current = await service.current_terms(session)
    if body.version != current.version:
        raise AppError(f"the current terms of use are version {current.version}",
                       code="terms_version_mismatch", status_code=422)
    await repository.accept_terms(session, who.account_id, current.version)
    return await service.account_view(session, await repository.account_by_id(session, who.account_id))


@router.get("/terms/current", response_model=Terms)
async def terms(session: Session):
    return await service.current_terms(session)


@router.post("/admin/terms", response_model=Terms, status_code=201, tags=["admin"])
async def publish_terms(body: TermsPublication, _: Admin, session: Session):
    """Publish a new terms-of-use version: every account must accept it before using its data again."""
    return await service.publish_terms(session, body)


@router.put("/admin/accounts/{account_id}/roles", response_model=Account, tags=["admin"],
            responses=error_responses(NotFound))
async def set_roles(account_id: uuid.UUID, body: RoleUpdate, _: Admin, session: Session):
    """Give an account its roles (resident, adviser, professional, analyst, admin)."""
    if await repository.account_by_id(session, account_id) is None:
        raise NotFound("no such account", code="account_not_found")
    await repository.update_account(session, account_id, {"roles": sorted({r.value for r in body.roles})})
    return await service.account_view(session, await repository.account_by_id(session, account_id))
