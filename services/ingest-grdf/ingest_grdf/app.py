"""The ingest-grdf service: ADICT access rights for the consent service, and daily gas collection."""
from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

from pydantic_settings import SettingsConfigDict

from ingest_grdf import api, handlers, models, privacy, repository, worker
from metro.app import Runtime, ServiceSpec
from metro.collection import (CollectionSettings, TokenBucket, collection_probe, start_collection,
                              stop_collection)


class Settings(CollectionSettings):
    model_config = SettingsConfigDict(env_prefix="METRO_INGEST_GRDF_", extra="ignore")

    # A bare host is a sandbox (API under /adict/v2, token on the same host); production is
    # https://api.grdf.fr/adict/v2 with the token from GRDF's Okta.
    adict_url: str = "http://127.0.0.1:9002"
    token_url: str | None = None
    scope: str = "/adict/v2"
    client_id: str = "metro-grdf"
    # ADICT, portfolio under 5 000 PCE: 1 call/s and 6 000 calls/day, all APIs combined, every replica.
    quota_per_second: float = 1.0
    quota_per_day: int = 6000
    # Informative day D is published from D+1; collect after midday (Europe/Paris), spread over an hour.
    cycle_time: dt.time = dt.time(13, 0)
    concurrency: int = 4
    lease_seconds: float = 300.0
    # Access rights awaiting the holder are listed this often; active ones at least this often (the
    # data answers also say when a right is gone, so the full check can be rare).
    access_rights_poll_s: float = 300.0
    access_rights_full_check_s: float = 6 * 3600.0
    revoke_backoff_s: float = 300.0


def quota_bucket(rt: Runtime, s: Settings) -> TokenBucket:
    """ADICT counts calls per second and per day, never per hour. GRDF's figures ("6 000 calls per day",
    Annexe 4) do not say where the day starts: the bucket counts calendar days in Europe/Paris, as our
    ADICT sandbox does; should GRDF cut its days elsewhere, its 429 and Retry-After still hold the meter."""
    capacity = min(1.0, s.quota_per_second / 2)
    return TokenBucket(rt.db, models.rate_buckets, f"grdf:{s.client_id}", per_second=s.quota_per_second,
                       per_day=s.quota_per_day, capacity=capacity, arrival_jitter_s=s.quota_arrival_jitter_s)


async def start(rt: Runtime) -> None:
    from ingest_grdf.adict import AdictClient
    s: Settings = rt.settings  # type: ignore[assignment]
    client = AdictClient(s.adict_url, s.client_id, s.client_secret, token_url=s.token_url, scope=s.scope,
                         min_interval=1.0 / s.quota_per_second)
    await start_collection(rt, client, quota_bucket(rt, s))
    rt.extras["wake_rights"] = asyncio.Event()


def spec() -> ServiceSpec:
    return ServiceSpec(name="ingest_grdf", package_dir=Path(__file__).parent, routers=[api.router],
                       outbox_table=models.outbox, inbox_table=models.inbox, consumers=handlers.HANDLERS,
                       workers=[worker.collection_worker, worker.access_rights_worker], on_start=[start],
                       on_stop=[stop_collection], personal_data=privacy.PERSONAL_DATA,
                       before_erase=privacy.before_erase,
                       probes=[collection_probe(repository.store)])
