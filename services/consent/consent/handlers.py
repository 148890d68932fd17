"""Event consumers of the consent service."""
from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from consent import models, repository, service
from consent.lifecycle import Status
from metro.events import Envelope, Events
from metro.outbox import Outbox

outbox = Outbox(models.outbox, "consent")


async def on_consent_revoked(session: AsyncSession, events: list[Envelope]) -> None:
    """A connector saw the DSO end a consent (ADAM-DC-0008, ADICT `Révoquée`, supply ended)."""
    for e in events:
        if e.producer == "consent":
            continue
        consent = await repository.get_consent(session, uuid.UUID(e.payload["consent_id"]), lock=True)
        if consent is None:
            continue
        reason = e.payload.get("reason", "dso")
        target = Status.expired if reason == "expired" else Status.revoked
        await service.transition(session, outbox, consent, target, actor=f"dso:{e.producer}", reason=reason,
                                 evidence={k: v for k, v in e.payload.items() if k in ("code", "detail", "dso_status")})


HANDLERS = {"dso-facts": {Events.consent_revoked: on_consent_revoked}}
