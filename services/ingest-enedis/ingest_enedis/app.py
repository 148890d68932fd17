"""The ingest-enedis service: Data Connect collection, and the consent pages' DSO side for the consent service."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

from pydantic_settings import SettingsConfigDict

from ingest_enedis import api, handlers, models, privacy, repository, worker
from metro.app import Runtime, ServiceSpec
from metro.collection import (CollectionSettings, TokenBucket, collection_probe, start_collection,
                              stop_collection)


class Settings(CollectionSettings):
    model_config = SettingsConfigDict(env_prefix="METRO_INGEST_ENEDIS_", extra="ignore")

    dataconnect_url: str = "http://127.0.0.1:9001"
    # The consent page lives on another host in production (mon-compte-particulier.enedis.fr).
    authorize_url: str | None = None
    client_id: str = "metroenergies-local"
    redirect_uri: str = "http://127.0.0.1:8000/api/v1/consents/enedis/callback"
    # Data Connect 2026 is live since 28/09/2026 and v5 stopped two weeks later; v5 stays for older set-ups.
    api_generation: Literal["v5", "2026"] = "2026"
    # The application's quota at Enedis, shared by every replica (5/s and 1 000 to 10 000/h).
    quota_per_second: float = 5.0
    quota_per_hour: int = 10_000
    # Enedis publishes D-1 at 08:00.
    cycle_time: dt.time = dt.time(8, 30)
    history_months: int = 36
    # The load curve's daily collection asks the last days again (late publications, the DSO's corrections).
    curve_recent_days: int = 7
    curve_collection: bool = True
    # A meter's curve waits for its daily readings' first answer, looking again after this many seconds.
    curve_daily_first_wait_s: float = 20.0


async def start(rt: Runtime) -> None:
    from ingest_enedis.dataconnect import DataConnectClient
    s: Settings = rt.settings  # type: ignore[assignment]
    client = DataConnectClient(s.dataconnect_url, s.client_id, s.client_secret, s.redirect_uri,
                               api_generation=s.api_generation, authorize_base_url=s.authorize_url)
    await start_collection(rt, client, TokenBucket(
        rt.db, models.rate_buckets, f"enedis:{s.client_id}", per_second=s.quota_per_second,
        per_hour=s.quota_per_hour, arrival_jitter_s=s.quota_arrival_jitter_s))


def spec() -> ServiceSpec:
    return ServiceSpec(name="ingest_enedis", package_dir=Path(__file__).parent, routers=[api.router],
                       outbox_table=models.outbox, inbox_table=models.inbox, consumers=handlers.HANDLERS,
                       workers=[worker.collection_worker, worker.load_curve_worker], on_start=[start], on_stop=[stop_collection],
                       personal_data=privacy.PERSONAL_DATA, before_erase=privacy.before_erase,
                       probes=[collection_probe(repository.store)])
