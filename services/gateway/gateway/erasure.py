"""The deletion saga: the account is disabled and every consent revoked at once; after an administrator's
check (or by itself after a delay) every service erases its part and confirms; the gateway erases last."""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from gateway import privacy, repository
from gateway.models import accounts, erasure_requests, outbox as outbox_table
from metro.app import Runtime
from metro.erasure import subject_hash
from metro.errors import Conflict, NotFound
from metro.events import Envelope, Events
from metro.outbox import Outbox
from metro.personal_data import erase
from metro.services import ERASING

log = logging.getLogger(__name__)
ERASING_SERVICES = ERASING
outbox = Outbox(outbox_table, "gateway")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def request_deletion(session: AsyncSession, rt: Runtime, account_id: uuid.UUID) -> dict[str, Any]:
    existing = (await session.execute(sa.select(erasure_requests).where(
        erasure_requests.c.account_id == account_id))).first()
    if existing is not None:
        raise Conflict("the deletion of this account is already under way", code="deletion_already_requested")
    revoked = await rt.services.json("consent", "POST", f"/internal/accounts/{account_id}/revoke-all",
                                     json={"reason": "account_deleted"})
    meter_ids = (await rt.services.json("consent", "GET", f"/internal/accounts/{account_id}/meter-ids"))["meter_ids"]
    due = _now() + rt.settings.erasure_delay
    request_id = uuid.uuid4()
    await session.execute(sa.insert(erasure_requests).values(
        id=request_id, account_id=account_id, subject_hash=subject_hash(account_id),
        meter_ids=[uuid.UUID(m) for m in meter_ids], status="pending_validation", due_at=due))
    await repository.update_account(session, account_id, {"status": "disabled", "disabled_at": sa.func.now()})
    await repository.delete_account_sessions(session, account_id)
    return {"id": request_id, "status": "pending_validation", "erasure_due_at": due,
            "dso_actions": revoked["dso_actions"]}


async def pending(session: AsyncSession) -> list[dict[str, Any]]:
    rows = (await session.execute(
        sa.select(erasure_requests.c.id, erasure_requests.c.status, erasure_requests.c.requested_at,
                  erasure_requests.c.due_at, erasure_requests.c.validated_at, erasure_requests.c.services_pending,
                  accounts.c.email)
        .select_from(erasure_requests.outerjoin(accounts, accounts.c.id == erasure_requests.c.account_id))
        .where(erasure_requests.c.status != "completed").order_by(erasure_requests.c.requested_at))).all()
    return [dict(r._mapping) for r in rows]


async def validate(session: AsyncSession, request_id: uuid.UUID, by: str) -> dict[str, Any]:
    row = (await session.execute(sa.select(erasure_requests).where(erasure_requests.c.id == request_id)
                                 .with_for_update())).first()
    if row is None:
        raise NotFound("no such deletion request", code="erasure_request_not_found")
    if row.status != "pending_validation":
        raise Conflict(f"this deletion request is already {row.status}", code="erasure_already_validated")
    await session.execute(sa.update(erasure_requests).where(erasure_requests.c.id == request_id).values(
        status="erasing", validated_at=sa.func.now(), validated_by=by, services_pending=list(ERASING_SERVICES)))
    await outbox.add(session, Events.erasure_requested, {
        "account_id": str(row.account_id), "meter_ids": [str(m) for m in row.meter_ids]})
    return {"id": request_id, "status": "erasing"}


async def on_account_erased(session: AsyncSession, events: list[Envelope]) -> None:
    for e in events:
        row = (await session.execute(sa.select(erasure_requests).where(
            erasure_requests.c.subject_hash == e.payload["subject"]).with_for_update())).first()
        if row is None or row.status != "erasing":
            continue
        account_id = row.account_id
        left = [s for s in row.services_pending if s != e.payload.get("service")]
        await session.execute(sa.update(erasure_requests).where(erasure_requests.c.id == row.id)
                              .values(services_pending=left))
        if not left:
            await _erase_identity(session, row.id, account_id, row.meter_ids)


async def _erase_identity(session: AsyncSession, request_id: uuid.UUID, account_id: uuid.UUID,
                          meter_ids: list[uuid.UUID]) -> None:
    await erase(session, privacy.PERSONAL_DATA, account_id, meter_ids)
    ids = [str(account_id), *map(str, meter_ids)]
    text = sa.cast(outbox_table.c.payload, sa.Text)
    await session.execute(sa.delete(outbox_table).where(outbox_table.c.published_at.is_not(None),
                                                        sa.or_(*(text.contains(i) for i in ids))))
    await session.execute(sa.update(erasure_requests).where(erasure_requests.c.id == request_id).values(
        account_id=None, meter_ids=[], status="completed", completed_at=sa.func.now()))
    log.info("account erased", extra={"erasure_request": str(request_id)})


async def erasure_worker(rt: Runtime) -> None:
    """Nobody acted within the delay: the erasure completes by itself."""
    while not rt.stop.is_set():
        try:
            async with rt.db.session() as session, session.begin():
                due = (await session.execute(sa.select(erasure_requests.c.id).where(
                    erasure_requests.c.status == "pending_validation", erasure_requests.c.due_at <= sa.func.now())
                    .with_for_update(skip_locked=True))).scalars().all()
                for request_id in due:
                    await validate(session, request_id, "automatic after delay")
        except Exception:
            log.exception("erasure sweep failed")
        try:
            await asyncio.wait_for(rt.stop.wait(), rt.settings.erasure_sweep_interval.total_seconds())
        except TimeoutError:
            pass
