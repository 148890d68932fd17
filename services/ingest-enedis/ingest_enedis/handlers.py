"""Event consumers of ingest-enedis: consents of the Data Connect channel become collection cursors."""
from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from ingest_enedis import repository
from ingest_enedis.service import CHANNEL
from metro.events import ConsentGranted, ConsentRevoked, Received


def _ours(e: Received[ConsentGranted] | Received[ConsentRevoked]) -> bool:
    return e.payload.channel == CHANNEL


async def on_consent_granted(session: AsyncSession, events: list[Received[ConsentGranted]]) -> None:
    for e in events:
        if _ours(e):
            await repository.upsert_cursor(session, e.payload)


async def on_consent_revoked(session: AsyncSession, events: list[Received[ConsentRevoked]]) -> None:
    for e in events:
        if _ours(e):
            await repository.deactivate(session, e.payload.meter_id, e.payload.consent_id,
                                        f"revoked:{e.payload.reason}")


HANDLERS = {
    "consents": {ConsentGranted: on_consent_granted, ConsentRevoked: on_consent_revoked},
}
