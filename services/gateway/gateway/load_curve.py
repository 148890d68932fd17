"""The load curve and daily maximum power as the public API serves them: the curve from consumption, where its
collection stands from the meter's Data Connect connector, which collects the history when the resident opens it."""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from metro.schemas.collection import LoadCurveCollection, LoadCurveState
from metro.service_auth import Principal, ServiceClient
from metro.services import BY_CHANNEL

CURVE_CHANNEL = "dataconnect"


async def _collection(services: ServiceClient, principal: Principal, meter_id: uuid.UUID,
                      backfill: bool) -> dict[str, Any]:
    """The meter is the principal's (consent answers 404 otherwise) before its connector is asked anything."""
    meter = await services.json("consent", "GET", f"/internal/meters/{meter_id}", principal=principal)
    if meter.get("channel") != CURVE_CHANNEL:
        return LoadCurveCollection(meter_id=meter_id, state=LoadCurveState.no_consent).model_dump(mode="json")
    path = f"/internal/meters/{meter_id}/load-curve" + ("/backfill" if backfill else "")
    return await services.json(BY_CHANNEL[CURVE_CHANNEL], "POST" if backfill else "GET", path)


async def load_curve(services: ServiceClient, principal: Principal, meter_id: uuid.UUID, start: dt.date,
                     end: dt.date) -> dict[str, Any]:
    collection = await _collection(services, principal, meter_id, backfill=False)
    curve = await services.json("consumption", "GET", f"/internal/meters/{meter_id}/load-curve",
                                principal=principal, params={"from": start.isoformat(), "to": end.isoformat()})
    return {**curve, "collection": collection}


async def request_history(services: ServiceClient, principal: Principal, meter_id: uuid.UUID) -> dict[str, Any]:
    return await _collection(services, principal, meter_id, backfill=True)


async def max_power(services: ServiceClient, principal: Principal, meter_id: uuid.UUID, start: dt.date,
                    end: dt.date) -> dict[str, Any]:
    return await services.json("consumption", "GET", f"/internal/meters/{meter_id}/max-power", principal=principal,
                               params={"from": start.isoformat(), "to": end.isoformat()})

