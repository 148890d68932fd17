"""Event consumers of ingest-grdf: consents of the ADICT channel become collection cursors, and a
resident's withdrawal gives the access right up at GRDF."""
from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from ingest_grdf import repository, rights
from ingest_grdf.service import CHANNEL
from metro.collection import ended_reason, live_grants
from metro.events import ConsentGranted, ConsentRevoked, Received

# Only these reasons come from our side; after a DSO-side end there is nothing left to give up.
TIERS_REVOCATION_REASONS = {"user", "account_deleted", "claim_released"}


def _ours(e: Received[ConsentGranted] | Received[ConsentRevoked]) -> bool:
    return e.payload.channel == CHANNEL


async def on_consent_granted(session: AsyncSession, events: list[Received[ConsentGranted]]) -> None:
    grants = [e.payload for e in events if _ours(e)]
    for grant in await live_grants(session, repository.store.ended_consents, "ingest_grdf", grants):
        await repository.upsert_cursor(session, grant)


async def on_consent_revoked(session: AsyncSession, events: list[Received[ConsentRevoked]]) -> None:
    for e in events:
        if not _ours(e):
            continue
        p = e.payload
        await repository.deactivate(session, p.meter_id, p.consent_id, f"revoked:{p.reason}")
        await repository.end_consents(session, [p.consent_id], ended_reason(p))
        if p.reason in TIERS_REVOCATION_REASONS:
            # The PATCH goes out from the access-rights worker, outside this transaction, and is retried there.
            await rights.request_revocation(session, p.consent_id, p.meter_id)


HANDLERS = {
    "consents": {ConsentGranted: on_consent_granted, ConsentRevoked: on_consent_revoked},
}
