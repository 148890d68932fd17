"""The ingest-enedis service: Data Connect collection, and the consent pages' DSO side for the consent service."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

from pydantic import model_validator
from pydantic_settings import SettingsConfigDict

from ingest_enedis import api, handlers, models, worker
from metro.app import Runtime, ServiceSpec
from metro.collection import TokenBucket
from metro.settings import ServiceSettings

LOCAL_CLIENT_SECRET = "metroenergies-local-secret"


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="METRO_INGEST_ENEDIS_", extra="ignore")

    dataconnect_url: str = "http://127.0.0.1:9001"
    # The consent page lives on another host in production (mon-compte-particulier.enedis.fr).
    authorize_url: str | None = None
    client_id: str = "metroenergies-local"
    client_secret: str = LOCAL_CLIENT_SECRET
    redirect_uri: str = "http://127.0.0.1:8000/api/v1/consents/enedis/callback"
    api_generation: Literal["v5", "2026"] = "v5"
    # The application's quota at Enedis, shared by every replica (5/s and 1 000 to 10 000/h).
    quota_per_second: float = 5.0
    quota_per_hour: int = 10_000
    # Local time (Europe/Paris) of the daily cycle, after Enedis publishes D-1 at 08:00, and its spread.
    cycle_time: dt.time = dt.time(8, 30)
    cycle_jitter_minutes: float = 60.0
    concurrency: int = 8
    lease_seconds: float = 120.0
    poll_interval_s: float = 0.5
    transient_attempts: int = 3
    retry_base_s: float = 0.5
    backoff_base_s: float = 60.0
    contract_refresh_days: int = 7
    raw_retention_days: int = 90
    history_months: int = 36

    @model_validator(mode="after")
    def _refuse_local_client_secret(self):
        if not self.local_mode and self.client_secret == LOCAL_CLIENT_SECRET:
            raise ValueError("client_secret keeps its local default outside local mode")
        return self

    def secrets(self) -> dict[str, str]:
        return {**super().secrets(), "client_secret": self.client_secret}


async def start(rt: Runtime) -> None:
    from ingest_enedis.dataconnect import DataConnectClient
    s: Settings = rt.settings  # type: ignore[assignment]
    rt.extras["client"] = DataConnectClient(s.dataconnect_url, s.client_id, s.client_secret, s.redirect_uri,
                                            api_generation=s.api_generation, authorize_base_url=s.authorize_url)
    bucket = TokenBucket(rt.db, models.rate_buckets, f"enedis:{s.client_id}", per_second=s.quota_per_second,
                         per_hour=s.quota_per_hour)
    await bucket.ensure()
    rt.extras["bucket"] = bucket
    rt.extras["wake"] = worker.asyncio.Event()


async def stop(rt: Runtime) -> None:
    client = rt.extras.get("client")
    if client is not None:
        await client.aclose()


def spec() -> ServiceSpec:
    return ServiceSpec(name="ingest_enedis", package_dir=Path(__file__).parent, routers=[api.router],
                       outbox_table=models.outbox, inbox_table=models.inbox, consumers=handlers.HANDLERS,
                       workers=[worker.collection_worker], on_start=[start], on_stop=[stop])
