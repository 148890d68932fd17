"""The gateway: the public REST API, identity, terms of use, and the SPA."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from pydantic_settings import SettingsConfigDict

from gateway import (actions, admin, advice, analyst_routes, api, consumption_routes, edge, erasure, models, news,
                     landlord_routes, notify_routes, ops, org_routes, personal, privacy, proxy, service, throttle, web)
from metro.app import Runtime, ServiceSpec
from metro.events import AccountErased
from metro.settings import ServiceSettings

DEFAULT_ADMIN_PASSWORD = "local-admin-password-change-me"


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="METRO_GATEWAY_", extra="ignore")

    admin_email: str = "admin@metroenergies.example.org"
    admin_password: str = DEFAULT_ADMIN_PASSWORD
    # ASVS 4.0 level 2 (3.3.2): log in again after 12 hours, or after 30 minutes without activity. Script
    # tokens have no idle limit; their owner lists and revokes them.
    session_lifetime: dt.timedelta = dt.timedelta(hours=12)
    session_idle_timeout: dt.timedelta = dt.timedelta(minutes=30)
    token_lifetime: dt.timedelta = dt.timedelta(days=90)
    email_verification_lifetime: dt.timedelta = dt.timedelta(hours=48)
    password_reset_lifetime: dt.timedelta = dt.timedelta(hours=1)
    # Links of each kind (verification, address change, password reset) e-mailed per account and hour.
    account_emails_per_hour: int = 5
    # Per account: failed logins in the window before 429. Per client address: failures before each attempt
    # waits, doubling from login_delay up to login_max_delay (residents behind one address are slowed, not
    # locked out).
    login_max_failures: int = 5
    login_window: dt.timedelta = dt.timedelta(minutes=15)
    login_slow_after_per_client: int = 50
    login_delay: dt.timedelta = dt.timedelta(seconds=1)
    login_max_delay: dt.timedelta = dt.timedelta(seconds=10)
    # Keys login_failures by an HMAC of the e-mail and client addresses, so the table holds neither.
    login_key_secret: str = "local-login-key-change-me"
    # Concurrent argon2 hashes (64 MiB each): the pod's memory limit bounds it.
    hash_concurrency: int = 2
    # Peers whose X-Forwarded-For names the client (the ingress): addresses or networks; the loopback in local
    # mode, nobody outside it unless set.
    trusted_proxies: list[str] | None = None
    web_dist: Path | None = None
    # The seed requires an administrator's check before erasure; without one it completes after this delay.
    erasure_delay: dt.timedelta = dt.timedelta(days=30)
    erasure_sweep_interval: dt.timedelta = dt.timedelta(minutes=5)
    # A service that has not confirmed an erasure within this time is asked again; after this many requests in
    # all the erasure is stalled and an alert raised (gateway.erasure).
    erasure_answer_timeout: dt.timedelta = dt.timedelta(hours=1)
    erasure_max_publications: int = 4

    def secrets(self) -> dict[str, str]:
        return {**super().secrets(), "admin_password": self.admin_password,
                "login_key_secret": self.login_key_secret}

    @property
    def proxies(self) -> list[str]:
        if self.trusted_proxies is not None:
            return self.trusted_proxies
        return ["127.0.0.1/32", "::1"] if self.local_mode else []


async def _bootstrap(rt: Runtime) -> None:
    settings: Settings = rt.settings  # type: ignore[assignment]
    async with rt.db.session() as session, session.begin():
        await service.seed_terms(session)
        await service.ensure_admin(session, settings.admin_email, settings.admin_password)


async def _throttle(rt: Runtime) -> None:
    settings: Settings = rt.settings  # type: ignore[assignment]
    service.hashing.limit(settings.hash_concurrency)
    rt.extras["throttle"] = throttle.LoginThrottle(
        rt.db, settings.login_key_secret, max_failures=settings.login_max_failures,
        window=settings.login_window,
        slow_after_per_client=settings.login_slow_after_per_client, delay=settings.login_delay,
        max_delay=settings.login_max_delay)


def spec() -> ServiceSpec:
    routers = [api.router, admin.router, proxy.router, ops.router, personal.router, advice.router,
               consumption_routes.router, notify_routes.router, org_routes.router, landlord_routes.router, analyst_routes.router,
               actions.router, news.router]
    return ServiceSpec(name="gateway", package_dir=Path(__file__).parent, routers=routers,
                       outbox_table=models.outbox, inbox_table=models.inbox, on_start=[_bootstrap, _throttle, actions.seed_catalogue],
                       consumers={"erasure-confirmations": {AccountErased: erasure.on_account_erased}},
                       workers=[erasure.erasure_worker, throttle.prune_worker], warm_reads=service.warm_reads,
                       configure=[edge.protect, web.mount_web], erases_on_request=False,
                       personal_data=privacy.PERSONAL_DATA, broker_in_readiness=False,
                       openapi={"openapi_url": "/api/v1/openapi.json", "docs_url": None,
                                "redoc_url": None, "version": "1.0.0"})
