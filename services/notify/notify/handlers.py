"""Event consumers of the notify service."""
from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from metro.events import (AccountCreated, AccountEmailChanged, AccountLanguageChanged, AnomalyDetected,
                          ConsentExpiring, ConsentRevoked, OrgMemberChanged, Received)
from metro.schemas.notify import AlertKind
from notify import i18n, render, repository, service

# Only these reasons are news to the resident: they revoked it themselves, or deleted the account.
REVOKED_NOTICE_REASONS = {"dso", "supply_ended"}


async def on_account(session: AsyncSession, events: list[Received[AccountCreated]]) -> None:
    for e in events:
        p = e.payload
        if p.email and await service.still_here(session, p.account_id):
            await repository.upsert_recipient(session, p.account_id, p.email, i18n.language(p.language))


async def on_email_changed(session: AsyncSession, events: list[Received[AccountEmailChanged]]) -> None:
    for e in events:
        p = e.payload
        if await service.still_here(session, p.account_id):
            await repository.set_recipient_email(session, p.account_id, p.email)


async def on_language_changed(session: AsyncSession, events: list[Received[AccountLanguageChanged]]) -> None:
    for e in events:
        p = e.payload
        if await service.still_here(session, p.account_id):
            await repository.set_recipient_language(session, p.account_id, p.language)


async def on_org_member(session: AsyncSession, events: list[Received[OrgMemberChanged]]) -> None:
    for e in events:
        p = e.payload
        if p.role is None or await service.still_here(session, p.account_id):
            await repository.set_org_member(session, p.org_id, p.account_id, p.role, p.org_name)


async def _alert(session: AsyncSession, p: AnomalyDetected | ConsentExpiring | ConsentRevoked,
                 alert_kind: AlertKind, kind: str, dedup_key: str, render_alert) -> None:
    """An alert about the meter of ``p`` to its resident, linking to the meter's page."""
    config = service.CONFIG
    assert config
    link = config.meter_url(str(p.meter_id))
    await service.alert(session, p.account_id, alert_kind, kind, dedup_key,
                        lambda lang, unsub: render_alert(lang, p, link, unsub), link)


async def on_anomaly(session: AsyncSession, events: list[Received[AnomalyDetected]]) -> None:
    for e in events:
        p = e.payload
        # An organisation's meter: its members hear of it in the weekly excess digest (digest.py).
        if p.account_id is not None and not await repository.is_organisation(session, p.account_id):
            await _alert(session, p, AlertKind.anomaly, "anomaly", f"anomaly:{p.meter_id}:{p.episode_key}",
                         render.anomaly)


async def on_consent_expiring(session: AsyncSession, events: list[Received[ConsentExpiring]]) -> None:
    for e in events:
        p = e.payload
        await _alert(session, p, AlertKind.consent, "consent_expiring",
                     f"consent_expiring:{p.consent_id}:{p.days_left}", render.consent_expiring)


async def on_consent_revoked(session: AsyncSession, events: list[Received[ConsentRevoked]]) -> None:
    for e in events:
        p = e.payload
        if p.reason in REVOKED_NOTICE_REASONS and p.account_id is not None:
            await _alert(session, p, AlertKind.consent, "consent_revoked", f"consent_revoked:{p.consent_id}",
                         render.consent_revoked)


HANDLERS = {
    "accounts": {AccountCreated: on_account, AccountEmailChanged: on_email_changed,
                 AccountLanguageChanged: on_language_changed, OrgMemberChanged: on_org_member},
    "alerts": {AnomalyDetected: on_anomaly, ConsentExpiring: on_consent_expiring, ConsentRevoked: on_consent_revoked},
}
