"""A meter compared with its peers (comparison.choose among the homes of its energy) and with its own last year, over
whole calendar months: every figure comes from the per-meter monthly rollups the pricing worker keeps, never from
the daily table.

The peers are read from the statistics the worker keeps (peer_statistics) once it computed the period, under the
degree days in force. Before that, or when something changed since for a population smaller than
`in_request_below` homes (exact and current where that is cheap), this process computes them (PeerCache, shared by
every request); for a larger population the answer says they are being computed (`peer_statistics_pending`) and
the worker computes the period next."""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
import uuid
from dataclasses import dataclass, field

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from consumption import peer_statistics, repository
from consumption.access import authorize_meter, check_shown
from consumption.catalogues import DEGREE_DAYS, degree_days_version
from consumption.comparison import (DEFAULT_CLIMATE_AREA, HomeComparison, MetricComparison, compare_homes,
                                    comparison_profile)
from consumption.peer_statistics import MIN_PEER_COVERAGE, home_kwh
from consumption.periods import check_range, month_bounds, next_period, same_day_last_year
from metro.db import Database
from metro.errors import AppError
from metro.schemas.consumption import Comparison, PeerMetric, Step
from metro.service_auth import Principal

__all__ = ["MIN_PEER_COVERAGE", "PEERS", "compare", "comparison"]
log = logging.getLogger(__name__)
DEFAULT_DEGREE_DAY_STATION = "38538002"  # Météo-France GRENOBLE - LVD (Le Versoud), inside the Métropole
PENDING = "peer_statistics_pending"


@dataclass
class PeerPeriod:
    results: dict[uuid.UUID, HomeComparison]
    expires: float
    # When the homes' descriptions were read: one described or changed since makes them out of date.
    computed_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))


class PeerCache:
    """Peer statistics per (energy, period), shared by every request of this process for `ttl` seconds.

    Past its time an entry is still served while one task computes its successor: no request waits for the
    periodic recomputation (a second or more over the whole population), and the CPU-bound comparison runs in a
    thread so that the event loop keeps serving meanwhile. Only a period never computed yet, or a cache just
    invalidated, is waited for."""

    def __init__(self, ttl: float = 300.0, station: str = DEFAULT_DEGREE_DAY_STATION,
                 in_request_below: int = 20_000):
        self.ttl = ttl
        # Below this many homes of an energy, a request computes what the worker has not (module docstring).
        self.in_request_below = in_request_below
        # The weather station whose degree days stand for the reference area (Grenoble - Le Versoud).
        self.station = station
        self.db: Database | None = None  # for the refreshes in the background (set at start-up)
        self.entries: dict[tuple[str, dt.date, dt.date], PeerPeriod] = {}
        self.locks: dict[tuple[str, dt.date, dt.date], asyncio.Lock] = {}
        self.refreshing: dict[tuple[str, dt.date, dt.date], asyncio.Task] = {}

    def invalidate(self) -> None:
        self.entries.clear()

    def forget(self, energy: str, start: dt.date, end: dt.date) -> None:
        self.entries.pop((energy, start, end), None)

    async def get(self, session: AsyncSession, energy: str, start: dt.date, end: dt.date) -> PeerPeriod:
        key = (energy, start, end)
        entry = self.entries.get(key)
        if entry is not None:
            if entry.expires <= time.monotonic() and self.db is not None and key not in self.refreshing:
                task = asyncio.create_task(self._refresh(key), name=f"peers:{energy}:{start}")
                self.refreshing[key] = task
                task.add_done_callback(lambda _: self.refreshing.pop(key, None))
            return entry
        async with self.locks.setdefault(key, asyncio.Lock()):
            entry = self.entries.get(key)
            if entry is None:
                entry = self._store(key, await self._compute(session, *key))
            return entry

    async def _refresh(self, key: tuple[str, dt.date, dt.date]) -> None:
        try:
            async with self.db.session() as session:
                self._store(key, await self._compute(session, *key))
        except Exception:
            log.exception("peer statistics not refreshed; the previous ones are served meanwhile")

    def _store(self, key: tuple[str, dt.date, dt.date], entry: PeerPeriod) -> PeerPeriod:
        # Periods nobody asked for during a few lifetimes are dropped.
        stale = time.monotonic() - 3 * self.ttl
        for k in [k for k, e in self.entries.items() if e.expires <= stale]:
            del self.entries[k]
        self.entries[key] = entry
        return entry

    async def _compute(self, session: AsyncSession, energy: str, start: dt.date, end: dt.date) -> PeerPeriod:
        computed_at = dt.datetime.now(dt.UTC)
        days = (end - start).days
        homes = [(meter_id, comparison_profile(orjson.loads(profile)), home_kwh(wh, present, days))
                 for meter_id, profile, wh, present in await repository.period_totals(session, energy, start, end)]
        dju = (await DEGREE_DAYS.get(session)).period_and_reference(self.station, start, end)
        results = await asyncio.to_thread(compare_homes, homes, energy=energy,
                                          degree_days={DEFAULT_CLIMATE_AREA: dju} if dju else None)
        return PeerPeriod({uuid.UUID(k): v for k, v in results.items()}, time.monotonic() + self.ttl, computed_at)


PEERS = PeerCache()
# Degree days weather-normalise the comparisons: a new version of them is a new computation.
DEGREE_DAYS.dependents.append(PEERS.invalidate)


def _metric(m: MetricComparison | None) -> PeerMetric | None:
    if m is None:
        return None
    return PeerMetric(value=round(m.value, 3), median=round(m.median, 3), efficient=round(m.efficient, 3),
                      rank=m.rank, percentile=round(m.percentile, 1), group_size=m.group_size)


def whole_months(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The calendar months a comparison of [start, end) covers: those wholly inside it, or, when there is none
    (thirty days across two months), the month holding its middle day."""
    first = start if start.day == 1 else next_period(start.replace(day=1), Step.month)
    last = end.replace(day=1)
    if first < last:
        return first, last
    return month_bounds(start + (end - start) / 2)


async def _in_process(session: AsyncSession, meter: sa.Row, start: dt.date, end: dt.date,
                      described_at: dt.datetime | None) -> HomeComparison | None:
    peers = await PEERS.get(session, meter.energy, start, end)
    if described_at is not None and described_at > peers.computed_at:
        # The home was described (or its description changed) since: the resident who just described it sees
        # the comparison it makes possible, not the cached "not described".
        PEERS.forget(meter.energy, start, end)
        peers = await PEERS.get(session, meter.energy, start, end)
    return peers.results.get(meter.meter_id)


async def _peer_result(session: AsyncSession, meter: sa.Row, start: dt.date, end: dt.date,
                       data: sa.Row) -> HomeComparison | None:
    """The home among its peers (None: its dwelling is not described), from the worker's statistics or computed
    here (module docstring). ``data``: repository.comparison_data's."""
    current = data.computed_at is not None and data.degree_days == await degree_days_version(session)
    if current and not (data.changed and data.homes < PEERS.in_request_below):
        return await peer_statistics.stored_result(session, meter, start, end, data, PEERS.station)
    if not data.kept:
        await repository.request_peer_periods(session, [(meter.energy, start, end)])
    homes = data.homes if data.homes is not None else await repository.peer_homes(session, meter.energy)
    if homes is not None and homes >= PEERS.in_request_below:
        if data.profile is None:
            return None
        return HomeComparison(str(meter.meter_id), None, (), 0, False, None, None, None, PENDING)
    return await _in_process(session, meter, start, end, data.described_at)


async def compare(session: AsyncSession, meter: sa.Row, start: dt.date, end: dt.date) -> Comparison:
    """``start``/``end`` are taken to whole months (whole_months); the answer names the months compared."""
    start, end = whole_months(start, end)
    days = (end - start).days
    ly_start, ly_end = same_day_last_year(start), same_day_last_year(end)
    data = await repository.comparison_data(session, meter, start, end, ly_start, ly_end)
    wh = data.wh if data.present else None
    view = Comparison(meter_id=meter.meter_id, energy=meter.energy, start=start, end=end, wh=wh,
                      days_missing=days - data.present, available=False,
                      last_year_wh=data.last_year_wh if data.last_year_present else None,
                      last_year_days_missing=(ly_end - ly_start).days - data.last_year_present
                      if data.last_year_present else None)
    result = await _peer_result(session, meter, start, end, data)
    if result is None:
        view.reason = "dwelling_not_described"
    elif result.kwh is None:
        view.reason = result.reason or "no_consumption"
        if view.reason == "no_consumption" and wh is not None:
            view.reason = "too_many_missing_days"
    else:
        view.available = True
        view.level, view.criteria, view.group_size = result.level, list(result.criteria), result.group_size
        view.weather_normalised = result.weather_normalised
        view.kwh, view.kwh_per_m2 = _metric(result.kwh), _metric(result.per_m2)
        view.kwh_per_occupant = _metric(result.per_occupant)
    return view


async def comparison(session: AsyncSession, meter_id: uuid.UUID, principal: Principal, start: dt.date,
                     end: dt.date) -> Comparison:
    meter = await authorize_meter(session, meter_id, principal)
    check_shown(meter)
    check_range(start, end, Step.year)
    if (end - start).days > 366:
        raise AppError("a comparison covers at most one year", code="period_too_long", status_code=422)
    return await compare(session, meter, start, end)
