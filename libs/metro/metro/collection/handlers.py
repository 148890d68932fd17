"""The consents a connector's collection follows: those of its channel become cursors, a revocation stops one."""
from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from metro.bus import Handler
from metro.collection.repository import CollectionStore
from metro.events import ConsentGranted, ConsentRevoked, Event, Received


def consent_handlers(channel: str, store: CollectionStore,
                     after_revoked: Callable[[AsyncSession, ConsentRevoked], Awaitable[None]] | None = None,
                     ) -> dict[type[Event], Handler]:
    """The handlers of ``consent.granted`` and ``consent.revoked`` for the consents of ``channel``;
    ``after_revoked`` does the connector's own part of a revocation in the same transaction."""

    async def on_consent_granted(session: AsyncSession, events: list[Received[ConsentGranted]]) -> None:
        for e in events:
            if e.payload.channel == channel:
                await store.upsert_cursor(session, e.payload)

    async def on_consent_revoked(session: AsyncSession, events: list[Received[ConsentRevoked]]) -> None:
        for e in events:
            if e.payload.channel != channel:
                continue
            p = e.payload
            await store.deactivate(session, p.meter_id, p.consent_id, f"revoked:{p.reason}")
            if after_revoked is not None:
                await after_revoked(session, p)

    return {ConsentGranted: on_consent_granted, ConsentRevoked: on_consent_revoked}
