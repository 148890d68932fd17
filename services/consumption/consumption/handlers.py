"""Event consumers of the consumption service."""
from __future__ import annotations

import datetime as dt
import uuid

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from consumption import repository, service
from metro.events import Envelope, Events


async def on_readings_collected(session: AsyncSession, events: list[Envelope]) -> None:
    """Many batches in one statement: the upsert keyed on (meter_id, day) makes replays harmless."""
    meter_ids = list({uuid.UUID(e.payload["meter_id"]) for e in events})
    dropped = await repository.erased_meters(session, meter_ids)
    latest: dict[tuple[str, str], tuple] = {}
    for e in events:
        meter = e.payload["meter_id"]
        if uuid.UUID(meter) in dropped:
            continue
        source = e.payload.get("source", "unknown")
        for r in e.payload["readings"]:
            extra = r.get("extra")
            # Within one statement a key may appear once; the later message wins.
            latest[(meter, r["day"])] = (r["wh"], r.get("quality", "measured"), source,
                                         orjson.dumps(extra).decode() if extra else None)
    rows: dict[str, list] = {"m": [], "d": [], "w": [], "q": [], "s": [], "e": []}
    for (meter, day), (wh, quality, source, extra) in latest.items():
        rows["m"].append(meter)
        rows["d"].append(dt.date.fromisoformat(day))
        rows["w"].append(int(wh))
        rows["q"].append(quality)
        rows["s"].append(source)
        rows["e"].append(extra)
    await repository.upsert_readings(session, rows)
    await repository.queue_scans(session, sorted({uuid.UUID(m) for m in rows["m"]}))


async def on_meter_declared(session: AsyncSession, events: list[Envelope]) -> None:
    for e in events:
        p = e.payload
        await repository.upsert_meter(session, uuid.UUID(p["meter_id"]), uuid.UUID(p["account_id"]),
                                      p["energy"], p["dso"])


async def on_dwelling_updated(session: AsyncSession, events: list[Envelope]) -> None:
    for e in events:
        await repository.upsert_profile(session, uuid.UUID(e.payload["account_id"]), e.payload.get("profile") or {})


async def on_contract_changed(session: AsyncSession, events: list[Envelope]) -> None:
    for e in events:
        await service.record_dso_contract(session, e.payload)


HANDLERS = {
    "readings": {Events.readings_collected: on_readings_collected},
    "meters": {Events.meter_declared: on_meter_declared, Events.dwelling_updated: on_dwelling_updated,
               Events.contract_changed: on_contract_changed},
}
