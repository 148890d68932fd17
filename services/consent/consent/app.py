"""The consent service: dwellings, meters, DSO consents and their life cycle, shares, access log."""
from __future__ import annotations

from pathlib import Path

from pydantic_settings import SettingsConfigDict

from consent import api, models
from metro.app import ServiceSpec
from metro.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="METRO_CONSENT_", extra="ignore")


def spec() -> ServiceSpec:
    return ServiceSpec(name="consent", package_dir=Path(__file__).parent, routers=[api.router],
                       outbox_table=models.outbox, inbox_table=models.inbox)
