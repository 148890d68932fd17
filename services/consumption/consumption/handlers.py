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
    readings: dict[uuid.UUID, repository.MeterReadings] = {}
    # Meters in one order: index pages are touched in sequence and concurrent batches lock rows alike.
    for meter, batches in sorted(by_meter.items()):
        if meter not in dropped and (columns := _columns(batches)):
            readings[meter] = columns
    await repository.upsert_readings(session, readings)
    kept = sorted(m for m in by_meter if m not in dropped)
    await repository.queue_scans_and_pricing(session, kept, since={m: min(c.day) for m, c in readings.items()})


def _columns(batches: list[ReadingsCollected]) -> repository.MeterReadings | None:
    """A meter's days as columns, one per day: within one statement a key may appear once, so the later message (and
    reading) wins."""
    if len(batches) == 1 and batches[0].readings:
        # The usual message, turned into columns without a Python step per reading.
        days, whs, qualities, extras = zip(*batches[0].readings)
        if len(set(days)) == len(days):
            json = list(map(_json, extras)) if any(extras) else [None] * len(days)
            return repository.MeterReadings(days, whs, qualities, [batches[0].source] * len(days), json)
    latest: dict = {}
    for batch in batches:
        source = batch.source
        latest.update((r[0], (r[0], r[1], r[2], source, _json(r[3]))) for r in batch.readings)
    return repository.MeterReadings(*zip(*latest.values())) if latest else None


def _json(extra: dict | None) -> str | None:
    return orjson.dumps(extra).decode() if extra else None


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
