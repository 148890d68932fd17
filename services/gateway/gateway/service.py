"""Identity decisions: accounts, passwords, sessions, terms of use."""
from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import logging
import re
import secrets
import uuid
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway import repository
from gateway.schemas import (MIN_PASSWORD_LENGTH, Account, Role, SessionView, Signup, Terms, TermsPublication,
                             TermsState)
from gateway.models import outbox as outbox_table
from gateway.throttle import LoginThrottle
from metro.errors import AppError, Conflict, NotFound, TooManyRequests, Unauthorized, UpstreamError
from metro.events import AccountCreated, AccountEmailChanged, AccountLanguageChanged
from metro.outbox import Outbox
from metro.schemas.notify import AccountMail
from metro.service_auth import ServiceClient

hasher = PasswordHasher()  # argon2id with the library's recommended parameters
# Verified against when the e-mail is unknown, so a login takes as long whether the account exists or not.
_DUMMY_HASH = hasher.hash(secrets.token_urlsafe(16))
TERMS_SEED = Path(__file__).parent / "terms" / "v1.json"
account_outbox = Outbox(outbox_table, "gateway")
log = logging.getLogger(__name__)

VERIFY_EMAIL, CHANGE_EMAIL, RESET_PASSWORD = "verify_email", "change_email", "reset_password"
# last_used_at is written at most this often per session: a write per request would cost every request.
TOUCH_EVERY = dt.timedelta(seconds=60)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_password_strength(password: str, email: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AppError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters",
                       code="weak_password", status_code=422)
    if password.lower() == email.lower() or len(set(password)) < 5:
        raise AppError("the password is too easy to guess", code="weak_password", status_code=422)


class Hashing:
    """argon2 off the event loop, at most ``concurrency`` hashes at once: each takes 64 MiB, and a burst of
    parallel logins must stay within the pod's memory."""

    def __init__(self, concurrency: int = 2):
        self.limit(concurrency)

    def limit(self, concurrency: int) -> None:
        self.slots = asyncio.Semaphore(concurrency)

    async def run(self, fn, *args):
        async with self.slots:
            return await asyncio.to_thread(fn, *args)


hashing = Hashing()


async def hash_password(password: str) -> str:
    return await hashing.run(hasher.hash, password)


async def verify_password(password_hash: str, password: str) -> bool:
    try:
        return await hashing.run(hasher.verify, password_hash, password)
    except (VerifyMismatchError, InvalidHashError):
        return False


async def current_terms(session: AsyncSession) -> Terms:
    row = await repository.current_terms(session)
    if row is None:
        raise NotFound("no terms of use published", code="terms_not_found")
    return Terms.model_validate(row._mapping)


async def terms_state(session: AsyncSession, account_id: uuid.UUID) -> TermsState:
    current = await current_terms(session)
    accepted = await repository.last_acceptance(session, account_id)
    required = not await repository.has_accepted(session, account_id, current.version)
    return TermsState(current_version=current.version, accepted_version=accepted, acceptance_required=required)


async def account_view(session: AsyncSession, row) -> Account:
    return Account(id=row.id, email=row.email, email_verified=row.email_verified_at is not None,
                   roles=row.roles, status=row.status, language=row.language, created_at=row.created_at,
                   terms=await terms_state(session, row.id))


async def signup(session: AsyncSession, body: Signup, verification_lifetime: dt.timedelta
                 ) -> tuple[uuid.UUID, AccountMail]:
    """The new account, and the e-mail that verifies its address (to send once committed)."""
    email = body.email.lower()
    check_password_strength(body.password, email)
    # Before the transaction's first statement: no connection is held while the hash waits for its slot.
    password_hash = await hash_password(body.password)
    current = await current_terms(session)
    if body.accepted_terms_version != current.version:
        raise AppError(f"the current terms of use are version {current.version}",
                       code="terms_version_mismatch", status_code=422)
    account_id = uuid.uuid4()
    created = await repository.insert_account(session, {
        "id": account_id, "email": email, "password_hash": password_hash,
        "roles": [Role.resident.value], "language": body.language})
    if not created:
        raise Conflict("an account already uses this e-mail address", code="email_taken")
    await repository.accept_terms(session, account_id, current.version)
    await account_outbox.add(session, AccountCreated(account_id=account_id, email=email, language=body.language))
    token = await issue_account_token(session, account_id, VERIFY_EMAIL, email, verification_lifetime)
    return account_id, AccountMail(kind="verify_email", key=uuid.uuid4(), account_id=account_id, to=email,
                                   language=body.language, token=token)


async def authenticate(throttle: LoginThrottle, email: str, password: str, client: str):
    """The account for these credentials (None if they are wrong), and the attempt as recorded."""
    attempt = await throttle.begin(email, client)
    row = attempt.account
    ok = await verify_password(row.password_hash if row else _DUMMY_HASH, password)
    if not ok or row is None:
        return None, attempt
    if row.status != "active":
        raise AppError("this account is disabled", code="account_disabled", status_code=403)
    await throttle.succeeded(attempt)
    return row, attempt


_BROWSERS = [("Edge", r"Edg(?:e|A|iOS)?/(\d+)"), ("Opera", r"OPR/(\d+)"),
             ("Samsung Internet", r"SamsungBrowser/(\d+)"), ("Firefox", r"(?:Firefox|FxiOS)/(\d+)"),
             ("Chrome", r"(?:Chrome|CriOS)/(\d+)"), ("Safari", r"Version/(\d+).*Safari/"),
             ("curl", r"^curl/(\d+)"), ("Python script", r"python-\w+/")]
_SYSTEMS = [("Android", r"Android"), ("iOS", r"iPhone|iPad|iPod"), ("Windows", r"Windows"),
            ("macOS", r"Mac OS X"), ("ChromeOS", r"CrOS"), ("Linux", r"Linux")]


def user_agent_summary(header: str | None) -> str | None:
    """"Firefox 133 · Linux": enough for the owner to recognise a session, less than the whole header says."""
    if not header:
        return None
    browser = next((" ".join((name, *m.groups())) for name, pattern in _BROWSERS
                    if (m := re.search(pattern, header))), None)
    system = next((name for name, pattern in _SYSTEMS if re.search(pattern, header)), None)
    return " · ".join(p for p in (browser, system) if p) or header[:40]


async def open_session(session: AsyncSession, account_id: uuid.UUID, kind: str, lifetime: dt.timedelta,
                       name: str | None = None, user_agent: str | None = None
                       ) -> tuple[str, str | None, dt.datetime]:
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24) if kind == "cookie" else None
    expires = dt.datetime.now(dt.UTC) + lifetime
    await repository.insert_session(session, {"token_hash": token_hash(token), "account_id": account_id,
                                              "kind": kind, "name": name, "csrf_token": csrf,
                                              "expires_at": expires,
                                              "user_agent": user_agent_summary(user_agent)})
    return token, csrf, expires


async def list_sessions(session: AsyncSession, account_id: uuid.UUID,
                        current_token: str) -> list[SessionView]:
    current = token_hash(current_token)
    return [SessionView(id=r.id, kind=r.kind, name=r.name, created_at=r.created_at,
                        last_used_at=r.last_used_at, expires_at=r.expires_at, user_agent=r.user_agent,
                        current=r.token_hash == current)
            for r in await repository.account_sessions(session, account_id)]


async def revoke_session(session: AsyncSession, account_id: uuid.UUID, session_id: uuid.UUID) -> None:
    if not await repository.delete_account_session(session, account_id, session_id):
        raise NotFound("no such session or token", code="session_not_found")


# --- links sent by e-mail -------------------------------------------------------------------------------

async def issue_account_token(session: AsyncSession, account_id: uuid.UUID, purpose: str, email: str,
                              lifetime: dt.timedelta) -> str:
    token = secrets.token_urlsafe(32)
    now = dt.datetime.now(dt.UTC)
    await repository.insert_account_token(session, {
        "token_hash": token_hash(token), "account_id": account_id, "purpose": purpose, "email": email,
        "created_at": now, "expires_at": now + lifetime})
    return token


async def mails_left(session: AsyncSession, account_id: uuid.UUID, purpose: str, per_hour: int) -> bool:
    since = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    return await repository.recent_account_tokens(session, account_id, purpose, since) < per_hour


async def _use_token(session: AsyncSession, token: str, purposes: set[str]):
    """The link's row, deleted: a link works once."""
    row = await repository.lock_account_token(session, token_hash(token))
    if row is None or row.purpose not in purposes:
        raise AppError("this link is not valid, or it has already been used", code="invalid_token")
    if row.expires_at <= dt.datetime.now(dt.UTC):
        raise AppError("this link has expired: ask for a new one", code="token_expired", status_code=410)
    await repository.delete_token(session, row.token_hash)
    account = await repository.account_by_id(session, row.account_id)
    if account is None or account.status != "active":
        raise AppError("this link is not valid, or it has already been used", code="invalid_token")
    return row, account


async def verification_mail(session: AsyncSession, account_id: uuid.UUID, lifetime: dt.timedelta,
                            per_hour: int) -> AccountMail:
    account = await repository.account_by_id(session, account_id)
    if account.email_verified_at is not None:
        raise Conflict("your e-mail address is already verified", code="email_already_verified")
    if not await mails_left(session, account_id, VERIFY_EMAIL, per_hour):
        raise TooManyRequests("several verification e-mails were sent in the last hour: look for them, or "
                              "try again later", code="too_many_emails", headers={"Retry-After": "3600"})
    token = await issue_account_token(session, account_id, VERIFY_EMAIL, account.email, lifetime)
    return AccountMail(kind="verify_email", key=uuid.uuid4(), account_id=account_id, to=account.email,
                       language=account.language, token=token)


async def verify_email(session: AsyncSession, token: str) -> str:
    """Verifies the address the link was sent to: the account's, or the new one of an address change, which
    takes effect now."""
    row, account = await _use_token(session, token, {VERIFY_EMAIL, CHANGE_EMAIL})
    if row.purpose == VERIFY_EMAIL:
        if row.email != account.email:
            raise AppError("this link is for an address the account no longer has", code="invalid_token")
        await repository.update_account(session, account.id, {"email_verified_at": dt.datetime.now(dt.UTC)})
        await repository.delete_account_tokens(session, account.id, [VERIFY_EMAIL])
        return account.email
    if await repository.email_taken(session, row.email, account.id):
        raise Conflict("another account now uses this e-mail address", code="email_taken")
    await repository.update_account(session, account.id, {"email": row.email,
                                                          "email_verified_at": dt.datetime.now(dt.UTC)})
    await repository.delete_account_tokens(session, account.id, [VERIFY_EMAIL, CHANGE_EMAIL, RESET_PASSWORD])
    await account_outbox.add(session, AccountEmailChanged(account_id=account.id, email=row.email))
    return row.email


async def email_change(session: AsyncSession, account_id: uuid.UUID, new_email: str, lifetime: dt.timedelta,
                       per_hour: int) -> list[AccountMail]:
    """A link to the new address (the change waits for it) and a notice to the current one."""
    account = await repository.account_by_id(session, account_id)
    new_email = new_email.lower()
    if new_email == account.email:
        raise AppError("this is already your e-mail address", code="same_email", status_code=422)
    if await repository.email_taken(session, new_email, account_id):
        raise Conflict("an account already uses this e-mail address", code="email_taken")
    if not await mails_left(session, account_id, CHANGE_EMAIL, per_hour):
        raise TooManyRequests("several address changes were asked for in the last hour: try again later",
                              code="too_many_emails", headers={"Retry-After": "3600"})
    token = await issue_account_token(session, account_id, CHANGE_EMAIL, new_email, lifetime)
    common = {"account_id": account_id, "language": account.language, "new_email": new_email}
    return [AccountMail(kind="change_email", key=uuid.uuid4(), to=new_email, token=token, **common),
            AccountMail(kind="email_change_notice", key=uuid.uuid4(), to=account.email, **common)]


async def set_language(session: AsyncSession, account_id: uuid.UUID, language: str) -> None:
    """Stored on the account and told to notify, which writes every later e-mail in it."""
    account = await repository.account_by_id(session, account_id)
    if account.language == language:
        return
    await repository.update_account(session, account_id, {"language": language})
    await account_outbox.add(session, AccountLanguageChanged(account_id=account_id, language=language))


async def password_reset_mail(session: AsyncSession, email: str, lifetime: dt.timedelta,
                              per_hour: int) -> AccountMail | None:
    """None when there is nothing to send: no such account, or enough links sent this hour. The caller answers
    the same either way."""
    account = await repository.account_by_email(session, email)
    if account is None or account.status != "active":
        return None
    if not await mails_left(session, account.id, RESET_PASSWORD, per_hour):
        return None
    token = await issue_account_token(session, account.id, RESET_PASSWORD, account.email, lifetime)
    return AccountMail(kind="reset_password", key=uuid.uuid4(), account_id=account.id, to=account.email,
                       language=account.language, token=token)


def _password_changed(account) -> AccountMail:
    return AccountMail(kind="password_changed", key=uuid.uuid4(), account_id=account.id, to=account.email,
                       language=account.language)


async def reset_password(session: AsyncSession, token: str, password: str) -> AccountMail:
    """Sets the new password and ends every session and token of the account."""
    row, account = await _use_token(session, token, {RESET_PASSWORD})
    check_password_strength(password, account.email)
    values = {"password_hash": await hash_password(password)}
    if account.email_verified_at is None and row.email == account.email:
        values["email_verified_at"] = dt.datetime.now(dt.UTC)  # the link reached the address
    await repository.update_account(session, account.id, values)
    await repository.delete_account_sessions(session, account.id)
    await repository.delete_account_tokens(session, account.id, [RESET_PASSWORD])
    return _password_changed(account)


async def change_password(session: AsyncSession, account, new_password: str,
                          current_token: str) -> AccountMail:
    """The caller has checked the current password. Every other session and token of the account ends."""
    check_password_strength(new_password, account.email)
    await repository.update_account(session, account.id, {"password_hash": await hash_password(new_password)})
    await repository.delete_account_sessions(session, account.id, keep_token_hash=token_hash(current_token))
    await repository.delete_account_tokens(session, account.id, [RESET_PASSWORD])
    return _password_changed(account)


async def send_account_mail(services: ServiceClient, mail: AccountMail, attempts: int = 4) -> None:
    """Hands the mail to notify, after the response (so after the commit, and a reset request takes as long
    whether the address is known or not). Tried a few times; the token never reaches a log."""
    for attempt in range(attempts):
        try:
            await services.send("notify", "POST", "/internal/account-mails",
                                json=mail.model_dump(mode="json"))
            return
        except UpstreamError:
            await asyncio.sleep(2 ** attempt)
        except AppError as exc:
            log.error("notify refused an account e-mail", extra={"kind": mail.kind, "error": exc.code})
            return
    log.error("account e-mail not handed to notify",
              extra={"kind": mail.kind, "account_id": str(mail.account_id)})


async def warm_reads(session: AsyncSession) -> None:
    """Every authenticated request's statement, run once on each connection opened at start (Database.warm_up)."""
    await repository.session_with_account(session, token_hash(""))


async def resolve_session(session: AsyncSession, token: str, idle_timeout: dt.timedelta):
    """``session`` autocommits: the last use is recorded at once."""
    row = await repository.session_with_account(session, token_hash(token))
    if row is None:
        raise Unauthorized("you are not logged in", code="not_authenticated")
    now = dt.datetime.now(dt.UTC)
    if row.expires_at <= now:
        raise Unauthorized("your session has expired; please log in again", code="session_expired")
    if row.kind == "cookie" and row.last_used_at + idle_timeout <= now:
        raise Unauthorized("your session has expired after a while without activity; please log in again",
                           code="session_expired")
    if row.status != "active":
        raise Unauthorized("this account is disabled", code="account_disabled")
    if now - row.last_used_at >= TOUCH_EVERY:
        await repository.touch_session(session, token_hash(token))
    return row


async def seed_terms(session: AsyncSession) -> None:
    if await repository.current_terms(session) is None:
        data = json.loads(TERMS_SEED.read_text())
        await repository.insert_terms(session, data)


async def publish_terms(session: AsyncSession, body: TermsPublication) -> Terms:
    if not await repository.insert_terms(session, body.model_dump(mode="json")):
        raise Conflict("this terms version already exists", code="terms_version_exists")
    return await current_terms(session)


async def ensure_admin(session: AsyncSession, email: str, password: str) -> None:
    if await repository.account_by_email(session, email) is None:
        terms = await current_terms(session)
        account_id = uuid.uuid4()
        await repository.insert_account(session, {"id": account_id, "email": email.lower(),
                                                  "password_hash": await hash_password(password),
                                                  "roles": [Role.admin.value],
                                                  "email_verified_at": dt.datetime.now(dt.UTC)})
        await repository.accept_terms(session, account_id, terms.version)
