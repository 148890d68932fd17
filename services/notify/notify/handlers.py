"""Event consumers of the notify service."""
from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from metro.events import Envelope, Events
from metro.schemas.notify import AlertKind
from notify import i18n, render, repository, service

ACCOUNT_CREATED = Events.account_created
ACCOUNT_UPDATED = "account.updated"
# Only these reasons are news to the resident: they revoked it themselves, or deleted the account.
REVOKED_NOTICE_REASONS = {"dso", "supply_ended"}


async def on_account(session: AsyncSession, events: list[Envelope]) -> None:
    for e in events:
        p = e.payload
        if p.get("email") and await service.still_here(session, uuid.UUID(p["account_id"])):
            await repository.upsert_recipient(session, uuid.UUID(p["account_id"]), p["email"],
                                              i18n.language(p.get("language")))


async def on_anomaly(session: AsyncSession, events: list[Envelope]) -> None:
    config = service.CONFIG
    assert config
    for e in events:
        p = e.payload
        link = config.meter_url(p["meter_id"])
        await service.alert(session, uuid.UUID(p["account_id"]), AlertKind.anomaly, "anomaly",
                            f"anomaly:{p['meter_id']}:{p['episode_key']}",
                            lambda lang, unsub, p=p, link=link: render.anomaly(lang, p, link, unsub), link)


async def on_consent_expiring(session: AsyncSession, events: list[Envelope]) -> None:
    config = service.CONFIG
    assert config
    for e in events:
        p = e.payload
        link = config.meter_url(p["meter_id"])
        await service.alert(session, uuid.UUID(p["account_id"]), AlertKind.consent, "consent_expiring",
                            f"consent_expiring:{p['consent_id']}:{p['days_left']}",
                            lambda lang, unsub, p=p, link=link: render.consent_expiring(lang, p, link, unsub), link)


async def on_consent_revoked(session: AsyncSession, events: list[Envelope]) -> None:
    config = service.CONFIG
    assert config
    for e in events:
        p = e.payload
        if p.get("reason") not in REVOKED_NOTICE_REASONS or not p.get("account_id"):
            continue
        link = config.meter_url(p["meter_id"])
        await service.alert(session, uuid.UUID(p["account_id"]), AlertKind.consent, "consent_revoked",
                            f"consent_revoked:{p['consent_id']}",
                            lambda lang, unsub, p=p, link=link: render.consent_revoked(lang, p, link, unsub), link)


HANDLERS = {
    "accounts": {ACCOUNT_CREATED: on_account, ACCOUNT_UPDATED: on_account},
    "alerts": {Events.anomaly_detected: on_anomaly, Events.consent_expiring: on_consent_expiring,
               Events.consent_revoked: on_consent_revoked},
}
