"""Event consumers of the consent service."""
from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from consent import models, repository, service
from consent.lifecycle import Status
from metro.events import ConsentRevoked, Received
from metro.outbox import Outbox

outbox = Outbox(models.outbox, "consent")


async def on_consent_revoked(session: AsyncSession, events: list[Received[ConsentRevoked]]) -> None:
    """A connector saw the DSO end a consent (ADAM-DC-0008, ADICT `Révoquée`, supply ended)."""
    for e in events:
        if e.producer == "consent":
            continue
        p = e.payload
        consent = await repository.get_consent(session, p.consent_id, lock=True) if p.consent_id else None
        if consent is None:
            continue
        target = Status.expired if p.reason == "expired" else Status.revoked
        await service.transition(session, outbox, consent, target, actor=f"dso:{e.producer}", reason=p.reason,
                                 evidence=p.model_dump(include={"code", "detail", "dso_status"}, exclude_none=True))


HANDLERS = {"dso-facts": {ConsentRevoked: on_consent_revoked}}
