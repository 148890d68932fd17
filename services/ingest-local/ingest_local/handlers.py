"""Event consumers of the ingest-local service: the subscriptions follow the local operators' consents."""
from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from ingest_local import repository
from ingest_local.models import ended_consents
from metro.collection import ended_reason, live_grants
from metro.events import ConsentGranted, ConsentRevoked, Received
from metro.schemas.consent import FILE_OPERATORS

CHANNEL = "file"


async def on_consent_granted(session: AsyncSession, events: list[Received[ConsentGranted]]) -> None:
    rows: dict[tuple[str, str], dict] = {}
    grants = [e.payload for e in events if e.payload.channel == CHANNEL and e.payload.dso in FILE_OPERATORS]
    for p in await live_grants(session, ended_consents, "ingest_local", grants):
        rows[(p.dso, p.identifier)] = {
            "dso": p.dso, "identifier": p.identifier, "meter_id": p.meter_id, "consent_id": p.consent_id,
            "account_id": p.account_id, "energy": p.energy, "history_from": p.history_from,
            "expires_at": p.expires_at, "active": True}
    await repository.grant(session, list(rows.values()))


async def on_consent_revoked(session: AsyncSession, events: list[Received[ConsentRevoked]]) -> None:
    ours = [e.payload for e in events
            if e.payload.channel == CHANNEL and e.payload.dso in FILE_OPERATORS and e.payload.consent_id]
    if ours:
        await repository.revoke(session, [p.consent_id for p in ours])
    for reason in {ended_reason(p) for p in ours}:
        await repository.end_consents(session, [p.consent_id for p in ours if ended_reason(p) == reason], reason)


HANDLERS = {"subscriptions": {ConsentGranted: on_consent_granted, ConsentRevoked: on_consent_revoked}}
