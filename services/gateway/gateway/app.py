"""The gateway: the public REST API, identity, terms of use, and the SPA."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from pydantic_settings import SettingsConfigDict

from gateway import (api, consumption_routes, erasure, models, notify_routes, ops, personal, privacy, proxy, service,
                     web)
from metro.app import Runtime, ServiceSpec
from metro.events import AccountErased
from metro.settings import ServiceSettings

DEFAULT_ADMIN_PASSWORD = "local-admin-password-change-me"


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="METRO_GATEWAY_", extra="ignore")

    admin_email: str = "admin@metroenergies.example.org"
    admin_password: str = DEFAULT_ADMIN_PASSWORD
    session_lifetime: dt.timedelta = dt.timedelta(days=7)
    token_lifetime: dt.timedelta = dt.timedelta(days=90)
    login_max_failures: int = 5
    login_window: dt.timedelta = dt.timedelta(minutes=15)
    login_max_failures_per_client: int = 50
    web_dist: Path | None = None
    # The seed requires an administrator's check before erasure; without one it completes after this delay.
    erasure_delay: dt.timedelta = dt.timedelta(days=30)
    erasure_sweep_interval: dt.timedelta = dt.timedelta(minutes=5)
    # A service that has not confirmed an erasure within this time is asked again; after this many requests in
    # all the erasure is stalled and an alert raised (gateway.erasure).
    erasure_answer_timeout: dt.timedelta = dt.timedelta(hours=1)
    erasure_max_publications: int = 4

    def secrets(self) -> dict[str, str]:
        return {**super().secrets(), "admin_password": self.admin_password}


async def _bootstrap(rt: Runtime) -> None:
    settings: Settings = rt.settings  # type: ignore[assignment]
    async with rt.db.session() as session, session.begin():
        await service.seed_terms(session)
        await service.ensure_admin(session, settings.admin_email, settings.admin_password)


async def _throttle(rt: Runtime) -> None:
    settings: Settings = rt.settings  # type: ignore[assignment]
    rt.extras["throttle"] = service.LoginThrottle(settings.login_max_failures, settings.login_window,
                                                     settings.login_max_failures_per_client)


def spec() -> ServiceSpec:
    routers = [api.router, proxy.router, ops.router, personal.router, consumption_routes.router, notify_routes.router]
    return ServiceSpec(name="gateway", package_dir=Path(__file__).parent, routers=routers,
                       outbox_table=models.outbox, inbox_table=models.inbox, on_start=[_bootstrap, _throttle],
                       consumers={"erasure-confirmations": {AccountErased: erasure.on_account_erased}},
                       workers=[erasure.erasure_worker], warm_reads=service.warm_reads,
                       configure=[web.mount_web], erases_on_request=False, personal_data=privacy.PERSONAL_DATA,
                       openapi={"openapi_url": "/api/v1/openapi.json", "docs_url": "/api/v1/docs",
                                "redoc_url": None, "version": "1.0.0"})
