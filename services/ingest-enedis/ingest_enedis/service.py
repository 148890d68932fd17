"""Collection decisions for one meter: which days to ask Data Connect, and what its answers become."""
from __future__ import annotations

import datetime as dt
from typing import Any

from ingest_enedis import models, repository
from ingest_enedis.dataconnect_calendar import (CAPABILITIES, add_months, earliest_history_day, latest_published_day,
                                                plan_windows)
from ingest_enedis.dataconnect_payloads import daily_consumption_readings
from metro import collection
from metro.collection import CallStats, Range, jsonable_contract, replay_command
from metro.dso import DsoError
from metro.events import ContractChanged, Reading, ReadingsCollected

SOURCE = "enedis.dataconnect"
RAW_KIND = "daily_consumption"
CHANNEL = CAPABILITIES.channel
BEFORE_ACTIVATION = "ADAM-ERR0123"
CONTRACT_FIELDS = ("tariff_option", "subscribed_kva", "offpeak_hours", "status", "activation_date",
                   "distribution_tariff", "segment", "last_change")


def history_start(cursor, contract: dict[str, Any] | None, today: dt.date, history_months: int) -> dt.date:
    """Oldest day to collect: the consent's history_from, the DSO's history depth, the meter's activation."""
    candidates = [earliest_history_day(today), add_months(today, -history_months)]
    if cursor.history_from:
        candidates.append(cursor.history_from)
    if contract and contract.get("activation_date"):
        candidates.append(dt.date.fromisoformat(contract["activation_date"]))
    return max(candidates)


def as_readings(days: list[tuple[dt.date, int]]) -> list[Reading]:
    return [(d, wh, "measured", None) for d, wh in days]


def replay_parse(body: Any, period: Range | None) -> list[Reading]:
    return as_readings(daily_consumption_readings(body))


replay = replay_command(repository.store, models.outbox, "ingest_enedis", kind=RAW_KIND, source=SOURCE,
                        parse=replay_parse)


class Collector(collection.Collector):
    capabilities = CAPABILITIES
    store = repository.store
    raw_kind = RAW_KIND
    supply_ended_codes = frozenset({"ADAM-DC-0007"})

    def last_published_day(self, now: dt.datetime) -> dt.date:
        return latest_published_day(now)

    def history_start(self, cursor, contract: dict[str, Any] | None, today: dt.date) -> dt.date:
        return history_start(cursor, contract, today, self.settings.history_months)

    def windows(self, gap: Range, today: dt.date) -> list[Range]:
        return plan_windows(*gap)

    async def fetch_window(self, cursor, window: Range, raw: list[Any]) -> list[tuple[dt.date, int]]:
        return await self.client.daily_consumption(cursor.identifier, window[0], window[1], raw)

    def last_day(self, readings: list[tuple[dt.date, int]]) -> dt.date | None:
        return max((d for d, _ in readings), default=None)

    def raw_body(self, raw: list[Any]) -> Any:
        return raw[0] if raw else None

    def no_data_is_final(self, error: DsoError, window: Range, late_from: dt.date) -> bool:
        # Days before the meter's activation will never come.
        return error.code == BEFORE_ACTIVATION or window[1] <= late_from

    def readings_events(self, cursor, readings: list[tuple[dt.date, int]]) -> list[ReadingsCollected]:
        return ReadingsCollected.batches(cursor.meter_id, SOURCE, as_readings(readings))

    async def fetch_contract(self, cursor, stats: CallStats) -> dict[str, Any]:
        contract = await self.client.contract(cursor.identifier, lambda call: self.call(stats, call))
        return jsonable_contract(contract, CONTRACT_FIELDS)

    def supply_ended(self, contract: dict[str, Any] | None) -> bool:
        return bool(contract) and contract.get("status") == "terminated"

    def contract_event(self, cursor, contract: dict[str, Any]) -> ContractChanged:
        return ContractChanged(
            meter_id=cursor.meter_id, dso=CAPABILITIES.dso, tariff_option=contract.get("tariff_option"),
            subscribed_kva=contract.get("subscribed_kva"), offpeak_hours=contract.get("offpeak_hours"),
            start=contract.get("activation_date"), status=contract.get("status"),
            raw={k: contract.get(k) for k in ("distribution_tariff", "segment", "last_change")})
