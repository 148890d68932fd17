"""What the file channels share (ingest-sge, ingest-local): a file taken from a drop or an upload and its outcome,
a batch's summary, and the collection cycle: one at a time across replicas, its report kept, its outcome counted,
run on a timer and on demand."""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from metro.app import Runtime
from metro.dso import DsoError, Outcome
from metro.metrics import COLLECTION_CYCLES
from metro.sftp import SftpDrop

log = logging.getLogger(__name__)


@dataclass
class DropFile:
    name: str
    size: int
    data: bytes | None  # None: too large to fetch, judged on its size


@dataclass
class FileOutcome:
    name: str
    status: str  # imported | quarantined | ignored | already_done
    reason: str | None = None
    detail: str | None = None
    counts: dict[str, int] = field(default_factory=dict)

    def view(self) -> dict:
        out = {"name": self.name, "status": self.status, "counts": self.counts}
        if self.reason:
            out |= {"reason": self.reason, "detail": self.detail}
        return out


def summarize(outcomes: list[FileOutcome]) -> dict:
    status = Counter(o.status for o in outcomes)
    readings: Counter[str] = Counter()
    for o in outcomes:
        readings.update(o.counts)
    return {"files": dict(status), "readings": dict(readings),
            "quarantined": [{"name": o.name, "reason": o.reason} for o in outcomes if o.status == "quarantined"]}


def add_summary(report: dict, outcomes: list[FileOutcome]) -> None:
    """Adds a batch's outcomes to a cycle's report."""
    summary = summarize(outcomes)
    for key in ("files", "readings"):
        for k, v in summary[key].items():
            report[key][k] = report[key].get(k, 0) + v
    report["quarantined"] += summary["quarantined"]


@dataclass(frozen=True)
class FileCycle:
    """A file channel's collection cycle. ``collect`` takes the open drop and returns the report's body;
    ``try_lock`` and ``add_cycle`` are the service's own statements (its advisory lock, its cycles table)."""
    name: str
    label: str
    lock_key: int
    open_drop: Callable[[Any], SftpDrop]
    collect: Callable[[Runtime, SftpDrop], Awaitable[dict]]
    try_lock: Callable[[AsyncConnection, int], Awaitable[bool]]
    add_cycle: Callable[..., Awaitable[None]]

    async def run(self, rt: Runtime, trigger: str) -> dict:
        """One cycle; a transaction-scoped advisory lock, held by a transaction left open on its own connection,
        keeps it to one replica at a time (it passes through PgBouncer in transaction mode and ends with the
        connection if the replica dies)."""
        async with rt.extras["cycle_lock"]:
            async with rt.db.engine.connect() as guard, guard.begin():
                if not await self.try_lock(guard, self.lock_key):
                    return {"trigger": trigger, "outcome": "busy", "detail": "another replica is collecting"}
                return await self._cycle(rt, trigger)

    async def _cycle(self, rt: Runtime, trigger: str) -> dict:
        started = dt.datetime.now(dt.UTC)
        outcome, report = Outcome.ok.value, {}
        try:
            async with self.open_drop(rt.settings) as drop:
                report = await self.collect(rt, drop)
        except DsoError as exc:
            outcome = exc.outcome.value
            report["error"] = {"code": exc.code, "detail": str(exc)[:500]}
            log.warning("%s collection failed", self.name, extra={"code": exc.code, "error": str(exc)[:300]})
        finished = dt.datetime.now(dt.UTC)
        report = {"trigger": trigger, "outcome": outcome, "started_at": started.isoformat(),
                  "finished_at": finished.isoformat(), **report}
        async with rt.db.session() as session, session.begin():
            await self.add_cycle(session, trigger=trigger, outcome=outcome, started_at=started,
                                 finished_at=finished, report=report)
        COLLECTION_CYCLES.labels(self.label, outcome).inc()
        log.info("%s collection cycle", self.name, extra={"trigger": trigger, "outcome": outcome,
                                                          "files": report.get("files"),
                                                          "readings": report.get("readings")})
        return report

    async def poll(self, rt: Runtime) -> None:
        while not rt.stop.is_set():
            try:
                await asyncio.wait_for(rt.stop.wait(), rt.settings.poll_interval_s)
                return
            except TimeoutError:
                pass
            try:
                await self.run(rt, "poll")
            except Exception:
                log.exception("%s collection cycle crashed", self.name)
