"""Every SQL statement of the notify service."""
from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from metro.erasure import subject_hash
from notify.models import (erased_accounts, messages, notifications, org_members, preferences, push_messages,
                           push_subscriptions, recipients, report_runs)


async def upsert_recipient(session: AsyncSession, account_id: uuid.UUID, email: str, language: str) -> None:
    stmt = insert(recipients).values(account_id=account_id, email=email, language=language)
    await session.execute(stmt.on_conflict_do_update(
        index_elements=[recipients.c.account_id],
        set_={"email": stmt.excluded.email, "language": stmt.excluded.language, "updated_at": sa.func.now()}))


async def set_recipient_email(session: AsyncSession, account_id: uuid.UUID, email: str) -> None:
    """The language stays."""
    stmt = insert(recipients).values(account_id=account_id, email=email)
    await session.execute(stmt.on_conflict_do_update(
        index_elements=[recipients.c.account_id], set_={"email": email, "updated_at": sa.func.now()}))


async def set_recipient_language(session: AsyncSession, account_id: uuid.UUID, language: str) -> None:
    """An update only: a recipient comes into being with its address (`account.created`)."""
    await session.execute(sa.update(recipients).where(recipients.c.account_id == account_id)
                          .values(language=language, updated_at=sa.func.now()))


async def recipient(session: AsyncSession, account_id: uuid.UUID) -> sa.Row | None:
    return (await session.execute(sa.select(recipients).where(recipients.c.account_id == account_id))).first()


async def preferences_row(session: AsyncSession, account_id: uuid.UUID, *, lock: bool = False) -> sa.Row | None:
    stmt = sa.select(preferences).where(preferences.c.account_id == account_id)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).first()


async def save_preferences(session: AsyncSession, account_id: uuid.UUID, settings: dict, *,
                           unsubscribed_at: dt.datetime | None = None, scope: str | None = None,
                           before: dict | None = None) -> None:
    values = {"settings": settings, "unsubscribed_at": unsubscribed_at, "unsubscribed_scope": scope,
              "before_unsubscribe": before, "updated_at": sa.func.now()}
    stmt = insert(preferences).values(account_id=account_id, **values)
    await session.execute(stmt.on_conflict_do_update(index_elements=[preferences.c.account_id], set_=values))


async def audience(session: AsyncSession, account_ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple]:
    """account → (email or None, recipient language or None, preference settings or None)."""
    rows = (await session.execute(
        sa.select(recipients.c.account_id, recipients.c.email, recipients.c.language, preferences.c.settings)
        .select_from(recipients.outerjoin(preferences, preferences.c.account_id == recipients.c.account_id))
        .where(recipients.c.account_id.in_(account_ids)))).all()
    return {r.account_id: (r.email, r.language, r.settings) for r in rows}


async def insert_message(session: AsyncSession, values: dict) -> bool:
    """False when a message with the same dedup key exists: nothing is recorded twice."""
    stmt = insert(messages).values(**values).on_conflict_do_nothing(index_elements=[messages.c.dedup_key])
    return (await session.execute(stmt.returning(messages.c.id))).first() is not None


async def insert_notification(session: AsyncSession, values: dict) -> bool:
    stmt = insert(notifications).values(**values).on_conflict_do_nothing(index_elements=[notifications.c.dedup_key])
    return (await session.execute(stmt.returning(notifications.c.id))).first() is not None


async def existing_keys(session: AsyncSession, keys: list[str]) -> set[str]:
    if not keys:
        return set()
    return set((await session.execute(sa.select(messages.c.dedup_key)
                                      .where(messages.c.dedup_key.in_(keys)))).scalars())


async def list_messages(session: AsyncSession, account_id: uuid.UUID, limit: int = 200) -> list[sa.Row]:
    return list((await session.execute(
        sa.select(messages).where(messages.c.account_id == account_id)
        .order_by(messages.c.created_at.desc()).limit(limit))).all())


async def list_notifications(session: AsyncSession, account_id: uuid.UUID, limit: int = 200) -> list[sa.Row]:
    return list((await session.execute(
        sa.select(notifications).where(notifications.c.account_id == account_id)
        .order_by(notifications.c.created_at.desc()).limit(limit))).all())


async def mark_read(session: AsyncSession, account_id: uuid.UUID, notification_id: uuid.UUID) -> sa.Row | None:
    return (await session.execute(
        sa.update(notifications)
        .where(notifications.c.id == notification_id, notifications.c.account_id == account_id)
        .values(read_at=sa.func.coalesce(notifications.c.read_at, sa.func.now()))
        .returning(notifications))).first()


async def claim_due(session: AsyncSession, limit: int, lease_seconds: float) -> list[sa.Row]:
    """Pending rows that are due, and `sending` rows whose lease ran out (their sender died)."""
    m = messages
    now = sa.func.now()
    due = (sa.select(m.c.id)
           .where(sa.or_(sa.and_(m.c.status == "pending", m.c.next_attempt_at <= now),
                         sa.and_(m.c.status == "sending", m.c.lease_until < now)))
           .order_by(m.c.next_attempt_at).limit(limit).with_for_update(skip_locked=True))
    return list((await session.execute(
        sa.update(m).where(m.c.id.in_(due.scalar_subquery()))
        .values(status="sending", attempts=m.c.attempts + 1,
                lease_until=now + dt.timedelta(seconds=lease_seconds))
        .returning(m))).all())


async def addresses(session: AsyncSession, account_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    rows = (await session.execute(sa.select(recipients.c.account_id, recipients.c.email)
                                  .where(recipients.c.account_id.in_(list(account_ids))))).all()
    return {r.account_id: r.email for r in rows}


async def settle(session: AsyncSession, lease: dt.datetime, sent: list[dict], retry: list[dict],
                 failed: list[dict]) -> set[uuid.UUID]:
    """Records the outcome of a batch claimed with ``lease`` (its ``lease_until``, the claim's fencing token).
    Each list holds {"mid", ...}: sent {"to"}, retry {"error", "at"}, failed {"error"}. A row claimed again by
    another sender since (this lease ran out) is left to that sender: returns those ids, not settled here."""
    m = messages
    ids = [x["mid"] for x in (*sent, *retry, *failed)]
    held = set((await session.execute(sa.select(m.c.id).where(
        m.c.id.in_(ids), m.c.status == "sending", m.c.lease_until == lease).with_for_update())).scalars())
    sent, retry, failed = ([x for x in group if x["mid"] in held] for group in (sent, retry, failed))
    conn = await session.connection()
    if sent:
        await conn.execute(sa.update(m).where(m.c.id == sa.bindparam("mid")).values(
            status="sent", sent_at=sa.func.now(), to_address=sa.bindparam("to"), lease_until=None,
            last_error=None), sent)
    if retry:
        await conn.execute(sa.update(m).where(m.c.id == sa.bindparam("mid")).values(
            status="pending", next_attempt_at=sa.bindparam("at"), last_error=sa.bindparam("error"),
            lease_until=None), retry)
    if failed:
        await conn.execute(sa.update(m).where(m.c.id == sa.bindparam("mid")).values(
            status="failed", last_error=sa.bindparam("error"), lease_until=None), failed)
    return set(ids) - held


async def forget_secrets(session: AsyncSession, message_ids: list[uuid.UUID]) -> None:
    if message_ids:
        await session.execute(sa.update(messages).where(messages.c.id.in_(message_ids),
                                                        messages.c.secret.is_not(None)).values(secret=None))


async def run_done(session: AsyncSession, job: str, period: str) -> bool:
    return (await session.execute(sa.select(report_runs.c.recorded).where(
        report_runs.c.job == job, report_runs.c.period == period))).first() is not None


async def record_run(session: AsyncSession, job: str, period: str, recorded: int) -> None:
    await session.execute(insert(report_runs).values(job=job, period=period, recorded=recorded)
                          .on_conflict_do_nothing())


async def accounts_with_threshold(session: AsyncSession) -> list[sa.Row]:
    s = preferences.c.settings
    return list((await session.execute(
        sa.select(preferences.c.account_id, preferences.c.settings).where(sa.or_(
            s["threshold_kwh_per_month"].astext.is_not(None), s["threshold_eur_per_month"].astext.is_not(None)))
    )).all())


async def lock_account(session: AsyncSession, account_id: uuid.UUID) -> None:
    """Serialises what records for an account with its erasure, until the transaction ends."""
    await session.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtextextended(str(account_id), 0))))


async def is_erased(session: AsyncSession, account_id: uuid.UUID) -> bool:
    return (await session.execute(sa.select(erased_accounts.c.subject_hash).where(
        erased_accounts.c.subject_hash == subject_hash(account_id)))).first() is not None


async def mark_erased(session: AsyncSession, account_id: uuid.UUID) -> None:
    await session.execute(insert(erased_accounts).values(subject_hash=subject_hash(account_id))
                          .on_conflict_do_nothing())


async def upsert_push_subscription(session: AsyncSession, values: dict) -> sa.Row:
    """A browser's endpoint is one subscription: subscribed again (or by the next resident on that browser),
    it takes the new keys and account."""
    stmt = insert(push_subscriptions).values(**values)
    return (await session.execute(stmt.on_conflict_do_update(
        index_elements=[push_subscriptions.c.endpoint],
        set_={k: stmt.excluded[k] for k in ("account_id", "p256dh", "auth", "user_agent", "created_at")})
        .returning(push_subscriptions))).one()


async def account_push_subscriptions(session: AsyncSession, account_id: uuid.UUID) -> list[sa.Row]:
    return list((await session.execute(
        sa.select(push_subscriptions).where(push_subscriptions.c.account_id == account_id)
        .order_by(push_subscriptions.c.created_at.desc()))).all())


async def delete_push_subscription(session: AsyncSession, account_id: uuid.UUID,
                                   subscription_id: uuid.UUID) -> bool:
    result = await session.execute(sa.delete(push_subscriptions).where(
        push_subscriptions.c.id == subscription_id, push_subscriptions.c.account_id == account_id))
    return result.rowcount > 0


async def insert_push_message(session: AsyncSession, values: dict) -> bool:
    result = await session.execute(insert(push_messages).values(**values).on_conflict_do_nothing(
        index_elements=[push_messages.c.dedup_key]))
    return result.rowcount > 0


async def claim_push_messages(session: AsyncSession, limit: int) -> list[sa.Row]:
    """Due pushes with their subscription, locked until the transaction ends."""
    m, s = push_messages, push_subscriptions
    return list((await session.execute(
        sa.select(m.c.id, m.c.account_id, m.c.subscription_id, m.c.payload, m.c.attempts, s.c.endpoint,
                  s.c.p256dh, s.c.auth)
        .join(s, s.c.id == m.c.subscription_id)
        .where(m.c.status == "pending", m.c.next_attempt_at <= sa.func.now())
        .order_by(m.c.next_attempt_at).limit(limit).with_for_update(of=m, skip_locked=True))).all())


async def push_outcome(session: AsyncSession, message_id: uuid.UUID, status: str, error: str | None,
                       next_attempt_at: dt.datetime | None) -> None:
    values = {"status": status, "attempts": push_messages.c.attempts + 1, "last_error": error}
    if status == "sent":
        values["sent_at"] = sa.func.now()
    if next_attempt_at is not None:
        values["next_attempt_at"] = next_attempt_at
    await session.execute(sa.update(push_messages).where(push_messages.c.id == message_id).values(**values))


async def set_org_member(session: AsyncSession, org_id: uuid.UUID, account_id: uuid.UUID, role: str | None,
                         org_name: str) -> None:
    """``role`` None: the account left the organisation."""
    if role is None:
        await session.execute(sa.delete(org_members).where(org_members.c.org_id == org_id,
                                                           org_members.c.account_id == account_id))
        await session.execute(sa.update(org_members).where(org_members.c.org_id == org_id)
                              .values(org_name=org_name))
        return
    stmt = insert(org_members).values(org_id=org_id, account_id=account_id, role=role, org_name=org_name)
    await session.execute(stmt.on_conflict_do_update(
        index_elements=[org_members.c.org_id, org_members.c.account_id],
        set_={"role": role, "org_name": org_name, "updated_at": sa.func.now()}))
    await session.execute(sa.update(org_members).where(org_members.c.org_id == org_id).values(org_name=org_name))


async def is_organisation(session: AsyncSession, account_id: uuid.UUID) -> bool:
    return (await session.execute(sa.select(org_members.c.org_id).where(org_members.c.org_id == account_id)
                                  .limit(1))).first() is not None


async def organisations(session: AsyncSession) -> dict[uuid.UUID, tuple[str, list[uuid.UUID]]]:
    """Every organisation with members: id → (name, member account ids)."""
    out: dict[uuid.UUID, tuple[str, list[uuid.UUID]]] = {}
    for r in (await session.execute(sa.select(org_members).order_by(org_members.c.org_id,
                                                                    org_members.c.account_id))).all():
        out.setdefault(r.org_id, (r.org_name, []))[1].append(r.account_id)
    return out
