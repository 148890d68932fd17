"""Event consumers of ingest-enedis: consents of the Data Connect channel become collection cursors, for the daily
readings and for the load curve."""
from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from ingest_enedis import repository
from ingest_enedis.service import CHANNEL
from metro.collection import consent_handlers
from metro.events import ConsentGranted, ConsentRevoked, Received

_daily = consent_handlers("ingest_enedis", CHANNEL, repository.store)
_curve = consent_handlers("ingest_enedis", CHANNEL, repository.curve_store)


async def on_consent_granted(session: AsyncSession, events: list[Received[ConsentGranted]]) -> None:
    await _daily[ConsentGranted](session, events)
    await _curve[ConsentGranted](session, events)


async def on_consent_revoked(session: AsyncSession, events: list[Received[ConsentRevoked]]) -> None:
    await _daily[ConsentRevoked](session, events)
    await _curve[ConsentRevoked](session, events)


HANDLERS = {"consents": {ConsentGranted: on_consent_granted, ConsentRevoked: on_consent_revoked}}
