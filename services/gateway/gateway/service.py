"""Identity decisions: accounts, passwords, sessions, login throttling, terms of use."""
from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import secrets
import uuid
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway import repository
from gateway.schemas import MIN_PASSWORD_LENGTH, Account, Role, Signup, Terms, TermsPublication, TermsState
from gateway.models import outbox as outbox_table
from metro.errors import AppError, Conflict, NotFound, TooManyRequests, Unauthorized
from metro.events import AccountCreated
from metro.outbox import Outbox

hasher = PasswordHasher()  # argon2id with the library's recommended parameters
# Verified against when the e-mail is unknown, so a login takes as long whether the account exists or not.
_DUMMY_HASH = hasher.hash(secrets.token_urlsafe(16))
TERMS_SEED = Path(__file__).parent / "terms" / "v1.json"
account_outbox = Outbox(outbox_table, "gateway")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_password_strength(password: str, email: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AppError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters",
                       code="weak_password", status_code=422)
    if password.lower() == email.lower() or len(set(password)) < 5:
        raise AppError("the password is too easy to guess", code="weak_password", status_code=422)


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(hasher.hash, password)


async def verify_password(password_hash: str, password: str) -> bool:
    try:
        return await asyncio.to_thread(hasher.verify, password_hash, password)
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
    return Account(id=row.id, email=row.email, roles=row.roles, status=row.status, language=row.language,
                   created_at=row.created_at, terms=await terms_state(session, row.id))


async def signup(session: AsyncSession, body: Signup) -> uuid.UUID:
    email = body.email.lower()
    check_password_strength(body.password, email)
    current = await current_terms(session)
    if body.accepted_terms_version != current.version:
        raise AppError(f"the current terms of use are version {current.version}",
                       code="terms_version_mismatch", status_code=422)
    account_id = uuid.uuid4()
    created = await repository.insert_account(session, {
        "id": account_id, "email": email, "password_hash": await hash_password(body.password),
        "roles": [Role.resident.value], "language": body.language})
    if not created:
        raise Conflict("an account already uses this e-mail address", code="email_taken")
    await repository.accept_terms(session, account_id, current.version)
    await account_outbox.add(session, AccountCreated(account_id=account_id, email=email, language=body.language))
    return account_id


class LoginThrottle:
    """Failed logins per e-mail and per client address in a sliding window, kept in PostgreSQL so that
    every gateway replica sees the same count."""

    def __init__(self, max_failures: int = 5, window: dt.timedelta = dt.timedelta(minutes=15),
                 max_failures_per_client: int = 50):
        self.max_failures = max_failures
        self.max_failures_per_client = max_failures_per_client
        self.window = window

    @staticmethod
    def keys(email: str, client: str) -> list[str]:
        return [f"email:{email.lower()}", f"ip:{client}"]

    async def check(self, session: AsyncSession, email: str, client: str) -> None:
        since = dt.datetime.now(dt.UTC) - self.window
        for key in self.keys(email, client):
            count, oldest = await repository.recent_failures(session, key, since)
            limit = self.max_failures if key.startswith("email:") else self.max_failures_per_client
            if count >= limit:
                wait = int(((oldest or since) + self.window - dt.datetime.now(dt.UTC)).total_seconds()) + 1
                raise TooManyRequests("too many failed logins; try again later",
                                      code="too_many_login_attempts", headers={"Retry-After": str(max(wait, 1))})


async def authenticate(session: AsyncSession, throttle: LoginThrottle, email: str, password: str,
                       client: str):
    """The account for these credentials, or an error; failures are recorded even though the request
    fails (the caller commits them in their own transaction)."""
    await throttle.check(session, email, client)
    row = await repository.account_by_email(session, email)
    ok = await verify_password(row.password_hash if row else _DUMMY_HASH, password)
    if not ok or row is None:
        return None
    if row.status != "active":
        raise AppError("this account is disabled", code="account_disabled", status_code=403)
    await repository.clear_failures(session, throttle.keys(email, client)[0])
    return row


async def open_session(session: AsyncSession, account_id: uuid.UUID, kind: str, lifetime: dt.timedelta,
                       name: str | None = None) -> tuple[str, str | None, dt.datetime]:
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24) if kind == "cookie" else None
    expires = dt.datetime.now(dt.UTC) + lifetime
    await repository.insert_session(session, {"token_hash": token_hash(token), "account_id": account_id,
                                              "kind": kind, "name": name, "csrf_token": csrf,
                                              "expires_at": expires})
    return token, csrf, expires


async def warm_reads(session: AsyncSession) -> None:
    """Every authenticated request's statement, run once on each connection opened at start (Database.warm_up)."""
    await repository.session_with_account(session, token_hash(""))


async def resolve_session(session: AsyncSession, token: str):
    row = await repository.session_with_account(session, token_hash(token))
    if row is None:
        raise Unauthorized("you are not logged in", code="not_authenticated")
    if row.expires_at <= dt.datetime.now(dt.UTC):
        raise Unauthorized("your session has expired; please log in again", code="session_expired")
    if row.status != "active":
        raise Unauthorized("this account is disabled", code="account_disabled")
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
                                                  "roles": [Role.admin.value]})
        await repository.accept_terms(session, account_id, terms.version)
