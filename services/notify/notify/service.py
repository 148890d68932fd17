"""Decisions of the notify service: who hears about what, on which channel, and when."""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import logging
import uuid
from dataclasses import dataclass
from email.utils import parseaddr
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from metro.errors import AppError, NotFound
from metro.schemas.notify import AccountMail, AlertKind, NotificationPreferences, PreferencesView
from notify import i18n, push, render, repository
from notify.render import Rendered
from notify.sender import TOKEN_MARK

log = logging.getLogger(__name__)

PARIS = ZoneInfo("Europe/Paris")
UNSUBSCRIBE_SCOPES = {"reports", *(k.value for k in AlertKind)}


@dataclass(frozen=True)
class MailConfig:
    public_url: str
    unsubscribe_secret: str
    mail_domain: str

    @classmethod
    def from_settings(cls, settings) -> "MailConfig":
        domain = parseaddr(settings.mail_from)[1].rpartition("@")[2] or "metroenergies.localhost"
        return cls(settings.public_url.rstrip("/"), settings.unsubscribe_secret, domain)

    def account_link(self, kind: str) -> str | None:
        """The link of an account e-mail, with a stand-in for its token."""
        path = render.ACCOUNT_LINKS.get(kind)
        return f"{self.public_url}{path}#token={TOKEN_MARK}" if path else None

    def meter_url(self, meter_id: str) -> str:
        return f"{self.public_url}/meters/{meter_id}"

    def unsubscribe_url(self, account_id: uuid.UUID, scope: str) -> str:
        return f"{self.public_url}/api/v1/unsubscribe?token={unsubscribe_token(self.unsubscribe_secret, account_id, scope)}"


# Set once at start-up: event handlers receive only a session.
CONFIG: MailConfig | None = None


def configure(settings) -> MailConfig:
    global CONFIG
    CONFIG = MailConfig.from_settings(settings)
    return CONFIG


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsubscribe_token(secret: str, account_id: uuid.UUID, scope: str) -> str:
    """No expiry on purpose: a link in an old e-mail must still work without logging in."""
    body = _b64(orjson.dumps({"a": str(account_id), "s": scope}))
    mac = hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()[:20]
    return f"{body}.{_b64(mac)}"


def read_unsubscribe_token(secret: str, token: str) -> tuple[uuid.UUID, str]:
    # The signature is the link's only credential: a link we did not sign is refused like a bad password.
    bad = AppError("this unsubscribe link is invalid", code="invalid_unsubscribe_token", status_code=403)
    body, _, mac = token.partition(".")
    expected = _b64(hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()[:20])
    if not body or not hmac.compare_digest(mac, expected):
        raise bad
    try:
        claims = orjson.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        account_id, scope = uuid.UUID(claims["a"]), claims["s"]
    except (ValueError, KeyError, TypeError) as exc:
        raise bad from exc
    if scope not in UNSUBSCRIBE_SCOPES:
        raise bad
    return account_id, scope


def effective(settings: dict | None) -> NotificationPreferences:
    return NotificationPreferences.model_validate(settings) if settings else NotificationPreferences()


async def language_of(session: AsyncSession, account_id: uuid.UUID) -> str:
    """The account's language, as the gateway last told it."""
    rec = await repository.recipient(session, account_id)
    return i18n.language(rec.language if rec else None)


async def get_preferences(session: AsyncSession, account_id: uuid.UUID) -> PreferencesView:
    row = await repository.preferences_row(session, account_id)
    prefs = effective(row.settings if row else None)
    return PreferencesView(**prefs.model_dump(), unsubscribed_at=row.unsubscribed_at if row else None,
                           unsubscribed_scope=row.unsubscribed_scope if row else None)


async def put_preferences(session: AsyncSession, account_id: uuid.UUID,
                          body: NotificationPreferences) -> PreferencesView:
    if body.quiet_hours and body.quiet_hours.start == body.quiet_hours.end:
        raise AppError("quiet hours must not start and end at the same time", code="invalid_quiet_hours",
                       status_code=422)
    await repository.save_preferences(session, account_id, body.model_dump(mode="json"))
    return await get_preferences(session, account_id)


async def unsubscribe(session: AsyncSession, token: str) -> tuple[str, str]:
    """One click from an e-mail: turns off what that e-mail was about, and remembers how to undo it."""
    assert CONFIG
    account_id, scope = read_unsubscribe_token(CONFIG.unsubscribe_secret, token)
    row = await repository.preferences_row(session, account_id, lock=True)
    prefs = effective(row.settings if row else None)
    before = prefs.model_dump(mode="json")
    if scope == "reports":
        prefs.report_frequency = "none"
    else:
        prefs.email.alerts = [k for k in prefs.email.alerts if k.value != scope]
    await repository.save_preferences(session, account_id, prefs.model_dump(mode="json"),
                                      unsubscribed_at=dt.datetime.now(dt.UTC), scope=scope,
                                      before=(row.before_unsubscribe if row and row.before_unsubscribe else before))
    return scope, await language_of(session, account_id)


async def undo_unsubscribe(session: AsyncSession, account_id: uuid.UUID) -> PreferencesView:
    row = await repository.preferences_row(session, account_id, lock=True)
    if row is None or row.before_unsubscribe is None:
        raise NotFound("there is no unsubscribe to undo", code="nothing_to_undo")
    await repository.save_preferences(session, account_id, row.before_unsubscribe)
    return await get_preferences(session, account_id)


def after_quiet_hours(now: dt.datetime, prefs: NotificationPreferences) -> dt.datetime:
    """When an alert e-mail may leave: now, or the end of the resident's quiet hours (local time)."""
    qh = prefs.quiet_hours
    if qh is None:
        return now
    local = now.astimezone(PARIS)
    t = local.time().replace(tzinfo=None)
    inside = (qh.start <= t < qh.end) if qh.start < qh.end else (t >= qh.start or t < qh.end)
    if not inside:
        return now
    end = dt.datetime.combine(local.date(), qh.end, tzinfo=PARIS)
    if end <= local:
        end += dt.timedelta(days=1)
    return end.astimezone(dt.UTC)


def new_message(config: MailConfig, account_id: uuid.UUID, kind: str, dedup_key: str, rendered: Rendered,
                unsubscribe_url: str | None, not_before: dt.datetime | None = None) -> dict:
    mid = uuid.uuid4()
    values = {"id": mid, "account_id": account_id, "kind": kind, "dedup_key": dedup_key,
              "message_id": f"<{mid}@{config.mail_domain}>", "subject": rendered.subject,
              "text_body": rendered.text, "html_body": rendered.html, "inline_png": rendered.png,
              "inline_cid": rendered.cid, "unsubscribe_url": unsubscribe_url}
    if not_before is not None:
        values["next_attempt_at"] = not_before
    return values


async def still_here(session: AsyncSession, account_id: uuid.UUID) -> bool:
    """False for an erased account: an event about it that arrives late records nothing (the erasure waits for
    a recording under way, and the other way round)."""
    await repository.lock_account(session, account_id)
    if await repository.is_erased(session, account_id):
        log.info("event about an erased account dropped")
        return False
    return True


def _first_paragraph(text: str) -> str:
    return (text.split("\n\n")[2] if text.count("\n\n") >= 2 else text).strip()


async def alert(session: AsyncSession, account_id: uuid.UUID, alert_kind: AlertKind, kind: str, dedup_key: str,
                render, link: str) -> None:
    """Records the in-app notification and the e-mail the resident asked for; a replay records nothing.

    ``render(language, unsubscribe_url) -> Rendered``.
    """
    assert CONFIG
    if not await still_here(session, account_id):
        return
    row = await repository.preferences_row(session, account_id)
    prefs = effective(row.settings if row else None)
    unsubscribe_url = CONFIG.unsubscribe_url(account_id, alert_kind.value)
    rendered: Rendered = render(await language_of(session, account_id), unsubscribe_url)
    if alert_kind in prefs.in_app.alerts:
        await repository.insert_notification(session, {
            "id": uuid.uuid4(), "account_id": account_id, "kind": kind, "dedup_key": dedup_key,
            "title": rendered.subject, "body": _first_paragraph(rendered.text), "link": link})
    not_before = after_quiet_hours(dt.datetime.now(dt.UTC), prefs)
    if alert_kind in prefs.email.alerts:
        await repository.insert_message(session, new_message(
            CONFIG, account_id, kind, dedup_key, rendered, unsubscribe_url, not_before))
    if alert_kind in prefs.push.alerts:
        await push.record(session, account_id, dedup_key, rendered.subject, _first_paragraph(rendered.text), link,
                          not_before)


async def account_mail(session: AsyncSession, mail: AccountMail) -> None:
    """Records an e-mail about the account, to the address given (sent whatever the preferences). The token
    stays beside the message only until it has left."""
    assert CONFIG
    if not await still_here(session, mail.account_id):
        return
    if (mail.token is None) == (mail.kind in render.ACCOUNT_LINKS):
        raise AppError("this kind of e-mail takes a token, and only this kind", code="invalid_account_mail",
                       status_code=422)
    rendered = render.account_mail(mail.language, mail.kind, CONFIG.public_url,
                                   CONFIG.account_link(mail.kind), mail.new_email)
    values = new_message(CONFIG, mail.account_id, mail.kind, f"account:{mail.kind}:{mail.key}", rendered,
                         None)
    await repository.insert_message(session, {**values, "to_address": mail.to, "secret": mail.token})
