"""Replay: the DSO answers a connector kept, read again by its current parser and published as
``readings.collected`` through the outbox, so a parser fix reaches the readings already stored.

Idempotent by construction: consumption upserts on (meter_id, day) and leaves a row whose values did not
change as it is. Only what is still kept is replayed (a payload past its retention is gone or ignored) and
only meters the connector still knows (an erased meter's cursor and payloads go with the erasure).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import uuid
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import orjson

from metro.collection.days import Range
from metro.collection.repository import CollectionStore
from metro.db import Database
from metro.events import Reading, ReadingsCollected
from metro.outbox import Outbox

log = logging.getLogger(__name__)

# A connector's parser: a kept body and the period it answered to readings as ``readings.collected`` has them.
Parse = Callable[[Any, Range | None], list[Reading]]


@dataclass
class ReplayCounts:
    meters: int = 0
    payloads: int = 0
    days: int = 0
    events: int = 0
    # Kept answers the current parser refuses: left as they are, named in the log.
    unreadable: int = 0

    def view(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class ReplayScope:
    """Which meters (by our id or the DSO's PRM/PCE) and which days; empty means every one."""
    meter_ids: tuple[uuid.UUID, ...] = ()
    identifiers: tuple[str, ...] = ()
    days: Range | None = None

    def holds(self, day: dt.date) -> bool:
        return self.days is None or self.days[0] <= day < self.days[1]

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> ReplayScope:
        start, last = args.start, args.last
        days = None
        if start or last:
            days = (start or dt.date.min, last + dt.timedelta(days=1) if last else dt.date.max)
        return cls(tuple(args.meter or ()), tuple(args.identifier or ()), days)


def add_replay_arguments(p: argparse.ArgumentParser, identifier: str) -> None:
    p.description = ("Re-derive readings from the DSO answers still kept, with the current parser, and "
                     "publish them through the outbox (the running service's relay sends them). "
                     "Prints the counts.")
    p.add_argument("--meter", action="append", type=uuid.UUID, metavar="METER_ID",
                   help="a meter id (repeatable)")
    p.add_argument(f"--{identifier.lower()}", dest="identifier", action="append", metavar=identifier,
                   help=f"a {identifier} (repeatable)")
    p.add_argument("--from", dest="start", type=dt.date.fromisoformat, metavar="DAY",
                   help="first day, included")
    p.add_argument("--to", dest="last", type=dt.date.fromisoformat, metavar="DAY", help="last day, included")


def print_counts(counts: ReplayCounts) -> int:
    print(json.dumps(counts.view()))
    return 0


async def replay_raw(db: Database, store: CollectionStore, outbox: Outbox, *, kind: str, source: str,
                     parse: Parse, scope: ReplayScope) -> ReplayCounts:
    """One transaction per meter: its kept answers oldest first, a day answered twice keeping the later
    answer, as collection would have stored it."""
    counts = ReplayCounts()
    async with db.session() as session:
        meters = await store.known_meters(session, list(scope.meter_ids), list(scope.identifiers))
    for meter_id in meters:
        async with db.session() as session, session.begin():
            by_day: dict[dt.date, Reading] = {}
            for row in await store.kept_raw(session, meter_id, kind, scope.days):
                counts.payloads += 1
                period = (row.period_start, row.period_end) if row.period_start else None
                try:
                    readings = parse(orjson.loads(zlib.decompress(row.body)), period)
                except Exception as exc:
                    counts.unreadable += 1
                    log.warning("kept answer not replayed", extra={
                        "meter_id": str(meter_id), "period": str(period), "error": repr(exc)[:500]})
                    continue
                for reading in readings:
                    if scope.holds(reading[0]):
                        by_day[reading[0]] = reading
            if not by_day:
                continue
            events = ReadingsCollected.batches(meter_id, source, [by_day[d] for d in sorted(by_day)])
            await outbox.add_many(session, events)
            counts.meters += 1
            counts.days += len(by_day)
            counts.events += len(events)
    return counts


def replay_command(store: CollectionStore, outbox_table, producer: str, *, kind: str, source: str,
                   parse: Parse):
    """The ``replay`` command of a connector on ``metro.collection`` (see ``metro.cli.main``)."""
    async def command(args: argparse.Namespace, settings) -> int:
        db = Database.of(settings, f"{producer}-replay", pool_size=2)
        try:
            counts = await replay_raw(db, store, Outbox(outbox_table, producer), kind=kind, source=source,
                                      parse=parse, scope=ReplayScope.from_args(args))
        finally:
            await db.dispose()
        return print_counts(counts)
    return command
