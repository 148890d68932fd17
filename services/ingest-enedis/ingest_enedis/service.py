"""Collection decisions for one meter: which days to ask Data Connect, and what its answers become."""
from __future__ import annotations

import datetime as dt
from typing import Any

from ingest_enedis import models, priority, repository
from ingest_enedis.dataconnect_calendar import (CAPABILITIES, MAX_DAILY_WINDOW_DAYS, add_months, earliest_history_day,
                                                latest_published_day, plan_windows)
from ingest_enedis.dataconnect_payloads import daily_consumption_readings
from metro import collection
from metro.collection import CallStats, Range, jsonable_contract, replay_command
from metro.dso import DsoError
from metro.events import ContractChanged, Reading, ReadingsCollected

SOURCE = "enedis.dataconnect"
RAW_KIND = "daily_consumption"
CHANNEL = CAPABILITIES.channel
BEFORE_ACTIVATION = "ADAM-ERR0123"
# How long the count of meters and active residents (which sets the others' turn) is kept before counted again.
DEMAND_TTL = dt.timedelta(minutes=10)
CONTRACT_FIELDS = ("tariff_option", "subscribed_kva", "offpeak_hours", "status", "activation_date",
                   "distribution_tariff", "segment", "last_change")


# A history a few days longer than whole windows is cut to them: three years are 1 096 days in a leap period, and
# their last day would cost a fourth call of the first collection.
TRIM_TO_WINDOWS_DAYS = 7


def history_start(cursor, contract: dict[str, Any] | None, today: dt.date, history_months: int) -> dt.date:
    """Oldest day to collect: the consent's history_from, the DSO's history depth, the meter's activation, cut
    to whole 365-day windows when that saves a call for at most a week of the oldest history."""
    candidates = [earliest_history_day(today), add_months(today, -history_months)]
    if cursor.history_from:
        candidates.append(cursor.history_from)
    if contract and contract.get("activation_date"):
        candidates.append(dt.date.fromisoformat(contract["activation_date"]))
    start = max(candidates)
    whole, extra = divmod((today - start).days, MAX_DAILY_WINDOW_DAYS)
    if whole and 0 < extra <= TRIM_TO_WINDOWS_DAYS:
        start += dt.timedelta(days=extra)
    return start


def as_readings(days: list[tuple[dt.date, int]]) -> list[Reading]:
    return [(d, wh, "measured", None) for d, wh in days]


def replay_parse(body: Any, period: Range | None) -> list[Reading]:
    return as_readings(daily_consumption_readings(body))


replay = replay_command(repository.store, models.outbox, "ingest_enedis", kind=RAW_KIND, source=SOURCE,
                        parse=replay_parse)


def contract_calls(api_generation: str) -> int:
    """Requests one contract costs: three in the 2026 generation (situation, synthesis, metering), one in v5."""
    return 3 if api_generation == "2026" else 1


async def counted_demand(session, now: dt.datetime) -> priority.Demand:
    return priority.Demand(*await repository.demand(session, now - priority.SEEN_RECENTLY))


def turns_of(settings, demand: priority.Demand) -> priority.Turns:
    return priority.turns(settings.quota_per_hour, demand, contract_calls(settings.api_generation),
                          settings.contract_refresh_days)


_COUNTED: list[tuple[dt.datetime, priority.Demand]] = []


async def current_turns(session, settings, now: dt.datetime) -> priority.Turns:
    """The turns the scheduler plays at ``now`` (the API's promises): the count kept as long as the scheduler's."""
    if not _COUNTED or now - _COUNTED[0][0] > DEMAND_TTL or now < _COUNTED[0][0]:
        _COUNTED[:] = [(now, await counted_demand(session, now))]
    return turns_of(settings, _COUNTED[0][1])


class Collector(collection.Collector):
    capabilities = CAPABILITIES
    store = repository.store
    raw_kind = RAW_KIND
    supply_ended_codes = frozenset({"ADAM-DC-0007"})
    _demand: tuple[dt.datetime, priority.Demand] | None = None
    _turns: tuple[priority.Demand, priority.Turns] | None = None

    # Priorities under the hourly quota (see priority.py).

    def turns(self, demand: priority.Demand) -> priority.Turns:
        # Asked for each meter collected, with the same count for minutes: the last answer kept.
        if self._turns is None or self._turns[0] is not demand:
            self._turns = (demand, turns_of(self.settings, demand))
        return self._turns[1]

    def due_after(self, now: dt.datetime, seen_at: dt.datetime | None, demand: priority.Demand) -> dt.datetime:
        s = self.settings
        return priority.next_due(now, s.cycle_time, seen_at, self.turns(demand), s.cycle_jitter_minutes * 60, self.rng)

    def update_by(self, due_at: dt.datetime, demand: priority.Demand) -> dt.datetime:
        """When a meter due at ``due_at`` is collected at the latest: its ``next_update_at``."""
        return priority.update_by(due_at, self.turns(demand))

    def latest_due(self, now: dt.datetime, demand: priority.Demand) -> dt.datetime:
        """The promise: a meter collected at ``now`` is due again by then, whoever looks at it or not."""
        s = self.settings
        return priority.latest_due(now, s.cycle_time, self.turns(demand), s.cycle_jitter_minutes * 60)

    def pulled_due(self, at: dt.datetime, collected_at: dt.datetime | None, due_at: dt.datetime,
                   demand: priority.Demand) -> dt.datetime | None:
        """A look at a meter waiting for its turn: when it is due on the active residents' turn (None: unchanged)."""
        s = self.settings
        return priority.pulled_due(at, collected_at, due_at, s.cycle_time, self.turns(demand),
                                   s.cycle_jitter_minutes * 60)

    def contract_due(self, checked_at: dt.datetime | None, now: dt.datetime, demand: priority.Demand) -> bool:
        days = priority.contract_refresh_days(self.settings.contract_refresh_days, self.turns(demand).others_days)
        return checked_at is None or now - checked_at > dt.timedelta(days=days)

    async def demand(self, now: dt.datetime) -> priority.Demand:
        if self._demand is None or now - self._demand[0] > DEMAND_TTL:
            async with self.rt.db.session() as session:
                self._demand = (now, await counted_demand(session, now))
        return self._demand[1]

    async def next_due(self, cursor, now: dt.datetime) -> dt.datetime:
        async with self.rt.db.session() as session:
            seen_at = await repository.seen_at(session, cursor.meter_id)
        return self.due_after(now, seen_at, await self.demand(now))

    def contract_stale(self, cursor, now: dt.datetime) -> bool:
        # Only the cached demand: a sync check, counted again at the next next_due.
        demand = self._demand[1] if self._demand else priority.Demand(0, 0)
        return self.contract_due(cursor.contract_checked_at, now, demand)

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
