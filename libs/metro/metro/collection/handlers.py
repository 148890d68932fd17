"""The consents a connector's collection follows: those of its channel become cursors, a revocation stops one."""
from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from metro.bus import Handler
from metro.collection.grants import ended_reason, live_grants
from metro.collection.repository import CollectionStore
from metro.events import ConsentGranted, ConsentRevoked, Event, Received


def consent_handlers(service: str, channel: str, store: CollectionStore,
                     after_revoked: Callable[[AsyncSession, ConsentRevoked], Awaitable[None]] | None = None,
                     ) -> dict[type[Event], Handler]:
    """The handlers of ``consent.granted`` and ``consent.revoked`` for the consents of ``channel``: a grant for
    a consent that ended here is dropped; ``after_revoked`` does the connector's own part of a revocation in the
    same transaction."""

    async def on_consent_granted(session: AsyncSession, events: list[Received[ConsentGranted]]) -> None:
        grants = [e.payload for e in events if e.payload.channel == channel]
        for grant in await live_grants(session, store.ended_consents, service, grants):
            await store.upsert_cursor(session, grant)

    async def on_consent_revoked(session: AsyncSession, events: list[Received[ConsentRevoked]]) -> None:
        for e in events:
            if e.payload.channel != channel:
                continue
            p = e.payload
            await store.deactivate(session, p.meter_id, p.consent_id, f"revoked:{p.reason}")
            await store.end_consents(session, [p.consent_id], ended_reason(p))
            if after_revoked is not None:
                await after_revoked(session, p)

    return {ConsentGranted: on_consent_granted, ConsentRevoked: on_consent_revoked}
