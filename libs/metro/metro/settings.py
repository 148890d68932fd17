"""Settings base: one pydantic-settings class per service, each with its own env prefix."""
from __future__ import annotations

import datetime as dt

from pydantic import Field, create_model, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from metro.service_auth import import_ed25519, is_local_key
from metro.services import INTERNAL, NAMES, PORTS

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
    # This service's Ed25519 private key (PEM) signing its service tokens, and the public key (PEM) of each
    # service whose tokens it accepts, as JSON ({"gateway": "-----BEGIN PUBLIC KEY-----..."}). Empty in local
    # mode: each service's pair is derived from its name (metro.service_auth.local_signing_key).
    signing_key: str = ""
    service_keys: dict[str, str] = Field(default_factory=dict)
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
            if not self.signing_key:
                raise ValueError("signing_key (this service's Ed25519 private key) is required outside local mode")
        self._check_keys()
        return self

    def _check_keys(self) -> None:
        """Keys that are set are Ed25519 keys of the right kind, for known services, and outside local mode none
        is a local one (derivable by anyone)."""
        keys = {"signing_key": (self.signing_key, True)} if self.signing_key else {}
        for service, pem in self.service_keys.items():
            if service not in NAMES:
                raise ValueError(f"service_keys names an unknown service {service!r} (services: {', '.join(NAMES)})")
            keys[f"service_keys[{service}]"] = (pem, False)
        for name, (pem, private) in keys.items():
            try:
                import_ed25519(pem, private=private)
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from None
            if not self.local_mode and is_local_key(pem):
                raise ValueError(f"{name} is a local-mode key, derivable by anyone: refused outside local mode")

    def secrets(self) -> dict[str, str]:
        """The settings that must be changed outside local mode; a subclass adds its own."""
        return {"signing_key": self.signing_key}

    def metrics_listen_port(self) -> int:
        return self.metrics_port or self.port + 1100

    def url_of(self, service: str) -> str:
        return getattr(self, f"{service}_url")
