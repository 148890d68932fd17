"""Event consumers of the ingest-sge service: the subscription list follows the SGE consents."""
from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from ingest_sge import repository
from ingest_sge.models import ended_consents
from metro.collection import ended_reason, live_grants
from metro.events import ConsentGranted, ConsentRevoked, Received

CHANNEL = "sge"


async def on_consent_granted(session: AsyncSession, events: list[Received[ConsentGranted]]) -> None:
    rows: dict[str, dict] = {}
    grants = [e.payload for e in events if e.payload.channel == CHANNEL]
    for p in await live_grants(session, ended_consents, "ingest_sge", grants):
        # The later grant of a PRM in the batch wins, as it would one statement after the other.
        rows[p.identifier] = {
            "prm": p.identifier, "meter_id": p.meter_id, "consent_id": p.consent_id, "account_id": p.account_id,
            "dso_reference": p.dso_reference, "history_from": p.history_from, "expires_at": p.expires_at,
            "active": True}
    await repository.grant(session, list(rows.values()))


async def on_consent_revoked(session: AsyncSession, events: list[Received[ConsentRevoked]]) -> None:
    ours = [e.payload for e in events if e.payload.channel == CHANNEL and e.payload.consent_id]
    if ours:
        await repository.revoke(session, [p.consent_id for p in ours])
    for reason in {ended_reason(p) for p in ours}:
        ended = [p.consent_id for p in ours if ended_reason(p) == reason]
        await repository.end_consents(session, ended, reason)


HANDLERS = {"subscriptions": {ConsentGranted: on_consent_granted, ConsentRevoked: on_consent_revoked}}
