"""The meters as the public API shows them: consent's list, with each meter's last day collected and freshness
from its connector and its contract from consumption; one call per service, however many meters."""
from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from typing import Any

from metro.errors import AppError
from metro.schemas.collection import Freshness
from metro.service_auth import Principal, ServiceClient
from metro.services import BY_CHANNEL

log = logging.getLogger(__name__)


async def _ask(services: ServiceClient, service: str, path: str, principal: Principal,
               meter_ids: list[str]) -> list[dict[str, Any]] | None:
    """None when the service does not answer: the meters are still listed, without what it knows."""
    try:
        return await services.json(service, "GET", path, principal=principal,
                                    params=[("meter_id", m) for m in meter_ids])
    except AppError as exc:
        log.warning("meter details unavailable", extra={"service": service, "error": exc.code})
        return None


async def with_collection(services: ServiceClient, principal: Principal,
                          meters: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not meters:
        return meters
    by_connector: dict[str, list[str]] = defaultdict(list)
    for m in meters:
        if m["channel"] in BY_CHANNEL:
            by_connector[BY_CHANNEL[m["channel"]]].append(m["id"])
    connectors = list(by_connector)
    contracts, *statuses = await asyncio.gather(
        _ask(services, "consumption", "/internal/meters/contracts", principal, [m["id"] for m in meters]),
        *(_ask(services, s, "/internal/collection/meters", principal, by_connector[s]) for s in connectors))
    contract_of = {c["meter_id"]: c for c in contracts or []}
    status_of = {s["meter_id"]: s for answer in statuses for s in answer or []}
    answered = {s for s, answer in zip(connectors, statuses) if answer is not None}
    for m in meters:
        m["contract"] = contract_of.get(m["id"])
        status = status_of.get(m["id"])
        if status is not None:
            m["last_collected_day"] = status["last_collected_day"]
            m["first_data_by"] = status.get("first_data_by")
            # Consent may know of a revocation the connector has not received yet: no update is due then.
            if m.get("freshness") != Freshness.no_consent.value:
                m["next_update_at"] = status.get("next_update_at")
        # Consent already said no_consent for a meter it does not collect; the connector says the rest.
        if m.get("freshness") is None:
            if status is not None:
                m["freshness"], m["freshness_reason"] = status["freshness"], status["reason"]
            elif BY_CHANNEL.get(m["channel"]) in answered:
                # Consent is active but the connector has not received it yet.
                m["freshness"] = Freshness.pending.value
    return meters
