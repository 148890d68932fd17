"""Event consumers of the notify service."""
from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from metro.events import AccountCreated, AnomalyDetected, ConsentExpiring, ConsentRevoked, Received
from metro.schemas.notify import AlertKind
from notify import i18n, render, repository, service

# Only these reasons are news to the resident: they revoked it themselves, or deleted the account.
REVOKED_NOTICE_REASONS = {"dso", "supply_ended"}


async def on_account(session: AsyncSession, events: list[Received[AccountCreated]]) -> None:
    for e in events:
        p = e.payload
        if p.email and await service.still_here(session, p.account_id):
            await repository.upsert_recipient(session, p.account_id, p.email, i18n.language(p.language))


async def on_anomaly(session: AsyncSession, events: list[Received[AnomalyDetected]]) -> None:
    config = service.CONFIG
    assert config
    for e in events:
        p = e.payload
        if p.account_id is None:
            continue
        link = config.meter_url(str(p.meter_id))
        await service.alert(session, p.account_id, AlertKind.anomaly, "anomaly",
                            f"anomaly:{p.meter_id}:{p.episode_key}",
                            lambda lang, unsub, p=p, link=link: render.anomaly(lang, p, link, unsub), link)


async def on_consent_expiring(session: AsyncSession, events: list[Received[ConsentExpiring]]) -> None:
    config = service.CONFIG
    assert config
    for e in events:
        p = e.payload
        link = config.meter_url(str(p.meter_id))
        await service.alert(session, p.account_id, AlertKind.consent, "consent_expiring",
                            f"consent_expiring:{p.consent_id}:{p.days_left}",
                            lambda lang, unsub, p=p, link=link: render.consent_expiring(lang, p, link, unsub), link)


async def on_consent_revoked(session: AsyncSession, events: list[Received[ConsentRevoked]]) -> None:
    config = service.CONFIG
    assert config
    for e in events:
        p = e.payload
        if p.reason not in REVOKED_NOTICE_REASONS or p.account_id is None:
            continue
        link = config.meter_url(str(p.meter_id))
        await service.alert(session, p.account_id, AlertKind.consent, "consent_revoked",
                            f"consent_revoked:{p.consent_id}",
                            lambda lang, unsub, p=p, link=link: render.consent_revoked(lang, p, link, unsub), link)


HANDLERS = {
    "accounts": {AccountCreated: on_account},
    "alerts": {AnomalyDetected: on_anomaly, ConsentExpiring: on_consent_expiring, ConsentRevoked: on_consent_revoked},
}
