"""The ingest-enedis service."""
from __future__ import annotations

from pathlib import Path

from pydantic_settings import SettingsConfigDict

from ingest_enedis import models
from metro.app import ServiceSpec
from metro.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="METRO_INGEST_ENEDIS_", extra="ignore")


def spec() -> ServiceSpec:
    return ServiceSpec(name="ingest_enedis", package_dir=Path(__file__).parent, routers=[],
                       outbox_table=models.outbox, inbox_table=models.inbox)
