"""Event consumers of the ingest-sge service: the subscription list follows the SGE consents."""
from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from ingest_sge import repository
from metro.events import Envelope, Events

CHANNEL = "sge"


def _uuid(value: str | None) -> uuid.UUID | None:
    return uuid.UUID(value) if value else None


async def on_consent_granted(session: AsyncSession, events: list[Envelope]) -> None:
    rows: dict[str, dict] = {}
    for e in events:
        p = e.payload
        if p.get("channel") != CHANNEL:
            continue
        # The later grant of a PRM in the batch wins, as it would one statement after the other.
        rows[p["identifier"]] = {
            "prm": p["identifier"], "meter_id": uuid.UUID(p["meter_id"]), "consent_id": uuid.UUID(p["consent_id"]),
            "account_id": _uuid(p.get("account_id")), "dso_reference": p.get("dso_reference"),
            "history_from": dt.date.fromisoformat(p["history_from"][:10]) if p.get("history_from") else None,
            "expires_at": dt.datetime.fromisoformat(p["expires_at"]) if p.get("expires_at") else None,
            "active": True}
    await repository.grant(session, list(rows.values()))


async def on_consent_revoked(session: AsyncSession, events: list[Envelope]) -> None:
    ids = [uuid.UUID(e.payload["consent_id"]) for e in events if e.payload.get("channel") == CHANNEL]
    if ids:
        await repository.revoke(session, ids)


HANDLERS = {"subscriptions": {Events.consent_granted: on_consent_granted,
                              Events.consent_revoked: on_consent_revoked}}
