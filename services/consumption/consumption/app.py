"""The consumption service: readings, euros, comparisons, anomalies, aggregates."""
from __future__ import annotations

from pathlib import Path

from pydantic_settings import SettingsConfigDict

from consumption import api, catalogues, handlers, models, peers, privacy, series, worker
from consumption.anomalies import DEFAULT_FLOOR_WH, DEFAULT_RATIO, DEFAULT_WEEKS
from metro.app import Runtime, ServiceSpec
from metro.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="METRO_CONSUMPTION_", extra="ignore")

    # A day is an anomaly when it is ≥ ratio × its baseline and ≥ floor Wh above it.
    anomaly_ratio: float = DEFAULT_RATIO
    anomaly_floor_wh: int = DEFAULT_FLOOR_WH
    anomaly_weeks: int = DEFAULT_WEEKS
    # Episodes ending longer ago than this before the meter's last day are history, not news.
    anomaly_lookback_days: int = 14
    # How long the anomaly and pricing workers sleep when their queue is empty.
    worker_interval_seconds: float = 2.0
    comparison_cache_seconds: float = 300.0
    tariff_refresh_seconds: float = 10.0
    # The Météo-France station whose degree days weather-normalise comparisons of the reference area.
    degree_day_station: str = peers.DEFAULT_DEGREE_DAY_STATION
    # The Métropole's aggregates of a year are recomputed once its rollups have not changed for `settle` seconds
    # (after the night's rollups), at most every `every` seconds, and at the latest `every` seconds after a change.
    aggregates_settle_seconds: float = 300.0
    aggregates_every_seconds: float = 1800.0
    # The peer statistics (peer_statistics): a period is computed again once something it reads changed and its
    # last computation is `peer_refresh_seconds` old, and at the latest every `peer_max_age_seconds`. Below
    # `peers_in_request_below` homes of an energy, a request computes what changed since itself.
    peer_refresh_seconds: float = 900.0
    peer_max_age_seconds: float = 86_400.0
    peers_in_request_below: int = 20_000


async def _start(rt: Runtime) -> None:
    settings: Settings = rt.settings  # type: ignore[assignment]
    peers.PEERS.ttl = settings.comparison_cache_seconds
    catalogues.TARIFFS.refresh_seconds = settings.tariff_refresh_seconds
    catalogues.DEGREE_DAYS.refresh_seconds = settings.tariff_refresh_seconds
    peers.PEERS.station = settings.degree_day_station
    peers.PEERS.db = rt.db
    peers.PEERS.in_request_below = settings.peers_in_request_below
    async with rt.db.session() as session, session.begin():
        await catalogues.seed_tariffs(session)


def spec() -> ServiceSpec:
    return ServiceSpec(name="consumption", package_dir=Path(__file__).parent, routers=[api.router],
                       outbox_table=models.outbox, inbox_table=models.inbox, consumers=handlers.HANDLERS,
                       order_keys=handlers.ORDER_KEYS,
                       workers=[worker.anomaly_worker, worker.pricing_worker, worker.aggregates_worker,
                                worker.peers_worker],
                       on_start=[_start],
                       warm_reads=series.warm_reads, personal_data=privacy.PERSONAL_DATA,
                       before_erase=privacy.before_erase, after_erase=privacy.after_erase,
                       withheld_meters=privacy.withheld_meters, probes=[worker.probe()])
