"""Settings base: one pydantic-settings class per service, each with its own env prefix."""
from __future__ import annotations

import datetime as dt

from pydantic import create_model, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from metro.services import INTERNAL, PORTS

DEFAULT_SERVICE_SECRET = "local-service-secret-change-me-0123456789"

# Internal services, reachable over HTTP with a service token: one setting each, e.g. consent_url
# (METRO_<SERVICE>_CONSENT_URL), from the registry of services.
_ServiceUrls = create_model("_ServiceUrls", __base__=BaseSettings,
                            **{f"{name}_url": (str, f"http://127.0.0.1:{PORTS[name]}") for name in INTERNAL})


class ServiceSettings(_ServiceUrls):
    """Shared by every service; a service subclasses it and sets ``model_config`` with its prefix."""

    model_config = SettingsConfigDict(env_prefix="METRO_", extra="ignore")

    local_mode: bool = True
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/metroenergies"
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    service_secret: str = DEFAULT_SERVICE_SECRET
    host: str = "127.0.0.1"
    port: int = 0
    # Where Prometheus scrapes /metrics (metro.observe); 0: the service's port + 1100 (gateway 9100).
    metrics_port: int = 0
    # How often the gauges read from the database, the broker and the pool are refreshed.
    metrics_interval_s: float = 15.0
    log_level: str = "INFO"
    db_pool_size: int = 10
    # Connections opened beyond the pool under a burst; unset, as many as the pool. A pod holds at most
    # db_pool_size + db_pool_overflow connections: the deployment's sizes must fit its pooler (deploy/).
    db_pool_overflow: int | None = None
    # asyncpg's prepared statements, cached per connection. Behind PgBouncer in transaction mode they need
    # PgBouncer ≥ 1.21 with max_prepared_statements > 0 (the deployment's Pooler sets it); false for a pooler
    # without it: every statement is then prepared unnamed, one more round trip each.
    db_prepared_statements: bool = True
    # Apply the service's migrations when it starts; false where a separate step migrates (the deployment's
    # init container), so a long migration never delays the probes.
    migrate_on_start: bool = True
    # Connections opened and warmed with the service's hot reads at start (Database.warm_up, at most the pool
    # size): the pool size where a service takes traffic as soon as it starts; 0 in tests, which start many
    # services against one PostgreSQL.
    db_pool_warm: int = 0
    run_workers: bool = True
    # Consumer retries: delay before each retry and how many before the dead-letter queue.
    retry_delay_ms: int = 5000
    max_retries: int = 3
    # metro.retention: published outbox rows and handled inbox rows are deleted after these.
    outbox_retention: dt.timedelta = dt.timedelta(days=7)
    inbox_retention: dt.timedelta = dt.timedelta(days=30)
    housekeeping_interval: dt.timedelta = dt.timedelta(hours=1)

    @model_validator(mode="after")
    def _refuse_default_secrets(self):
        if not self.local_mode:
            for name, value in self.secrets().items():
                if value.startswith("local-") or "change-me" in value:
                    raise ValueError(f"{name} keeps its local default outside local mode")
        return self

    def secrets(self) -> dict[str, str]:
        """The settings that must be changed outside local mode; a subclass adds its own."""
        return {"service_secret": self.service_secret}

    def metrics_listen_port(self) -> int:
        return self.metrics_port or self.port + 1100

    def url_of(self, service: str) -> str:
        return getattr(self, f"{service}_url")
