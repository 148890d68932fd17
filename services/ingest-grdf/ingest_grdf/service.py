"""Collection decisions for one PCE: which gas days to ask ADICT, and what its answers become."""
from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

import sqlalchemy as sa

from ingest_grdf import models, repository
from ingest_grdf.adict import CAPABILITIES, INFORMATIVE_HISTORY_YEARS, DailyReading, history_windows, years_before
from ingest_grdf.adict_payloads import readings_in
from metro import collection
from metro.collection import PARIS, Answer, CallFailed, CallStats, Range, jsonable_contract, replay_command
from metro.dso import Outcome
from metro.events import ConsentRevoked, ContractChanged, Reading, ReadingsCollected

log = logging.getLogger(__name__)

SOURCE = "grdf.adict"
RAW_KIND = "informative_daily"
CHANNEL = CAPABILITIES.channel
CONTRACT_FIELDS = ("tariff", "annual_consumption_kwh", "daily_capacity_kwh", "profile", "commissioning_date",
                   "published_on")


def latest_published_day(now: dt.datetime) -> dt.date:
    """Informative gas day D is published from D+1 after GRDF's publication time (Europe/Paris)."""
    local = now.astimezone(PARIS)
    lag = CAPABILITIES.lag_days_min if local.time() >= CAPABILITIES.publication_time else CAPABILITIES.lag_days_min + 1
    return local.date() - dt.timedelta(days=lag)


def history_start(cursor, contract: dict[str, Any] | None, today: dt.date) -> dt.date:
    """Oldest gas day to collect: ADICT's 3-year depth, the consent's history_from, commissioning."""
    candidates = [years_before(today, INFORMATIVE_HISTORY_YEARS) + dt.timedelta(days=1)]
    if cursor.history_from:
        candidates.append(cursor.history_from)
    if contract and contract.get("commissioning_date"):
        candidates.append(dt.date.fromisoformat(contract["commissioning_date"]))
    return max(candidates)


def as_readings(readings: list[DailyReading]) -> list[Reading]:
    """Volume and conversion coefficient ride along with each day's energy."""
    return [(r.day, r.wh, r.quality, {"volume_m3": r.volume_m3,
                                      "conversion_coefficient": r.conversion_coefficient}) for r in readings]


def readings_events(meter_id: uuid.UUID, readings: list[DailyReading]) -> list[ReadingsCollected]:
    return ReadingsCollected.batches(meter_id, SOURCE, as_readings(readings))


def replay_parse(lines: Any, period: Range | None) -> list[Reading]:
    """The kept lines of one answer; the window it answered bounds the days, as at collection."""
    start, end = period or (dt.date.min, dt.date.max)
    return as_readings(readings_in(lines if isinstance(lines, list) else [lines], start, end))


replay = replay_command(repository.store, models.outbox, "ingest_grdf", kind=RAW_KIND, source=SOURCE,
                        parse=replay_parse)


def contract_event(meter_id: uuid.UUID, contract: dict[str, Any]) -> ContractChanged:
    """Gas has no subscribed power nor off-peak hours: the routing tariff (T1..T4) stands for the option."""
    return ContractChanged(
        meter_id=meter_id, dso=CAPABILITIES.dso, tariff_option=contract.get("tariff"),
        start=contract.get("commissioning_date"), status="active",
        raw={k: contract.get(k) for k in ("annual_consumption_kwh", "daily_capacity_kwh", "profile", "published_on")})


def revoked_event(cursor_or_right, reason: str, dso_status: str | None = None,
                  code: str | None = None) -> ConsentRevoked:
    r = cursor_or_right
    return ConsentRevoked(
        consent_id=r.consent_id, meter_id=r.meter_id, account_id=getattr(r, "account_id", None),
        dso=CAPABILITIES.dso, channel=CHANNEL, identifier=getattr(r, "identifier", None) or getattr(r, "pce", None),
        reason=reason, dso_reference=getattr(r, "dso_reference", None) or getattr(r, "access_right_id", None),
        dso_status=dso_status, code=code)


class Collector(collection.Collector):
    capabilities = CAPABILITIES
    store = repository.store
    raw_kind = RAW_KIND
    # A meter that moved out (1000000) ends the supply; every other "no right" code is the consent's end.
    supply_ended_codes = frozenset({"1000000"})

    def last_published_day(self, now: dt.datetime) -> dt.date:
        return latest_published_day(now)

    def history_start(self, cursor, contract: dict[str, Any] | None, today: dt.date) -> dt.date:
        return history_start(cursor, contract, today)

    def windows(self, gap: Range, today: dt.date) -> list[Range]:
        return history_windows(*gap, today)

    async def fetch_window(self, cursor, window: Range, raw: list[Any]) -> Answer:
        """The good lines of the stream, and the periods its retry lines (2000100) ask to be asked again."""
        retry: list = []
        readings = await self.client.informative_daily(cursor.identifier, window[0], window[1], raw, retry)
        return Answer(readings, retry)

    def last_day(self, readings: list[DailyReading]) -> dt.date | None:
        return readings[-1].day if readings else None

    def readings_events(self, cursor, readings: list[DailyReading]) -> list[ReadingsCollected]:
        return readings_events(cursor.meter_id, readings)

    async def fetch_contract(self, cursor, stats: CallStats) -> dict[str, Any] | None:
        try:
            return jsonable_contract(await self.call(stats, lambda: self.client.contract(cursor.identifier)),
                                     CONTRACT_FIELDS)
        except CallFailed as failed:
            # Contract data outside the right's perimeter must not stop the consumption it allows.
            if failed.error.outcome is not Outcome.bad_request:
                raise
            log.warning("contract data refused", extra={"meter_id": str(cursor.meter_id), "error": str(failed)})
            return None

    def contract_event(self, cursor, contract: dict[str, Any]) -> ContractChanged:
        return contract_event(cursor.meter_id, contract)

    def revoked_event(self, cursor, reason: str, code: str | None) -> ConsentRevoked:
        return revoked_event(cursor, reason, code=code)

    async def on_revoked(self, session, cursor) -> None:
        if cursor.dso_reference:
            await repository.update_access_right(session, cursor.dso_reference, status="revoked",
                                                 reported_status="revoked", checked_at=sa.func.now())
