"""The load curve and daily maximum power: a second collection of the Data Connect meters, on the quota the
daily readings leave (``SpareBucket``), the last days every day and 24 months when the resident asks."""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from typing import Any

from ingest_enedis import repository
from ingest_enedis.curve import pack_days
from ingest_enedis.dataconnect_calendar import (CAPABILITIES, MAX_CURVE_WINDOW_DAYS, MAX_DAILY_WINDOW_DAYS, add_months,
                                                latest_published_day, plan_windows)
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
        # Per meter under collection: the days its windows span, and the peaks asked for ahead (their days, by day).
        self._spans: dict = {}
        self._peaks: dict = {}

    def plan(self, cursor, contract, have, failing, now):
        windows, known, late_from = super().plan(cursor, contract, have, failing, now)
        asked = windows + known
        if asked:
            self._spans[cursor.meter_id] = (min(w[0] for w in asked), max(w[1] for w in asked))
        return windows, known, late_from

    def calls_dso(self, cursor, window: Range) -> bool:
        """A customer who objected to the curve is asked only the peaks: none for a window already asked ahead."""
        objected = self.curve_objected(cursor) or cursor.meter_id in self._objected
        return not objected or self._peaks_ahead(cursor.meter_id, window) is None

    def _peaks_ahead(self, meter_id, window: Range) -> dict | None:
        """The peaks asked ahead for this meter, by day, if they cover the window."""
        (first, end), by_day = self._peaks.get(meter_id, ((window[0], window[0]), {}))
        return by_day if first <= window[0] and window[1] <= end else None

    async def _peaks_of(self, cursor, window: Range, raw: list[Any], calls: int) -> list:
        """The window's daily peaks. The peaks allow 365 days a call where the curve allows 7: one call covers the
        year of windows before this one (newest first) within the days planned, so a 24-month history costs some
        104 curve calls and 3 peak calls, not 208. A wide call refused (a meter activated within it) falls back
        to the window alone, as the curve's own call does."""
        by_day = self._peaks_ahead(cursor.meter_id, window)
        if by_day is None:
            span = self._spans.get(cursor.meter_id, window)
            wide = (max(min(span[0], window[0]), window[1] - dt.timedelta(days=MAX_DAILY_WINDOW_DAYS)), window[1])
            if calls:
                await self.bucket.take()
            try:
                peaks = await self.client.daily_max_power(cursor.identifier, *wide, raw)
            except NoData:
                peaks = []
            except BadRequest:
                if wide == window:
                    raise
                await self.bucket.take()
                wide, peaks = window, await self._window_peaks(cursor, window, raw)
            by_day = {p.day: p for p in peaks}
            self._peaks[cursor.meter_id] = (wide, by_day)
        return [p for d, p in sorted(by_day.items()) if window[0] <= d < window[1]]

    async def _window_peaks(self, cursor, window: Range, raw: list[Any]) -> list:
        try:
            return await self.client.daily_max_power(cursor.identifier, *window, raw)
        except NoData:
            return []

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
        # The peaks, when asked, are one more request under the same (spare) quota.
        peaks = await self._peaks_of(cursor, window, raw, calls=int(asked_curve))
        by_day: dict[dt.date, list] = {d: [d, s, w, None] for d, s, w in pack_days(points)}
        for p in peaks:
            by_day.setdefault(p.day, [p.day, None, None, None])[3] = (p.day, p.va, p.at)
        return [tuple(v) for _, v in sorted(by_day.items())]

    async def _collect(self, cursor, stats: CallStats) -> tuple[Outcome, dict]:
        async with self.rt.db.session() as session:
            started = await repository.daily_started(session, cursor.meter_id)
        if not started:
            # The daily readings come first: the curve waits until their first answer is in.
            wait = dt.timedelta(seconds=self.settings.curve_daily_first_wait_s)
            return Outcome.ok, {"next_due_at": dt.datetime.now(dt.UTC) + wait}
        try:
            outcome, values = await super()._collect(cursor, stats)
        finally:
            objected = cursor.meter_id in self._objected
            self._objected.discard(cursor.meter_id)
            self._spans.pop(cursor.meter_id, None)
            self._peaks.pop(cursor.meter_id, None)
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
