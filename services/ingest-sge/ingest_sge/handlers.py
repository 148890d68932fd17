"""Event consumers of the ingest-sge service: the subscription list follows the SGE consents."""
from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from ingest_sge import repository
from metro.events import ConsentGranted, ConsentRevoked, Received

CHANNEL = "sge"


async def on_consent_granted(session: AsyncSession, events: list[Received[ConsentGranted]]) -> None:
    rows: dict[str, dict] = {}
    for e in events:
        p = e.payload
        if p.channel != CHANNEL:
            continue
        # The later grant of a PRM in the batch wins, as it would one statement after the other.
        rows[p.identifier] = {
            "prm": p.identifier, "meter_id": p.meter_id, "consent_id": p.consent_id, "account_id": p.account_id,
            "dso_reference": p.dso_reference, "history_from": p.history_from, "expires_at": p.expires_at,
            "active": True}
    await repository.grant(session, list(rows.values()))


async def on_consent_revoked(session: AsyncSession, events: list[Received[ConsentRevoked]]) -> None:
    ids = [e.payload.consent_id for e in events if e.payload.channel == CHANNEL and e.payload.consent_id]
    if ids:
        await repository.revoke(session, ids)


HANDLERS = {"subscriptions": {ConsentGranted: on_consent_granted, ConsentRevoked: on_consent_revoked}}
