"""The ingest-grdf service: ADICT access rights for the consent service, and daily gas collection."""
from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

from pydantic import model_validator
from pydantic_settings import SettingsConfigDict

from ingest_grdf import api, handlers, models, worker
from metro.app import Runtime, ServiceSpec
from metro.collection import TokenBucket
from metro.settings import ServiceSettings

LOCAL_CLIENT_SECRET = "metroenergies-local-secret"


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="METRO_INGEST_GRDF_", extra="ignore")

    # A bare host is a sandbox (API under /adict/v2, token on the same host); production is
    # https://api.grdf.fr/adict/v2 with the token from GRDF's Okta.
    adict_url: str = "http://127.0.0.1:9002"
    token_url: str | None = None
    scope: str = "/adict/v2"
    client_id: str = "metro-grdf"
    client_secret: str = LOCAL_CLIENT_SECRET
    # ADICT, portfolio under 5 000 PCE: 1 call/s and 6 000 calls/day, all APIs combined, every replica.
    quota_per_second: float = 1.0
    quota_per_day: int = 6000
    # Informative day D is published from D+1; collect after midday (Europe/Paris), spread over an hour.
    cycle_time: dt.time = dt.time(13, 0)
    cycle_jitter_minutes: float = 60.0
    concurrency: int = 4
    lease_seconds: float = 300.0
    poll_interval_s: float = 0.5
    transient_attempts: int = 3
    retry_base_s: float = 0.5
    backoff_base_s: float = 60.0
    contract_refresh_days: int = 7
    raw_retention_days: int = 90
    # Access rights awaiting the holder are listed this often; active ones at least this often (the
    # data answers also say when a right is gone, so the full check can be rare).
    access_rights_poll_s: float = 300.0
    access_rights_full_check_s: float = 6 * 3600.0
    revoke_backoff_s: float = 300.0

    @model_validator(mode="after")
    def _refuse_local_client_secret(self):
        if not self.local_mode and self.client_secret == LOCAL_CLIENT_SECRET:
            raise ValueError("client_secret keeps its local default outside local mode")
        return self

    def secrets(self) -> dict[str, str]:
        return {**super().secrets(), "client_secret": self.client_secret}


def quota_bucket(rt: Runtime, s: Settings) -> TokenBucket:
    """The shared bucket knows per-second and per-hour windows only: the daily cap is spread evenly over
    the hours, which keeps every day under it."""
    per_hour = max(2, s.quota_per_day // 24)
    capacity = min(1.0, s.quota_per_second / 2)
    return TokenBucket(rt.db, models.rate_buckets, f"grdf:{s.client_id}", per_second=s.quota_per_second,
                       per_hour=per_hour, capacity=capacity)


async def start(rt: Runtime) -> None:
    from ingest_grdf.adict import AdictClient
    s: Settings = rt.settings  # type: ignore[assignment]
    rt.extras["client"] = AdictClient(s.adict_url, s.client_id, s.client_secret, token_url=s.token_url,
                                      scope=s.scope, min_interval=1.0 / s.quota_per_second)
    bucket = quota_bucket(rt, s)
    await bucket.ensure()
    rt.extras["bucket"] = bucket
    rt.extras["wake"] = asyncio.Event()
    rt.extras["wake_rights"] = asyncio.Event()


async def stop(rt: Runtime) -> None:
    client = rt.extras.get("client")
    if client is not None:
        await client.aclose()


def spec() -> ServiceSpec:
    return ServiceSpec(name="ingest_grdf", package_dir=Path(__file__).parent, routers=[api.router],
                       outbox_table=models.outbox, inbox_table=models.inbox, consumers=handlers.HANDLERS,
                       workers=[worker.collection_worker, worker.access_rights_worker], on_start=[start],
                       on_stop=[stop])
