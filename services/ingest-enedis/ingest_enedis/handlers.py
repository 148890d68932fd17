"""Event consumers of ingest-enedis: consents of the Data Connect channel become collection cursors."""
from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from ingest_enedis import repository
from ingest_enedis.service import CHANNEL
from metro.collection import ended_reason, live_grants
from metro.events import ConsentGranted, ConsentRevoked, Received


def _ours(e: Received[ConsentGranted] | Received[ConsentRevoked]) -> bool:
    return e.payload.channel == CHANNEL


async def on_consent_granted(session: AsyncSession, events: list[Received[ConsentGranted]]) -> None:
    grants = [e.payload for e in events if _ours(e)]
    for grant in await live_grants(session, repository.store.ended_consents, "ingest_enedis", grants):
        await repository.upsert_cursor(session, grant)


async def on_consent_revoked(session: AsyncSession, events: list[Received[ConsentRevoked]]) -> None:
    for e in events:
        if _ours(e):
            await repository.deactivate(session, e.payload.meter_id, e.payload.consent_id,
                                        f"revoked:{e.payload.reason}")
            await repository.end_consents(session, [e.payload.consent_id], ended_reason(e.payload))


HANDLERS = {
    "consents": {ConsentGranted: on_consent_granted, ConsentRevoked: on_consent_revoked},
}
