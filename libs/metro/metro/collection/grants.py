"""A consent that ended here stays ended: a late ``consent.granted`` for it (a consumer's retry, the outbox's
backoff) is dropped and counted, never turned back into collection."""
from __future__ import annotations

import logging

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from metro.collection import repository
from metro.events import ConsentGranted, ConsentRevoked
from metro.metrics import GRANTS_DROPPED

log = logging.getLogger(__name__)


def ended_reason(revoked: ConsentRevoked) -> str:
    return "expired" if revoked.reason == "expired" else "revoked"


async def live_grants(session: AsyncSession, ended_consents: sa.Table, service: str,
                      grants: list[ConsentGranted]) -> list[ConsentGranted]:
    """The grants whose consent has not ended here, in their order."""
    ended = await repository.ended_among(session, ended_consents, [g.consent_id for g in grants])
    if not ended:
        return grants
    GRANTS_DROPPED.labels(service).inc(sum(g.consent_id in ended for g in grants))
    for g in grants:
        if g.consent_id in ended:
            log.warning("consent.granted dropped: this consent has already ended here",
                        extra={"consent_id": str(g.consent_id), "meter_id": str(g.meter_id)})
    return [g for g in grants if g.consent_id not in ended]
