"""Event consumers of ingest-enedis: consents of the Data Connect channel become collection cursors."""
from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from ingest_enedis import repository
from ingest_enedis.service import CHANNEL
from metro.events import Envelope, Events


def _ours(e: Envelope) -> bool:
    return e.payload.get("channel") == CHANNEL


async def on_consent_granted(session: AsyncSession, events: list[Envelope]) -> None:
    for e in events:
        if _ours(e):
            await repository.upsert_cursor(session, e.payload)


async def on_consent_revoked(session: AsyncSession, events: list[Envelope]) -> None:
    for e in events:
        if _ours(e):
            p = e.payload
            await repository.deactivate(session, uuid.UUID(p["meter_id"]),
                                        uuid.UUID(p["consent_id"]) if p.get("consent_id") else None,
                                        f"revoked:{p.get('reason', 'user')}")


HANDLERS = {
    "consents": {Events.consent_granted: on_consent_granted, Events.consent_revoked: on_consent_revoked},
}
