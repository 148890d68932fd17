"""Background work on queued meters.

Anomaly scans: after new readings, each meter's recent days are checked and every new episode is announced once
(the episode key is stored with the outbox row in one transaction).
Pricing: after new readings, a contract or a catalogue, each meter's days are priced into the read model the
series are served from (euros.price_meter), the months they fall in rolled up (monthly_rollups), and the stored
summaries of those a resident reads computed again (summary.refresh_stored).
Aggregates: the Métropole's aggregates of the years whose rollups changed, recomputed and stored (publication)."""
from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy.ext.asyncio import AsyncSession

from consumption import euros, peer_statistics, publication, repository, summary
from consumption.anomalies import detect_anomalies
from consumption.models import anomaly_scan_queue, price_queue
from metro.app import Runtime
from metro.collection import PARIS
from metro.events import AnomalyDetected
from metro.metrics import DATA_LAG, PRICING_BACKLOG, PRICING_BACKLOG_AGE
from metro.outbox import Outbox
from metro.workers import repeat

log = logging.getLogger(__name__)


async def scan_meter(session: AsyncSession, outbox: Outbox, meter, *, ratio: float, floor_wh: int,
                     weeks: int, lookback_days: int) -> int:
    """``meter``: as repository.live_meters found it (locked)."""
    meter_id = meter.meter_id
    # A meter whose address is in question may be a neighbour's: nothing about it is announced until resolved
    # (its next readings queue it again).
    if meter.address_hold:
        return 0
    last = await repository.last_day(session, meter_id)
    if last is None:
        return 0
    # Enough history for the baseline of the oldest day still worth announcing.
    since = last - dt.timedelta(days=lookback_days + weeks * 7 + 7)
    rows = await repository.daily(session, meter_id, since, last + dt.timedelta(days=1))
    episodes = [e for e in detect_anomalies([(r.day, r.wh) for r in rows], ratio=ratio, floor_wh=floor_wh,
                                            weeks=weeks)
                if e.end >= last - dt.timedelta(days=lookback_days)]
    fresh = await repository.record_episodes(session, [
        {"meter_id": meter_id, "episode_key": e.key, "kind": e.kind, "start": e.start, "end": e.end,
         "expected_wh": e.expected_wh, "observed_wh": e.actual_wh} for e in episodes])
    for e in episodes:
        if e.key in fresh:
            await outbox.add(session, AnomalyDetected(
                meter_id=meter_id, account_id=meter.account_id, episode_key=e.key, kind=e.kind, start=e.start,
                end=e.end, expected_wh=e.expected_wh, observed_wh=e.actual_wh, excess_wh=e.excess_wh))
    return len(fresh)


async def scan_pending(rt: Runtime, batch: int = 50) -> int:
    s = rt.settings
    async with rt.db.session() as session, session.begin():
        meter_ids = await repository.claim(session, anomaly_scan_queue, batch)
        # The live ones, locked in one statement in meter order (as an erasure locks them), not a round trip each.
        for meter in await repository.live_meters(session, meter_ids) if meter_ids else []:
            await scan_meter(session, rt.outbox, meter, ratio=s.anomaly_ratio, floor_wh=s.anomaly_floor_wh,
                             weeks=s.anomaly_weeks, lookback_days=s.anomaly_lookback_days)
    return len(meter_ids)


async def price_pending(rt: Runtime, batch: int = 200) -> int:
    """A batch of meters per transaction, priced together in a few statements (euros.price_meters), and their
    monthly rollups in one more (a first pricing of three years holds some 200 000 days in a batch)."""
    async with rt.db.session() as session, session.begin():
        queued = await repository.claim_rows(session, price_queue, batch)
        # Locked in meter order, as an erasure locks them.
        await euros.price_meters(session, list(queued), since={m: q.since for m, q in queued.items()})
        # The stored summaries of these meters, computed again from what was just priced (same transaction).
        await summary.refresh_stored(session, sorted(queued))
    return len(queued)


async def drain(rt: Runtime, name: str, step) -> None:
    """Runs `step` while it finds work, then waits for the interval (or the stop)."""
    await repeat(rt.stop, name, lambda: step(rt), rt.settings.worker_interval_seconds, while_busy=True)


async def anomaly_worker(rt: Runtime) -> None:
    await drain(rt, "anomaly scan", scan_pending)


async def pricing_worker(rt: Runtime) -> None:
    await drain(rt, "pricing", price_pending)


async def aggregates_worker(rt: Runtime) -> None:
    await repeat(rt.stop, "aggregates", lambda: publication.recompute_due(rt), rt.settings.worker_interval_seconds)


async def peers_worker(rt: Runtime) -> None:
    try:
        await repeat(rt.stop, "peer statistics", lambda: peer_statistics.WORKER.refresh_due(rt),
                     rt.settings.worker_interval_seconds)
    finally:
        peer_statistics.WORKER.close()


# Data lag is looked for in the last weeks only; a source with nothing since shows the window's length.
DATA_LAG_WINDOW_DAYS = 40


def probe():
    """The pricing backlog and each source's data lag, for Prometheus (metro.observe)."""
    seen: set[str] = set()

    async def consumption_probe(rt: Runtime) -> None:
        today = dt.datetime.now(PARIS).date()
        async with rt.db.reader() as session:
            waiting, age = await repository.pricing_backlog(session)
            newest = await repository.newest_days(session, today - dt.timedelta(days=DATA_LAG_WINDOW_DAYS))
        PRICING_BACKLOG.set(waiting)
        PRICING_BACKLOG_AGE.set(age)
        seen.update(newest)
        for source in seen:
            lag = (today - newest[source]).days if source in newest else DATA_LAG_WINDOW_DAYS
            DATA_LAG.labels(source).set(lag)
    return consumption_probe
