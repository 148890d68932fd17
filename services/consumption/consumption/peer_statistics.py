"""The peer statistics kept by the worker, so that no request computes them over the whole population.

For each energy and kept period of whole months, every group of comparison.LEVELS with at least 9 homes (10 with
one described since) is stored with the distribution of its kWh, kWh per m² and kWh per occupant: the values
themselves up to comparison.EXACT_VALUES, their quantiles at every 0.1 % beyond. A request reads the few groups its
home's criteria name (one statement) and places the home among them (comparison.choose), as the in-process
computation would.

Kept periods: the app's own (APP_PERIODS: the last 13 months one by one, the 12 months to the end of this month and
to its start, the last two calendar years), and any other asked for in the last 35 days. A period is computed
again once something it reads changed (peer_changes, logged by triggers) and its last computation is
`peer_refresh_seconds` old, and at the latest every `peer_max_age_seconds`. Its homes are read in one
REPEATABLE READ snapshot with the changes it answers (deleted with the result), and grouped in a process of their
own (the API's event loop keeps its core).

A home is counted in the stored groups when its description is older than the computation; one described since
is added to its group at the request. Its own figures come from its rollups at the request. Until the next
computation, the others' changes are not seen: at most `peer_refresh_seconds` after a change, or the whole time
the worker is behind."""
from __future__ import annotations

import asyncio
import ctypes
import datetime as dt
import logging
import multiprocessing
import signal
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from consumption import repository
from consumption.catalogues import DEGREE_DAYS, degree_days_version
from consumption.comparison import (DEFAULT_CLIMATE_AREA, EXACT_VALUES, LEVELS, METRICS, MIN_GROUP_SIZE,
                                    Distribution, HomeComparison, PeerGroup, Prepared, choose,
                                    comparison_profile, level_groups, prepare)
from consumption.periods import next_period
from metro.app import Runtime
from metro.collection import PARIS
from metro.db import Database
from metro.schemas import Energy
from metro.schemas.consumption import Step

log = logging.getLogger(__name__)

# A home missing a few days is scaled to the whole period; one missing more is left out of the groups.
MIN_PEER_COVERAGE = 0.9
# Energies read by a DSO or an operator (compared with peers); fuel oil and wood are stated by the resident.
COMPARED = (Energy.electricity, Energy.gas, Energy.heat, Energy.water)
KEEP = dt.timedelta(days=35)
# A group smaller than this cannot reach comparison.MIN_GROUP_SIZE, even with one home added at the request.
MIN_STORED = 9


def app_periods(today: dt.date) -> list[tuple[dt.date, dt.date]]:
    """The periods the app asks for: each of the last 13 months (the summary's last complete month, the day view's
    months), the 12 months to the end of this month and to its start (the month view), the last two calendar
    years (the yearly reports)."""
    month = today.replace(day=1)
    months = [month]
    for _ in range(12):
        months.append((months[-1] - dt.timedelta(days=1)).replace(day=1))
    periods = {(m, next_period(m, Step.month)) for m in months}
    following = next_period(month, Step.month)
    periods |= {(following.replace(year=following.year - 1), following), (month.replace(year=month.year - 1), month)}
    periods |= {(dt.date(y, 1, 1), dt.date(y + 1, 1, 1)) for y in (today.year - 1, today.year - 2)}
    return sorted(periods)


def home_kwh(wh: int | None, present: int, days: int) -> float | None:
    """A home's kWh over a period of ``days``: scaled to the whole period when it misses a few days."""
    return wh / 1000 * days / present if wh is not None and present >= days * MIN_PEER_COVERAGE else None


def group_key(key: tuple) -> str:
    return orjson.dumps(list(key)).decode()


class Preparing:
    """A period's homes as the groups see them, one at a time, and their groups' rows, level by level: the grouping
    process holds the homes' figures (alike criteria shared) and one level's values, not the rows read nor every
    level at once (at the Métropole's 269 000 homes its peak went from 526 to 365 MiB, docs/scale.md)."""

    def __init__(self, energy: str, days: int, degree_days: tuple[float, float] | None):
        self.energy, self.days = energy, days
        self.dju = {DEFAULT_CLIMATE_AREA: degree_days} if degree_days else None
        self.shared: dict[tuple, dict[str, Any]] = {}

    def home(self, profile: str, wh: int | None, present: int) -> Prepared:
        # No id: a group holds figures only.
        return prepare(("", comparison_profile(orjson.loads(profile)), home_kwh(wh, present, self.days)),
                       energy=self.energy, degree_days=self.dju, shared=self.shared)

    def rows(self, prepared: list[Prepared]) -> list[dict[str, Any]]:
        prepared = [p for p in prepared if p.kwh is not None]
        rows = []
        for level in range(len(LEVELS)):
            for key, group in level_groups(prepared, level, cap=EXACT_VALUES).items():
                if group.size >= MIN_STORED:
                    row: dict[str, Any] = {"level": level, "key": group_key(key)}
                    for name in METRICS:
                        distribution: Distribution = getattr(group, name)
                        row[f"{name}_n"], row[name] = distribution.n, list(distribution.points)
                    rows.append(row)
        return rows


def read_and_group(database: tuple[str, bool], snapshot: str, energy: str, start: dt.date, end: dt.date,
                   degree_days: tuple[float, float] | None) -> tuple[int, list[dict[str, Any]]]:
    """Run in the grouping process: the period's homes read in the worker's snapshot (``database``: the URL and
    whether prepared statements are allowed), each prepared as it is read, then grouped; their number and the
    groups' rows. The homes never enter the service's own process."""
    preparing = Preparing(energy, (end - start).days, degree_days)

    async def read() -> list[Prepared]:
        url, prepared_statements = database
        db = Database(url, pool_size=1, application_name="consumption-peers", prepared_statements=prepared_statements)
        try:
            async with db.session() as session:
                await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
                await repository.import_snapshot(session, snapshot)
                homes = [preparing.home(profile, wh, present) async for _, profile, wh, present
                         in repository.stream_period_totals(session, energy, start, end)]
                await session.rollback()
            return homes
        finally:
            await db.dispose()
    homes = asyncio.run(read())
    return len(homes), preparing.rows(homes)


def _end_with_parent() -> None:
    """The grouping process ends with the service, even killed (Linux's PR_SET_PDEATHSIG; elsewhere it ends when the
    pool's pipe closes)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):
        pass


class PeerWorker:
    """Computes the due periods, one at a time across replicas."""

    def __init__(self) -> None:
        self.pool: ProcessPoolExecutor | None = None
        self.registered: dt.date | None = None

    def _pool(self) -> ProcessPoolExecutor:
        if self.pool is None:
            # spawn: a fork of a process running an event loop and threads is not safe.
            self.pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                            initializer=_end_with_parent)
        return self.pool

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
            self.pool = None

    async def refresh_due(self, rt: Runtime) -> int:
        settings = rt.settings
        today = dt.datetime.now(PARIS).date()
        if self.registered != today:  # once a day: the app's periods named again, the forgotten ones dropped
            async with rt.db.session() as session, session.begin():
                await repository.request_peer_periods(session, [(e.value, s, t) for e in COMPARED
                                                                for s, t in app_periods(today)])
                await repository.forget_peer_periods(session, KEEP)
            self.registered = today
        async with rt.db.reader() as session:
            due = await repository.due_peer_periods(session, every=settings.peer_refresh_seconds,
                                                    max_age=settings.peer_max_age_seconds)
        for energy, start, end in due:
            if rt.stop.is_set() or not await self.compute(rt, energy, start, end):
                break
        return len(due)

    async def compute(self, rt: Runtime, energy: str, start: dt.date, end: dt.date) -> bool:
        """One period computed and stored; False when another replica is computing."""
        started = time.perf_counter()
        async with rt.db.session() as session:
            # The homes and the changes they answer, in one snapshot (a read-only transaction, begun here).
            await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            try:
                if not await repository.try_lock_peers(session):
                    return False
                computed_at = (await session.execute(sa.select(sa.func.now()))).scalar_one()
                changes = await repository.peer_changes_of(session, energy, start, end)
                snapshot = await repository.export_snapshot(session)
                dju = (await DEGREE_DAYS.get(session)).period_and_reference(rt.settings.degree_day_station, start,
                                                                            end)
                version = await degree_days_version(session)
                try:
                    # Read and grouped in the pool's process, in this transaction's snapshot (kept open meanwhile).
                    database = (rt.settings.database_url, rt.settings.db_prepared_statements)
                    homes, rows = await asyncio.get_running_loop().run_in_executor(
                        self._pool(), read_and_group, database, snapshot, energy, start, end, dju)
                except BrokenProcessPool:
                    self.close()  # a new process at the next attempt
                    raise
            finally:
                await session.rollback()
        async with rt.db.session() as session, session.begin():
            await repository.store_peer_groups(session, energy, start, end, rows, changes=changes,
                                               computed_at=computed_at, degree_days=version, homes=homes,
                                               seconds=time.perf_counter() - started)
        log.info("peer statistics computed", extra={"energy": energy, "start": str(start), "end": str(end),
                                                     "homes": homes, "groups": len(rows),
                                                     "seconds": round(time.perf_counter() - started, 2)})
        return True


WORKER = PeerWorker()


async def stored_result(session: AsyncSession, meter: sa.Row, start: dt.date, end: dt.date, data: sa.Row,
                        station: str) -> HomeComparison | None:
    """The meter's home among the stored groups of the period (``data``: repository.comparison_data's); None when
    its dwelling is not described."""
    if data.profile is None:
        return None
    dju = (await DEGREE_DAYS.get(session)).period_and_reference(station, start, end)
    home = prepare((str(meter.meter_id), comparison_profile(data.profile),
                    home_kwh(data.wh if data.present else None, data.present, (end - start).days)),
                   energy=meter.energy, degree_days={DEFAULT_CLIMATE_AREA: dju} if dju else None)
    # A home described since the computation is not in its groups: it is added to the one it falls in.
    counted = data.described_at <= data.computed_at
    keys = {i: home.key(i) for i in range(len(LEVELS))}
    row = await repository.first_peer_group(session, meter.energy, start, end,
                                            [(i, group_key(k)) for i, k in keys.items() if k is not None],
                                            extra=0 if counted or home.kwh is None else 1, min_size=MIN_GROUP_SIZE)
    group = None if row is None else PeerGroup(*(Distribution(getattr(row, f"{m}_n"), getattr(row, m))
                                                 for m in METRICS))
    if group is not None and not counted and home.kwh is not None:
        group = group.including(home)
    # The groups of the levels before it are smaller than the minimum: none is offered.
    return choose(home, lambda level, key: group if row is not None and level == row.level else None)
