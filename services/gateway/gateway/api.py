"""Identity and terms-of-use operations of the public API."""
from __future__ import annotations

import asyncio
import logging
import uuid

from fastapi import APIRouter, BackgroundTasks, FastAPI, Request, Response

from gateway import audit, repository, service
from gateway.auth import Admin, Authenticated, Identity, clear_session_cookies, set_session_cookies
from gateway.schemas import (Accepted, Account, EmailChange, EmailToken, EmailVerified, LanguageChange, Login,
                             PasswordChange, PasswordForgotten, PasswordReset, RoleUpdate, SessionView, Signup,
                             Terms, TermsAcceptance, TermsPublication, TokenIssued, TokenRequest)
from metro.db import DbSession
from metro.errors import (AppError, Conflict, Forbidden, NotFound, TooManyRequests, Unauthorized,
                          error_responses)
from metro.schemas.notify import AccountMail

router = APIRouter(prefix="/api/v1", tags=["identity"])
log = logging.getLogger(__name__)
# Committed before the response leaves (a yield dependency's default is after it): the client acts on the
# answer at once, e.g. with the session cookie it carries, and must find what the request wrote.
Session = DbSession


def _settings(request: Request):
    return request.app.state.settings


def _client(request: Request) -> str:
    """The peer, or the client a trusted proxy names (edge.protect)."""
    return request.client.host if request.client else "unknown"


def _user_agent(request: Request) -> str | None:
    return request.headers.get("user-agent")


def _send(request: Request, background: BackgroundTasks, *mails: AccountMail) -> None:
    """Handed to notify once the response has left, hence after the commit: a link never arrives before the
    token it carries is stored. An internal call rather than an event: the token then never lies in clear in
    the gateway's outbox, and notify forgets it once the mail has left."""
    for mail in mails:
        background.add_task(service.send_account_mail, request.app.state.runtime.services, mail)


async def _login(request: Request, response: Response, email: str, password: str):
    throttle = request.app.state.runtime.extras["throttle"]
    row, attempt = await service.authenticate(throttle, email, password, _client(request))
    if row is None:
        raise Unauthorized("wrong e-mail or password", code="invalid_credentials", headers=attempt.timing())
    response.headers.update(attempt.timing())
    return row


@router.post("/auth/signup", response_model=Account, status_code=201,
             responses=error_responses(Conflict, AppError))
async def signup(body: Signup, request: Request, response: Response, background: BackgroundTasks,
                 session: Session):
    """Creates the account and logs it in; a link to verify the address is e-mailed to it (a DSO consent
    needs a verified address). 422 `weak_password` for a password under 12 characters, with fewer than 5
    different characters or equal to the e-mail address; `terms_version_mismatch` unless the terms accepted are
    those in force."""
    settings = _settings(request)
    account_id, mail = await service.signup(session, body, settings.email_verification_lifetime)
    token, csrf, expires = await service.open_session(session, account_id, "cookie",
                                                      settings.session_lifetime, user_agent=_user_agent(request))
    set_session_cookies(request, response, token, csrf, expires)
    _send(request, background, mail)
    return await service.account_view(session, await repository.account_by_id(session, account_id))


@router.post("/auth/login", response_model=Account, responses=error_responses(Unauthorized, TooManyRequests))
async def login(body: Login, request: Request, response: Response, session: Session):
    row = await _login(request, response, body.email, body.password)
    token, csrf, expires = await service.open_session(session, row.id, "cookie",
                                                      _settings(request).session_lifetime,
                                                      user_agent=_user_agent(request))
    set_session_cookies(request, response, token, csrf, expires)
    return await service.account_view(session, row)


@router.post("/auth/tokens", response_model=TokenIssued, status_code=201,
             responses=error_responses(Unauthorized, TooManyRequests))
async def create_token(body: TokenRequest, request: Request, response: Response, session: Session):
    """A bearer token for scripts (`Authorization: Bearer <token>`), with the same rights as the account."""
    row = await _login(request, response, body.email, body.password)
    token, _, expires = await service.open_session(session, row.id, "bearer", _settings(request).token_lifetime,
                                                   name=body.name, user_agent=_user_agent(request))
    return TokenIssued(token=token, expires_at=expires)


@router.post("/auth/logout", status_code=204)
async def logout(who: Authenticated, request: Request, response: Response, session: Session):
    await repository.delete_session(session, service.token_hash(who.token))
    clear_session_cookies(request, response)


@router.post("/auth/email-verification", response_model=EmailVerified,
             responses=error_responses(AppError, Conflict))
async def verify_email(body: EmailToken, session: Session):
    """Follows the link e-mailed at sign-up or for an address change (no login needed). A link works once:
    400 `invalid_token` when unknown or already used, 410 `token_expired` after its lifetime (48 h by
    default).
    For an address change the new address replaces the old one now; 409 `email_taken` if another account took
    it meanwhile."""
    return EmailVerified(email=await service.verify_email(session, body.token))


@router.post("/me/email/verification", response_model=Accepted, status_code=202,
             responses=error_responses(Conflict, TooManyRequests))
async def resend_verification(who: Authenticated, request: Request, background: BackgroundTasks,
                              session: Session):
    """E-mails a new verification link. 409 `email_already_verified`; 429 `too_many_emails` after a few
    links in an hour."""
    settings = _settings(request)
    mail = await service.verification_mail(session, who.account_id, settings.email_verification_lifetime,
                                           settings.account_emails_per_hour)
    _send(request, background, mail)
    return Accepted(detail="a new link is on its way")


async def _reset_link(app: FastAPI, email: str) -> None:
    settings = app.state.settings
    try:
        async with app.state.db.session() as session, session.begin():
            mail = await service.password_reset_mail(session, email, settings.password_reset_lifetime,
                                                     settings.account_emails_per_hour)
        if mail is not None:
            await service.send_account_mail(app.state.runtime.services, mail)
    except Exception:
        log.exception("password reset link not made")


# Detached rather than a background task: one holds its connection until it ends, so the next request on that
# connection would be slower when the address is known.
_detached: set[asyncio.Task] = set()


@router.post("/auth/password-reset", response_model=Accepted, status_code=202)
async def forgot_password(body: PasswordForgotten, request: Request):
    """E-mails a link to choose a new password, valid 1 hour and once. The answer is the same, and as quick,
    whether an account uses the address or not: everything happens after it."""
    task = asyncio.create_task(_reset_link(request.app, str(body.email)))
    _detached.add(task)
    task.add_done_callback(_detached.discard)
    return Accepted(detail="if an account uses this address, a link to choose a new password is on its way")


@router.post("/auth/password-reset/confirm", status_code=204, responses=error_responses(AppError))
async def reset_password(body: PasswordReset, request: Request, background: BackgroundTasks,
                         session: Session):
    """Sets a new password with the e-mailed link: every session and script token of the account ends, and the
    account is told by e-mail. 400 `invalid_token` (unknown or used), 410 `token_expired`, 422 `weak_password`
    (the link stays usable)."""
    _send(request, background, await service.reset_password(session, body.token, body.password))


async def _reauthenticate(request: Request, response: Response, who: Identity, password: str):
    try:
        return await _login(request, response, who.email, password)
    except Unauthorized as exc:
        raise Forbidden("the current password is not right", code="wrong_password") from exc


@router.put("/me/password", status_code=204, responses=error_responses(Forbidden, AppError, TooManyRequests))
async def change_password(body: PasswordChange, who: Authenticated, request: Request, response: Response,
                          background: BackgroundTasks, session: Session):
    """Needs the current password (403 `wrong_password`, counted like a failed login). Every other session and
    script token of the account ends; this one stays."""
    account = await _reauthenticate(request, response, who, body.current_password)
    _send(request, background, await service.change_password(session, account, body.new_password, who.token))


@router.put("/me/email", response_model=Accepted, status_code=202,
            responses=error_responses(Forbidden, Conflict, AppError, TooManyRequests))
async def change_email(body: EmailChange, who: Authenticated, request: Request, response: Response,
                       background: BackgroundTasks, session: Session):
    """Needs the current password. A link goes to the new address and a notice to the current one; the address
    changes only when the link is followed (`POST /auth/email-verification`). 409 `email_taken`, 422
    `same_email`."""
    await _reauthenticate(request, response, who, body.password)
    settings = _settings(request)
    _send(request, background, *await service.email_change(
        session, who.account_id, str(body.new_email), settings.email_verification_lifetime,
        settings.account_emails_per_hour))
    return Accepted(detail="follow the link sent to the new address to complete the change")


@router.get("/me/sessions", response_model=list[SessionView])
async def list_sessions(who: Authenticated, session: Session):
    """The account's browser sessions and script tokens still valid, the most recently used first; `current`
    is the one making this request."""
    return await service.list_sessions(session, who.account_id, who.token)


@router.delete("/me/sessions/{session_id}", status_code=204, responses=error_responses(NotFound))
async def revoke_session(session_id: uuid.UUID, who: Authenticated, session: Session):
    """Ends a browser session or a script token at once."""
    await service.revoke_session(session, who.account_id, session_id)


@router.get("/me", response_model=Account, responses=error_responses(Unauthorized))
async def me(who: Authenticated, session: Session):
    return await service.account_view(session, await repository.account_by_id(session, who.account_id))


@router.put("/me/language", response_model=Account)
async def set_language(body: LanguageChange, who: Authenticated, session: Session):
    """The account's language (`fr` or `en`): the app shows it after signing in, and every e-mail from now on
    (alerts, reports, account links) is written in it."""
    await service.set_language(session, who.account_id, body.language)
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
async def publish_terms(body: TermsPublication, who: Admin, session: Session):
    """Publish a new terms-of-use version at once: every account must accept it before using its data again
    (`POST /admin/terms/drafts` keeps one as a draft first)."""
    terms = await service.publish_terms(session, body)
    await audit.record(session, who, "terms.published", body.version)
    return terms


@router.put("/admin/accounts/{account_id}/roles", response_model=Account, tags=["admin"],
            responses=error_responses(NotFound, Conflict))
async def set_roles(account_id: uuid.UUID, body: RoleUpdate, who: Admin, session: Session):
    """Give an account its roles (resident, adviser, professional, analyst, admin). 409
    `cannot_remove_own_admin`: another administrator does that."""
    row = await repository.account_by_id(session, account_id)
    if row is None:
        raise NotFound("no such account", code="account_not_found")
    roles = sorted({r.value for r in body.roles})
    if account_id == who.account_id and "admin" not in roles:
        raise Conflict("an administrator cannot take their own admin role away", code="cannot_remove_own_admin")
    await repository.update_account(session, account_id, {"roles": roles})
    await audit.record(session, who, "account.roles_set", account_id, email=row.email, before=list(row.roles),
                       roles=roles)
    return await service.account_view(session, await repository.account_by_id(session, account_id))
