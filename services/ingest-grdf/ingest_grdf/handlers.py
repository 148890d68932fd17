"""Event consumers of ingest-grdf: consents of the ADICT channel become collection cursors, and a
resident's withdrawal gives the access right up at GRDF."""
from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from ingest_grdf import repository, rights
from ingest_grdf.service import CHANNEL
from metro.collection import consent_handlers
from metro.events import ConsentRevoked

# Only these reasons come from our side; after a DSO-side end there is nothing left to give up.
TIERS_REVOCATION_REASONS = {"user", "account_deleted", "claim_released"}


async def give_up_access_right(session: AsyncSession, p: ConsentRevoked) -> None:
    if p.reason in TIERS_REVOCATION_REASONS:
        # The PATCH goes out from the access-rights worker, outside this transaction, and is retried there.
        await rights.request_revocation(session, p.consent_id, p.meter_id)


HANDLERS = {"consents": consent_handlers("ingest_grdf", CHANNEL, repository.store,
                                         after_revoked=give_up_access_right)}
