"""Identity decisions: accounts, passwords, sessions, terms of use."""
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
from gateway.throttle import LoginThrottle
from metro.errors import AppError, Conflict, NotFound, Unauthorized
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
    return Account(id=row.id, email=row.email, roles=row.roles, status=row.status, language=row.language,
                   created_at=row.created_at, terms=await terms_state(session, row.id))


async def signup(session: AsyncSession, body: Signup) -> uuid.UUID:
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
    return account_id


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
