"""Every SQL statement of the gateway."""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from gateway.models import (account_tokens, accounts, action_commitments, actions, admin_audit, erasure_requests,
                            login_failures, news, outbox, sessions, terms_acceptances, terms_versions)


async def ping(conn: AsyncConnection) -> None:
    await conn.execute(sa.text("select 1"))


async def account_by_email(session: AsyncSession, email: str) -> sa.Row | None:
    return (await session.execute(sa.select(accounts).where(accounts.c.email == email.lower()))).first()


async def account_by_id(session: AsyncSession, account_id: uuid.UUID) -> sa.Row | None:
    return (await session.execute(sa.select(accounts).where(accounts.c.id == account_id))).first()


async def emails_of(session: AsyncSession, account_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not account_ids:
        return {}
    rows = await session.execute(sa.select(accounts.c.id, accounts.c.email).where(accounts.c.id.in_(account_ids)))
    return {r.id: r.email for r in rows}


async def insert_account(session: AsyncSession, values: dict[str, Any]) -> bool:
    """False when the e-mail is taken (the unique index decides, even under concurrent sign-ups)."""
    result = await session.execute(insert(accounts).values(**values).on_conflict_do_nothing()
                                   .returning(accounts.c.id))
    return result.first() is not None


async def update_account(session: AsyncSession, account_id: uuid.UUID, values: dict[str, Any]) -> None:
    await session.execute(sa.update(accounts).where(accounts.c.id == account_id).values(**values))


async def insert_session(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(sa.insert(sessions).values(**values))


_PUBLISHED = terms_versions.c.published_at.is_not(None)


def _accepted_current_terms():
    current = (sa.select(terms_versions.c.version).where(_PUBLISHED)
               .order_by(terms_versions.c.published_at.desc()).limit(1))
    return sa.exists().where(terms_acceptances.c.account_id == accounts.c.id,
                             terms_acceptances.c.version == current.scalar_subquery()).label("terms_ok")


# Built once: it runs on every authenticated request.
SESSION_WITH_ACCOUNT = (
    sa.select(sessions.c.kind, sessions.c.csrf_token, sessions.c.expires_at, sessions.c.last_used_at,
              accounts.c.id, accounts.c.email, accounts.c.roles, accounts.c.status, accounts.c.email_verified_at,
              _accepted_current_terms())
    .join(accounts, accounts.c.id == sessions.c.account_id)
    .where(sessions.c.token_hash == sa.bindparam("token_hash")))


async def session_with_account(session: AsyncSession, token_hash: str) -> sa.Row | None:
    return (await session.execute(SESSION_WITH_ACCOUNT, {"token_hash": token_hash})).first()


async def delete_session(session: AsyncSession, token_hash: str) -> None:
    await session.execute(sa.delete(sessions).where(sessions.c.token_hash == token_hash))


async def delete_account_sessions(session: AsyncSession, account_id: uuid.UUID, *,
                                  keep_token_hash: str | None = None) -> None:
    stmt = sa.delete(sessions).where(sessions.c.account_id == account_id)
    if keep_token_hash is not None:
        stmt = stmt.where(sessions.c.token_hash != keep_token_hash)
    await session.execute(stmt)


async def touch_session(session: AsyncSession, token_hash: str) -> None:
    await session.execute(sa.update(sessions).where(sessions.c.token_hash == token_hash)
                          .values(last_used_at=sa.func.now()))


async def account_sessions(session: AsyncSession, account_id: uuid.UUID) -> list[sa.Row]:
    return list((await session.execute(
        sa.select(sessions.c.id, sessions.c.kind, sessions.c.token_hash, sessions.c.name,
                  sessions.c.created_at, sessions.c.last_used_at, sessions.c.expires_at, sessions.c.user_agent)
        .where(sessions.c.account_id == account_id, sessions.c.expires_at > sa.func.now())
        .order_by(sessions.c.last_used_at.desc()))).all())


async def delete_account_session(session: AsyncSession, account_id: uuid.UUID, session_id: uuid.UUID) -> bool:
    result = await session.execute(sa.delete(sessions).where(
        sessions.c.account_id == account_id, sessions.c.id == session_id).returning(sessions.c.id))
    return result.first() is not None


async def insert_account_token(session: AsyncSession, values: dict[str, Any]) -> None:
    # Links a day past their expiry are of no use, not even to say "expired": they go as new ones are made.
    await session.execute(sa.delete(account_tokens).where(
        account_tokens.c.expires_at < sa.func.now() - dt.timedelta(days=1)))
    await session.execute(sa.insert(account_tokens).values(**values))


async def recent_account_tokens(session: AsyncSession, account_id: uuid.UUID, purpose: str,
                                since: dt.datetime) -> int:
    return (await session.execute(sa.select(sa.func.count()).where(
        account_tokens.c.account_id == account_id, account_tokens.c.purpose == purpose,
        account_tokens.c.created_at >= since))).scalar_one()


async def lock_account_token(session: AsyncSession, token_hash: str) -> sa.Row | None:
    return (await session.execute(sa.select(account_tokens).where(account_tokens.c.token_hash == token_hash)
                                  .with_for_update())).first()


async def delete_token(session: AsyncSession, token_hash: str) -> None:
    await session.execute(sa.delete(account_tokens).where(account_tokens.c.token_hash == token_hash))


async def delete_account_tokens(session: AsyncSession, account_id: uuid.UUID, purposes: list[str]) -> None:
    await session.execute(sa.delete(account_tokens).where(account_tokens.c.account_id == account_id,
                                                          account_tokens.c.purpose.in_(purposes)))


async def email_taken(session: AsyncSession, email: str, account_id: uuid.UUID) -> bool:
    return (await session.execute(sa.select(accounts.c.id).where(
        accounts.c.email == email.lower(), accounts.c.id != account_id))).first() is not None


async def lock_login_key(session: AsyncSession, key: str) -> None:
    """Until the transaction ends: the attempts on one key are counted and recorded one at a time."""
    await session.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtextextended(key, 0))))


async def record_login_attempt(session: AsyncSession, keys: list[str]) -> list[int]:
    result = await session.execute(sa.insert(login_failures).values([{"key": k} for k in keys])
                                   .returning(login_failures.c.id))
    return list(result.scalars().all())


async def recent_failures(session: AsyncSession, key: str, since: dt.datetime) -> tuple[int, dt.datetime | None]:
    row = (await session.execute(sa.select(sa.func.count(), sa.func.min(login_failures.c.at))
                                 .where(login_failures.c.key == key, login_failures.c.at >= since))).one()
    return row[0], row[1]


async def clear_login_attempts(session: AsyncSession, account_key: str, ids: list[int]) -> None:
    """Every failure of the account, and this attempt's record for its client address."""
    await session.execute(sa.delete(login_failures).where(sa.or_(login_failures.c.key == account_key,
                                                                 login_failures.c.id.in_(ids))))


async def prune_login_failures(session: AsyncSession, before: dt.datetime) -> None:
    await session.execute(sa.delete(login_failures).where(login_failures.c.at < before))


async def current_terms(session: AsyncSession) -> sa.Row | None:
    return (await session.execute(sa.select(terms_versions).where(_PUBLISHED)
                                  .order_by(terms_versions.c.published_at.desc()).limit(1))).first()


async def insert_terms(session: AsyncSession, values: dict[str, Any]) -> bool:
    result = await session.execute(insert(terms_versions).values(**values).on_conflict_do_nothing()
                                   .returning(terms_versions.c.version))
    return result.first() is not None


async def accept_terms(session: AsyncSession, account_id: uuid.UUID, version: str) -> None:
    await session.execute(insert(terms_acceptances).values(account_id=account_id, version=version)
                          .on_conflict_do_nothing())


async def last_acceptance(session: AsyncSession, account_id: uuid.UUID) -> str | None:
    return (await session.execute(
        sa.select(terms_acceptances.c.version).where(terms_acceptances.c.account_id == account_id)
        .order_by(terms_acceptances.c.accepted_at.desc()).limit(1))).scalar_one_or_none()


async def has_accepted(session: AsyncSession, account_id: uuid.UUID, version: str) -> bool:
    return (await session.execute(sa.select(sa.literal(True)).where(
        terms_acceptances.c.account_id == account_id, terms_acceptances.c.version == version))).first() is not None


async def erasure_request_of(session: AsyncSession, account_id: uuid.UUID) -> sa.Row | None:
    return (await session.execute(sa.select(erasure_requests).where(
        erasure_requests.c.account_id == account_id))).first()


async def insert_erasure_request(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(sa.insert(erasure_requests).values(**values))


async def unfinished_erasure_requests(session: AsyncSession) -> list[sa.Row]:
    """With the account's e-mail while the account still exists."""
    return list((await session.execute(
        sa.select(erasure_requests.c.id, erasure_requests.c.status, erasure_requests.c.requested_at,
                  erasure_requests.c.due_at, erasure_requests.c.validated_at, erasure_requests.c.services_pending,
                  erasure_requests.c.publications, erasure_requests.c.last_published_at,
                  erasure_requests.c.alerted_at, accounts.c.email)
        .select_from(erasure_requests.outerjoin(accounts, accounts.c.id == erasure_requests.c.account_id))
        .where(erasure_requests.c.status != "completed").order_by(erasure_requests.c.requested_at))).all())


async def lock_erasure_request(session: AsyncSession, request_id: uuid.UUID) -> sa.Row | None:
    return (await session.execute(sa.select(erasure_requests).where(erasure_requests.c.id == request_id)
                                  .with_for_update())).first()


async def lock_erasure_request_of_subject(session: AsyncSession, subject: str) -> sa.Row | None:
    return (await session.execute(sa.select(erasure_requests).where(
        erasure_requests.c.subject_hash == subject).with_for_update())).first()


async def _update_erasure_request(session: AsyncSession, request_id: uuid.UUID, **values: Any) -> None:
    await session.execute(sa.update(erasure_requests).where(erasure_requests.c.id == request_id)
                          .values(**values))


async def start_erasing(session: AsyncSession, request_id: uuid.UUID, by: str, services: list[str]) -> None:
    await _update_erasure_request(session, request_id, status="erasing", validated_at=sa.func.now(),
                                  validated_by=by, services_pending=services, publications=1,
                                  last_published_at=sa.func.now(), alerted_at=None)


async def lock_unanswered_erasure_requests(session: AsyncSession, timeout: dt.timedelta) -> list[sa.Row]:
    """Requests erasing whose last erasure.requested has had no answer from every service within ``timeout``."""
    return list((await session.execute(sa.select(erasure_requests).where(
        erasure_requests.c.status == "erasing", erasure_requests.c.last_published_at <= sa.func.now() - timeout)
        .with_for_update(skip_locked=True))).all())


async def record_erasure_publication(session: AsyncSession, request_id: uuid.UUID) -> None:
    await _update_erasure_request(session, request_id, publications=erasure_requests.c.publications + 1,
                                  last_published_at=sa.func.now())


async def stall_erasure_request(session: AsyncSession, request_id: uuid.UUID) -> None:
    await _update_erasure_request(session, request_id, status="stalled", alerted_at=sa.func.now())


async def set_services_pending(session: AsyncSession, request_id: uuid.UUID, services: list[str]) -> None:
    await _update_erasure_request(session, request_id, services_pending=services)


async def complete_erasure_request(session: AsyncSession, request_id: uuid.UUID) -> None:
    """Keeps only the subject's hash: the request no longer names the account or its meters."""
    await _update_erasure_request(session, request_id, account_id=None, meter_ids=[], status="completed",
                                  completed_at=sa.func.now())


async def lock_overdue_erasure_requests(session: AsyncSession) -> list[uuid.UUID]:
    """Requests still awaiting validation whose delay has run out."""
    return list((await session.execute(sa.select(erasure_requests.c.id).where(
        erasure_requests.c.status == "pending_validation", erasure_requests.c.due_at <= sa.func.now())
        .with_for_update(skip_locked=True))).scalars().all())


async def delete_published_events_naming(session: AsyncSession, ids: list[str]) -> None:
    text = sa.cast(outbox.c.payload, sa.Text)
    await session.execute(sa.delete(outbox).where(outbox.c.published_at.is_not(None),
                                                  sa.or_(*(text.contains(i) for i in ids))))


async def seed_actions(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """The bundled catalogue, once: an action already there (perhaps edited by an adviser) is left as it is."""
    await session.execute(insert(actions).values(rows).on_conflict_do_nothing(index_elements=[actions.c.id]))


async def list_actions(session: AsyncSession, *, active_only: bool = True) -> list[sa.Row]:
    stmt = sa.select(actions).order_by(actions.c.pathway, actions.c.title_fr)
    return list(await session.execute(stmt.where(actions.c.active) if active_only else stmt))


async def get_action(session: AsyncSession, action_id: uuid.UUID) -> sa.Row | None:
    return (await session.execute(sa.select(actions).where(actions.c.id == action_id))).first()


async def insert_action(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(sa.insert(actions).values(**values))


async def update_action(session: AsyncSession, action_id: uuid.UUID, values: dict[str, Any]) -> bool:
    result = await session.execute(sa.update(actions).where(actions.c.id == action_id)
                                   .values(**values, updated_at=sa.func.now()).returning(actions.c.id))
    return result.first() is not None


async def insert_commitment(session: AsyncSession, values: dict[str, Any]) -> bool:
    """False when the account has already committed to this action."""
    result = await session.execute(insert(action_commitments).values(**values).on_conflict_do_nothing()
                                   .returning(action_commitments.c.id))
    return result.first() is not None


async def account_commitments(session: AsyncSession, account_id: uuid.UUID) -> list[sa.Row]:
    return list(await session.execute(
        sa.select(action_commitments).where(action_commitments.c.account_id == account_id)
        .order_by(action_commitments.c.committed_on.desc(), action_commitments.c.created_at.desc())))


# --- administration ----------------------------------------------------------------------------------------

async def record_admin_action(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(sa.insert(admin_audit).values(**values))


async def admin_actions(session: AsyncSession, *, action: str | None, actor_id: uuid.UUID | None,
                        target: str | None, before_id: int | None, limit: int) -> list[sa.Row]:
    t = admin_audit.c
    stmt = sa.select(admin_audit).order_by(t.id.desc()).limit(limit)
    for column, value in ((t.action, action), (t.actor_id, actor_id), (t.target, target)):
        if value is not None:
            stmt = stmt.where(column == value)
    if before_id is not None:
        stmt = stmt.where(t.id < before_id)
    return list((await session.execute(stmt)).all())


async def search_accounts(session: AsyncSession, q: str | None, limit: int) -> list[sa.Row]:
    stmt = sa.select(accounts).order_by(accounts.c.created_at.desc()).limit(limit)
    if q:
        stmt = stmt.where(accounts.c.email.contains(q.lower(), autoescape=True))
    return list((await session.execute(stmt)).all())


async def lock_account(session: AsyncSession, account_id: uuid.UUID) -> sa.Row | None:
    return (await session.execute(sa.select(accounts).where(accounts.c.id == account_id).with_for_update())).first()


async def delete_all_account_tokens(session: AsyncSession, account_id: uuid.UUID) -> None:
    await session.execute(sa.delete(account_tokens).where(account_tokens.c.account_id == account_id))


async def count_account_sessions(session: AsyncSession, account_id: uuid.UUID) -> int:
    return (await session.execute(sa.select(sa.func.count()).where(
        sessions.c.account_id == account_id, sessions.c.expires_at > sa.func.now()))).scalar_one()


async def account_acceptances(session: AsyncSession, account_id: uuid.UUID) -> list[sa.Row]:
    return list((await session.execute(sa.select(terms_acceptances.c.version, terms_acceptances.c.accepted_at)
                                       .where(terms_acceptances.c.account_id == account_id)
                                       .order_by(terms_acceptances.c.accepted_at.desc()))).all())


async def terms_versions_with_acceptances(session: AsyncSession) -> list[sa.Row]:
    accepted = (sa.select(sa.func.count()).where(terms_acceptances.c.version == terms_versions.c.version)
                .correlate(terms_versions).scalar_subquery())
    return list((await session.execute(
        sa.select(terms_versions.c.version, terms_versions.c.summary, terms_versions.c.created_at,
                  terms_versions.c.published_at, accepted.label("accepted"))
        .order_by(terms_versions.c.published_at.desc().nulls_first(), terms_versions.c.created_at.desc()))).all())


async def terms_version(session: AsyncSession, version: str, *, lock: bool = False) -> sa.Row | None:
    stmt = sa.select(terms_versions).where(terms_versions.c.version == version)
    return (await session.execute(stmt.with_for_update() if lock else stmt)).first()


async def update_terms(session: AsyncSession, version: str, values: dict[str, Any]) -> None:
    await session.execute(sa.update(terms_versions).where(terms_versions.c.version == version).values(**values))


async def count_active_accounts(session: AsyncSession) -> int:
    return (await session.execute(sa.select(sa.func.count()).where(accounts.c.status == "active"))).scalar_one()


async def terms_acceptances_of(session: AsyncSession, version: str, limit: int) -> list[sa.Row]:
    """Who accepted this version, the most recent first."""
    return list((await session.execute(
        sa.select(accounts.c.id, accounts.c.email, terms_acceptances.c.accepted_at)
        .join(accounts, accounts.c.id == terms_acceptances.c.account_id)
        .where(terms_acceptances.c.version == version)
        .order_by(terms_acceptances.c.accepted_at.desc()).limit(limit))).all())


async def insert_news(session: AsyncSession, values: dict[str, Any]) -> sa.Row:
    return (await session.execute(sa.insert(news).values(**values).returning(news))).one()


async def update_news(session: AsyncSession, news_id: uuid.UUID, values: dict[str, Any]) -> sa.Row:
    return (await session.execute(sa.update(news).where(news.c.id == news_id)
                                  .values(**values, updated_at=sa.func.now()).returning(news))).one()


async def get_news(session: AsyncSession, news_id: uuid.UUID) -> sa.Row | None:
    return (await session.execute(sa.select(news).where(news.c.id == news_id))).first()


async def delete_news(session: AsyncSession, news_id: uuid.UUID) -> None:
    await session.execute(sa.delete(news).where(news.c.id == news_id))


async def news_valid(session: AsyncSession, day: dt.date, audiences: list[str]) -> list[sa.Row]:
    return list((await session.execute(sa.select(news).where(
        news.c.valid_from <= day, news.c.valid_until >= day, news.c.audience.in_(audiences))
        .order_by(news.c.valid_from.desc(), news.c.created_at.desc()))).all())


async def news_written(session: AsyncSession, author_id: uuid.UUID | None, day: dt.date,
                       archived: bool) -> list[sa.Row]:
    """Items of one author (every author's with None): those past their end (archived), or the others."""
    q = sa.select(news).where(news.c.valid_until < day if archived else news.c.valid_until >= day)
    if author_id is not None:
        q = q.where(news.c.author_id == author_id)
    return list((await session.execute(q.order_by(news.c.valid_until.desc(), news.c.created_at.desc()))).all())


async def pseudonymise_audit_target(session: AsyncSession, target: str, stand_in: str) -> None:
    """The audit rows about an erased account name its pseudonym instead, in the target and the details."""
    await session.execute(sa.update(admin_audit).where(
        sa.or_(admin_audit.c.target == target, sa.cast(admin_audit.c.detail, sa.Text).contains(target)))
        .values(target=sa.func.replace(admin_audit.c.target, target, stand_in),
                detail=sa.cast(sa.func.replace(sa.cast(admin_audit.c.detail, sa.Text), target, stand_in), sa.JSON)))
