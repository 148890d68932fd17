"""The load curve and daily maximum power: a second collection of the Data Connect meters, on the quota the
daily readings leave (``SpareBucket``), the last days every day and 24 months when the resident asks."""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from typing import Any

from ingest_enedis import repository
from ingest_enedis.curve import pack_days
from ingest_enedis.dataconnect_calendar import (CAPABILITIES, MAX_CURVE_WINDOW_DAYS, add_months, latest_published_day,
                                                plan_windows)
from ingest_enedis.dataconnect_payloads import CURVE_NOT_RECORDED
from ingest_enedis.service import BEFORE_ACTIVATION, SOURCE
from metro import collection
from metro.collection import CallStats, Range
from metro.dso import BadRequest, DsoError, NoData, Outcome
from metro.events import ConsentRevoked, LoadCurveCollected

log = logging.getLogger(__name__)

RAW_KIND = "consumption_load_curve"
# A kept cycle's DSO name: the curve's cycles are counted apart from the daily readings'.
CURVE_CAPABILITIES = dataclasses.replace(
    CAPABILITIES, dso="enedis-curve", granularities=("PT30M", "P1D"), history_days=24 * 31 + 15,
    notes=("load curve: average W per interval, PT10M to PT60M mixed, at most 7 days a call, 24 months + 15 days",
           "daily maximum power in VA with the moment of the peak",
           "collected on the quota the daily readings leave"))


DAILY_FIRST_WAIT_S = 20.0


def earliest_curve_day(today: dt.date) -> dt.date:
    """Oldest `start` the load-curve endpoint accepts (24 months + 15 days back), one day of margin kept."""
    return add_months(today, -24) - dt.timedelta(days=14)


# One day as collected: [day, step, watts] (None when only the peak came) and the peak [day, va, at] (or None).
CurveReading = tuple[dt.date, int | None, list | None, tuple | None]


def curve_events(meter_id, readings: list[CurveReading]) -> list[LoadCurveCollected]:
    n = LoadCurveCollected.MAX_DAYS
    return [LoadCurveCollected(meter_id=meter_id, source=SOURCE,
                               days=[(d, s, w) for d, s, w, _ in chunk if w is not None],
                               max_power=[p for *_, p in chunk if p is not None])
            for chunk in (readings[i:i + n] for i in range(0, len(readings), n))]


class LoadCurveCollector(collection.Collector):
    capabilities = CURVE_CAPABILITIES
    store = repository.curve_store
    raw_kind = RAW_KIND
    supply_ended_codes = frozenset({"ADAM-DC-0007"})

    def last_published_day(self, now: dt.datetime) -> dt.date:
        return latest_published_day(now)

    def history_start(self, cursor, contract: dict[str, Any] | None, today: dt.date) -> dt.date:
        recent = today - dt.timedelta(days=self.settings.curve_recent_days)
        candidates = [earliest_curve_day(today), cursor.backfill_from or recent]
        if cursor.history_from:
            candidates.append(cursor.history_from)
        return max(candidates)

    def windows(self, gap: Range, today: dt.date) -> list[Range]:
        return plan_windows(*gap, max_days=MAX_CURVE_WINDOW_DAYS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Meters whose customer objected to the load curve, found during the collection under way.
        self._objected: set = set()

    @staticmethod
    def curve_objected(cursor) -> bool:
        return (cursor.last_error or "").startswith(CURVE_NOT_RECORDED)

    async def fetch_window(self, cursor, window: Range, raw: list[Any]) -> list[CurveReading]:
        points = []
        asked_curve = not self.curve_objected(cursor) and cursor.meter_id not in self._objected
        if asked_curve:
            try:
                points = await self.client.load_curve(cursor.identifier, window[0], window[1], raw)
            except BadRequest as error:
                if error.code != CURVE_NOT_RECORDED:
                    raise
                # The customer objected to the curve at Enedis: its daily maximum power is still collected.
                log.info("load curve not recorded", extra={"meter_id": str(cursor.meter_id)})
                self._objected.add(cursor.meter_id)
            # The peak is a second request under the same (spare) quota.
            await self.bucket.take()
        try:
            peaks = await self.client.daily_max_power(cursor.identifier, window[0], window[1], raw)
        except NoData:
            peaks = []
        by_day: dict[dt.date, list] = {d: [d, s, w, None] for d, s, w in pack_days(points)}
        for p in peaks:
            by_day.setdefault(p.day, [p.day, None, None, None])[3] = (p.day, p.va, p.at)
        return [tuple(v) for _, v in sorted(by_day.items())]

    async def _collect(self, cursor, stats: CallStats) -> tuple[Outcome, dict]:
        async with self.rt.db.session() as session:
            started = await repository.daily_started(session, cursor.meter_id)
        if not started:
            # The daily readings come first: the curve waits until their first answer is in.
            return Outcome.ok, {"next_due_at": dt.datetime.now(dt.UTC) + dt.timedelta(seconds=DAILY_FIRST_WAIT_S)}
        try:
            outcome, values = await super()._collect(cursor, stats)
        finally:
            objected = cursor.meter_id in self._objected
            self._objected.discard(cursor.meter_id)
        if objected or self.curve_objected(cursor):
            values["last_error"] = f"{CURVE_NOT_RECORDED} the customer objected to the load curve"
        async with self.rt.db.session() as session:
            asked = await repository.backfill_from(session, cursor.meter_id)
        if asked is not None and (cursor.backfill_from is None or asked < cursor.backfill_from):
            # The resident asked for the history while this collection ran on the older request: at once again.
            values["next_due_at"] = dt.datetime.now(dt.UTC)
        return outcome, values

    def last_day(self, readings: list[CurveReading]) -> dt.date | None:
        return max((r[0] for r in readings), default=None)

    def no_data_is_final(self, error: DsoError, window: Range, late_from: dt.date) -> bool:
        return error.code == BEFORE_ACTIVATION or window[1] <= late_from

    def readings_events(self, cursor, readings: list[CurveReading]) -> list[LoadCurveCollected]:
        return curve_events(cursor.meter_id, readings)

    async def fetch_contract(self, cursor, stats: CallStats) -> None:
        return None

    def revoked_event(self, cursor, reason: str, code: str | None) -> ConsentRevoked:
        return super().revoked_event(cursor, reason, code).model_copy(update={"dso": CAPABILITIES.dso})
