"""The consent service: dwellings, meters, DSO consents and their life cycle, shares, access log."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from pydantic_settings import SettingsConfigDict

from consent import api, handlers, landlord_api, models, privacy, worker
from metro.app import ServiceSpec
from metro.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="METRO_CONSENT_", extra="ignore")

    # Enedis never reports a refusal: a consent page nobody came back from times out after 7 days.
    holder_timeout: dt.timedelta = dt.timedelta(days=7)
    # A withdrawn consent on a local operator's meter stays in the operator's list (as withdrawn) this long.
    file_withdrawals_listed: dt.timedelta = dt.timedelta(days=1)
    consent_page_ttl: dt.timedelta = dt.timedelta(days=7)
    reminder_days: tuple[int, ...] = (30, 7)
    sweep_interval: dt.timedelta = dt.timedelta(minutes=10)
    # Meters one account may claim at once; a released claim does not count.
    max_meters_per_account: int = 10
    # An organisation's portfolio (a municipality's buildings, a landlord's housing) is larger.
    max_meters_per_organisation: int = 10_000
    # Enedis may list a consent in Services souscrits some time after it: asked again after 1 min, 2, 4, ...
    # at most hourly, until holder_timeout.
    dso_check_retry_base: dt.timedelta = dt.timedelta(minutes=1)
    dso_check_retry_max: dt.timedelta = dt.timedelta(hours=1)
    dso_check_interval: dt.timedelta = dt.timedelta(seconds=15)


def spec() -> ServiceSpec:
    return ServiceSpec(name="consent", package_dir=Path(__file__).parent, routers=[api.router, landlord_api.router],
                       outbox_table=models.outbox, inbox_table=models.inbox, consumers=handlers.HANDLERS,
                       workers=[worker.lifecycle_worker, worker.dso_check_worker],
                       personal_data=privacy.PERSONAL_DATA)
