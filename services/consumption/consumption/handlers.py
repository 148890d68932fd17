"""Event consumers of the consumption service."""
from __future__ import annotations

import uuid

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from consumption import contracts, load_curve, renovations, repository
from metro.events import (ContractChanged, DwellingUpdated, LoadCurveCollected, MeterDeclared, ReadingsCollected,
                          Received, RenovationDeclared)


async def on_readings_collected(session: AsyncSession, events: list[Received[ReadingsCollected]]) -> None:
    """Many batches in one statement: the upsert keyed on (meter_id, day) makes replays harmless."""
    by_meter: dict[uuid.UUID, list[ReadingsCollected]] = {}
    for e in events:
        by_meter.setdefault(e.payload.meter_id, []).append(e.payload)
    dropped = await repository.erased_meters(session, list(by_meter))
    records: list[tuple] = []
    # Meters in one order: index pages are touched in sequence and concurrent batches lock rows alike.
    for meter, batches in sorted(by_meter.items()):
        if meter in dropped:
            continue
        # Within one statement a key may appear once; the later message (and reading) wins.
        latest: dict = {}
        for batch in batches:
            for reading in batch.readings:
                latest[reading[0]] = (reading, batch.source)
        for (day, wh, quality, extra), source in latest.values():
            records.append((meter, day, wh, quality, source, orjson.dumps(extra).decode() if extra else None))
    await repository.upsert_readings(session, records)
    kept = sorted(m for m in by_meter if m not in dropped)
    await repository.queue_scans(session, kept)
    await repository.queue_pricing(session, kept, since={
        m: min(r[0] for b in by_meter[m] for r in b.readings) for m in kept if any(b.readings for b in by_meter[m])})


async def on_meter_declared(session: AsyncSession, events: list[Received[MeterDeclared]]) -> None:
    for e in events:
        p = e.payload
        await repository.upsert_meter(session, p.meter_id, p.account_id, p.energy, p.dso, p.address_hold,
                                      e.occurred_at)
    await repository.queue_pricing(session, [e.payload.meter_id for e in events])


async def on_dwelling_updated(session: AsyncSession, events: list[Received[DwellingUpdated]]) -> None:
    for e in events:
        await repository.upsert_profile(session, e.payload.account_id, e.payload.profile.model_dump(mode="json"))
        await repository.requeue_pricing(session, account_id=e.payload.account_id)


async def on_contract_changed(session: AsyncSession, events: list[Received[ContractChanged]]) -> None:
    for e in events:
        await contracts.record_dso_contract(session, e.payload)
    await repository.queue_pricing(session, [e.payload.meter_id for e in events])


HANDLERS = {
    "readings": {ReadingsCollected: on_readings_collected},
    "load_curve": {LoadCurveCollected: load_curve.on_load_curve_collected},
    "meters": {MeterDeclared: on_meter_declared, DwellingUpdated: on_dwelling_updated,
               ContractChanged: on_contract_changed, RenovationDeclared: renovations.on_renovation_declared},
}
# Readings of one meter are applied in the order received; different meters are written in parallel.
ORDER_KEYS = {"readings": lambda e: e.payload.meter_id, "load_curve": lambda e: e.payload.meter_id}
