"""The consumption service: readings, euros, comparisons, anomalies, aggregates."""
from __future__ import annotations

from pathlib import Path

from pydantic_settings import SettingsConfigDict

from consumption import api, handlers, models
from metro.app import ServiceSpec
from metro.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="METRO_CONSUMPTION_", extra="ignore")


def spec() -> ServiceSpec:
    return ServiceSpec(name="consumption", package_dir=Path(__file__).parent, routers=[api.router],
                       outbox_table=models.outbox, inbox_table=models.inbox, consumers=handlers.HANDLERS)
