"""Event consumers of the consumption service."""
from __future__ import annotations

import uuid

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from consumption import contracts, repository
from metro.events import Envelope, Events


async def on_readings_collected(session: AsyncSession, events: list[Envelope]) -> None:
    """Many batches in one statement: the upsert keyed on (meter_id, day) makes replays harmless.

    Identifiers and days go to PostgreSQL as the text they arrived as and are checked by its casts.
    """
    by_meter: dict[str, list[Envelope]] = {}
    for e in events:
        by_meter.setdefault(str(uuid.UUID(e.payload["meter_id"])), []).append(e)
    dropped = {str(m) for m in await repository.erased_meters(session, [uuid.UUID(m) for m in by_meter])}
    records: list[tuple] = []
    # Meters in one order: index pages are touched in sequence and concurrent batches lock rows alike.
    for meter, group in sorted(by_meter.items()):
        if meter in dropped:
            continue
        # Within one statement a key may appear once; the later message (and reading) wins.
        latest: dict[str, tuple] = {}
        for e in group:
            source = e.payload.get("source", "unknown")
            for r in e.payload["readings"]:
                latest[r["day"]] = (r, source)
        for day, (r, source) in latest.items():
            extra = r.get("extra")
            records.append((meter, day, int(r["wh"]), r.get("quality", "measured"), source,
                            orjson.dumps(extra).decode() if extra else None))
    await repository.upsert_readings(session, records)
    kept = sorted(uuid.UUID(m) for m in by_meter if m not in dropped)
    await repository.queue_scans(session, kept)
    await repository.queue_pricing(session, kept)


async def on_meter_declared(session: AsyncSession, events: list[Envelope]) -> None:
    for e in events:
        p = e.payload
        await repository.upsert_meter(session, uuid.UUID(p["meter_id"]), uuid.UUID(p["account_id"]),
                                      p["energy"], p["dso"], p.get("address_hold"), e.occurred_at)
    await repository.queue_pricing(session, [uuid.UUID(e.payload["meter_id"]) for e in events])


async def on_dwelling_updated(session: AsyncSession, events: list[Envelope]) -> None:
    for e in events:
        account_id = uuid.UUID(e.payload["account_id"])
        await repository.upsert_profile(session, account_id, e.payload.get("profile") or {})
        await repository.requeue_pricing(session, account_id=account_id)


async def on_contract_changed(session: AsyncSession, events: list[Envelope]) -> None:
    for e in events:
        await contracts.record_dso_contract(session, e.payload)
    await repository.queue_pricing(session, [uuid.UUID(e.payload["meter_id"]) for e in events])


HANDLERS = {
    "readings": {Events.readings_collected: on_readings_collected},
    "meters": {Events.meter_declared: on_meter_declared, Events.dwelling_updated: on_dwelling_updated,
               Events.contract_changed: on_contract_changed},
}
# Readings of one meter are applied in the order received; different meters are written in parallel.
ORDER_KEYS = {"readings": lambda e: uuid.UUID(e.payload["meter_id"])}
