"""Event consumers of ingest-grdf: consents of the ADICT channel become collection cursors, and a
resident's withdrawal gives the access right up at GRDF."""
from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from ingest_grdf import repository, rights
from ingest_grdf.service import CHANNEL
from metro.events import Envelope, Events

# Only these reasons come from our side; after a DSO-side end there is nothing left to give up.
TIERS_REVOCATION_REASONS = {"user", "account_deleted"}


def _ours(e: Envelope) -> bool:
    return e.payload.get("channel") == CHANNEL


async def on_consent_granted(session: AsyncSession, events: list[Envelope]) -> None:
    for e in events:
        if _ours(e):
            await repository.upsert_cursor(session, e.payload)


async def on_consent_revoked(session: AsyncSession, events: list[Envelope]) -> None:
    for e in events:
        if not _ours(e):
            continue
        p = e.payload
        meter_id = uuid.UUID(p["meter_id"])
        consent_id = uuid.UUID(p["consent_id"]) if p.get("consent_id") else None
        reason = p.get("reason", "user")
        await repository.deactivate(session, meter_id, consent_id, f"revoked:{reason}")
        if reason in TIERS_REVOCATION_REASONS:
            # The PATCH goes out from the access-rights worker, outside this transaction, and is retried there.
            await rights.request_revocation(session, consent_id, meter_id)


HANDLERS = {
    "consents": {Events.consent_granted: on_consent_granted, Events.consent_revoked: on_consent_revoked},
}
