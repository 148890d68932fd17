"""Login throttling that nobody can turn against residents.

Per account: at most ``max_failures`` failed logins in the window. Each attempt is recorded before its
password is checked, under a lock on the account's key, so a parallel burst cannot pass the limit; beyond it
the account (only it) answers 429 with Retry-After. A successful login removes its account's records.
Per client address: beyond ``slow_after_per_client`` failures in the window each attempt waits, doubling up to
a cap, rather than being refused: residents sharing an address are slowed, never locked out.
Rows are keyed by an HMAC of the e-mail or client address, so the table names nobody; they are pruned after
the window.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from metro.app import Runtime
from metro.db import Database
from metro.errors import TooManyRequests
from metro.workers import repeat

from gateway import repository


@dataclass(frozen=True)
class Attempt:
    account_key: str
    ids: list[int]
    # The account of this e-mail address, if any, read with the attempt's record.
    account: Any
    delayed: float

    def timing(self) -> dict[str, str]:
        """Server-Timing tells the client its attempt was slowed, and by how much."""
        return {"server-timing": f"throttle;dur={int(self.delayed * 1000)}"} if self.delayed else {}


class LoginThrottle:
    def __init__(self, db: Database, secret: str, *, max_failures: int = 5,
                 window: dt.timedelta = dt.timedelta(minutes=15), slow_after_per_client: int = 50,
                 delay: dt.timedelta = dt.timedelta(seconds=1),
                 max_delay: dt.timedelta = dt.timedelta(seconds=10),
                 sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep):
        self.db = db
        self.secret = secret.encode()
        self.max_failures = max_failures
        self.window = window
        self.slow_after_per_client = slow_after_per_client
        self.delay = delay.total_seconds()
        self.max_delay = max_delay.total_seconds()
        self.sleep = sleep

    def key(self, kind: str, value: str) -> str:
        return f"{kind}:" + hmac.new(self.secret, value.encode(), hashlib.sha256).hexdigest()

    def delay_after(self, failures: int) -> float:
        over = failures - self.slow_after_per_client
        return 0.0 if over < 0 else min(self.delay * 2 ** min(over, 20), self.max_delay)

    async def begin(self, email: str, client: str) -> Attempt:
        """Waits as long as the client address has earned, then records the attempt, or refuses it when the
        account has reached its limit."""
        email = email.lower()
        account_key, client_key = self.key("account", email), self.key("client", client)
        since = dt.datetime.now(dt.UTC) - self.window
        async with self.db.reader() as session:
            failures, _ = await repository.recent_failures(session, client_key, since)
        delayed = self.delay_after(failures)
        if delayed:
            await self.sleep(delayed)
        async with self.db.session() as session, session.begin():
            await repository.lock_login_key(session, account_key)
            count, oldest = await repository.recent_failures(session, account_key, since)
            if count >= self.max_failures:
                wait = int(((oldest or since) + self.window - dt.datetime.now(dt.UTC)).total_seconds()) + 1
                raise TooManyRequests("too many failed logins; try again later",
                                      code="too_many_login_attempts",
                                      headers={"Retry-After": str(max(wait, 1))})
            ids = await repository.record_login_attempt(session, [account_key, client_key])
            account = await repository.account_by_email(session, email)
        return Attempt(account_key, ids, account, delayed)

    async def succeeded(self, attempt: Attempt) -> None:
        async with self.db.session() as session, session.begin():
            await repository.clear_login_attempts(session, attempt.account_key, attempt.ids)

    async def prune(self) -> None:
        async with self.db.session() as session, session.begin():
            await repository.prune_login_failures(session, dt.datetime.now(dt.UTC) - self.window)


async def prune_worker(rt: Runtime) -> None:
    throttle: LoginThrottle = rt.extras["throttle"]
    await repeat(rt.stop, "login failures pruning", throttle.prune, throttle.window.total_seconds() / 3)
