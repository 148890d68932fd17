"""Event consumers of ingest-enedis: consents of the Data Connect channel become collection cursors, for the daily
readings (due now) and for the load curve (due at its next cycle, or when the resident asks for it)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from ingest_enedis import repository
from ingest_enedis.service import CHANNEL
from metro.collection import consent_handlers, live_grants, next_publication
from metro.events import ConsentGranted, ConsentRevoked, Received

# After the daily readings' cycle (08:30 and its hour of spread): the curve spends what they leave.
CURVE_CYCLE_TIME = dt.time(9, 30)

_daily = consent_handlers("ingest_enedis", CHANNEL, repository.store)
_curve = consent_handlers("ingest_enedis", CHANNEL, repository.curve_store)


async def on_consent_granted(session: AsyncSession, events: list[Received[ConsentGranted]]) -> None:
    grants = [e.payload for e in events if e.payload.channel == CHANNEL]
    for grant in await live_grants(session, repository.store.ended_consents, "ingest_enedis", grants):
        await repository.store.upsert_cursor(session, grant)
        await repository.curve_store.upsert_cursor(session, grant)
        await repository.curve_due(session, grant.meter_id, next_publication(
            dt.datetime.now(dt.UTC), CURVE_CYCLE_TIME, jitter_s=3600))


async def on_consent_revoked(session: AsyncSession, events: list[Received[ConsentRevoked]]) -> None:
    await _daily[ConsentRevoked](session, events)
    await _curve[ConsentRevoked](session, events)


HANDLERS = {"consents": {ConsentGranted: on_consent_granted, ConsentRevoked: on_consent_revoked}}
