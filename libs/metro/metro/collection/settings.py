"""What every connector's collection is tuned by."""
from __future__ import annotations

import datetime as dt

from pydantic import model_validator

from metro.collection.quota import DEFAULT_ARRIVAL_JITTER_S
from metro.settings import ServiceSettings

LOCAL_CLIENT_SECRET = "metroenergies-local-secret"


class CollectionSettings(ServiceSettings):
    """What every connector's collection is tuned by; a connector sets its DSO's defaults and env prefix."""

    client_id: str
    client_secret: str = LOCAL_CLIENT_SECRET
    quota_per_second: float
    # Room kept in the per-second rate for the spread of arrival times at the DSO (see TokenBucket).
    quota_arrival_jitter_s: float = DEFAULT_ARRIVAL_JITTER_S
    # Local time (Europe/Paris) of the daily cycle, after the DSO publishes, and its spread.
    cycle_time: dt.time
    cycle_jitter_minutes: float = 60.0
    concurrency: int = 8
    lease_seconds: float = 120.0
    poll_interval_s: float = 0.5
    transient_attempts: int = 3
    retry_base_s: float = 0.5
    backoff_base_s: float = 60.0
    contract_refresh_days: int = 7
    raw_retention_days: int = 90

    @model_validator(mode="after")
    def _refuse_local_client_secret(self):
        if not self.local_mode and self.client_secret == LOCAL_CLIENT_SECRET:
            raise ValueError("client_secret keeps its local default outside local mode")
        return self

    def secrets(self) -> dict[str, str]:
        return {**super().secrets(), "client_secret": self.client_secret}
