"""The deletion saga: the account is disabled and every consent revoked at once; after an administrator's
check (or by itself after a delay) every service erases its part and confirms; the gateway erases last.

A request some service has not answered within ``erasure_answer_timeout`` is published again (services erase
idempotently); after ``erasure_max_publications`` it is ``stalled``: an alert is logged and counted, and the
administrators' list shows it until an administrator validates it again (once the cause, often a dead letter
to replay with ``python -m <service> dlq replay``, is dealt with) or a late confirmation completes it."""
from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

import sqlalchemy as sa
from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession

from gateway import privacy, repository
from metro.personal_data import pseudonym
from gateway.models import outbox as outbox_table
from metro.app import Runtime
from metro.erasure import subject_hash
from metro.errors import Conflict, NotFound
from metro.events import AccountErased, ErasureRequested, Received
from metro.outbox import Outbox
from metro.personal_data import erase
from metro.services import ERASING
from metro.workers import repeat

log = logging.getLogger(__name__)
ERASING_SERVICES = ERASING
outbox = Outbox(outbox_table, "gateway")
ERASURES_REPUBLISHED = Counter("erasures_republished_total", "erasure.requested published again for lack of answer")
ERASURES_STALLED = Counter("erasures_stalled_total", "Erasures left unanswered after every publication (alert)")
# Statuses in which the services are asked to erase and their confirmations are awaited.
ERASING_STATUSES = ("erasing", "stalled")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def request_deletion(session: AsyncSession, rt: Runtime, account_id: uuid.UUID) -> dict[str, Any]:
    if await repository.erasure_request_of(session, account_id) is not None:
        raise Conflict("the deletion of this account is already under way", code="deletion_already_requested")
    revoked = await rt.services.json("consent", "POST", f"/internal/accounts/{account_id}/revoke-all",
                                     json={"reason": "account_deleted"})
    meter_ids = (await rt.services.json("consent", "GET", f"/internal/accounts/{account_id}/meter-ids"))["meter_ids"]
    due = _now() + rt.settings.erasure_delay
    request_id = uuid.uuid4()
    await repository.insert_erasure_request(session, {
        "id": request_id, "account_id": account_id, "subject_hash": subject_hash(account_id),
        "meter_ids": [uuid.UUID(m) for m in meter_ids], "status": "pending_validation", "due_at": due})
    await repository.update_account(session, account_id, {"status": "disabled", "disabled_at": sa.func.now()})
    await repository.delete_account_sessions(session, account_id)
    return {"id": request_id, "status": "pending_validation", "erasure_due_at": due,
            "dso_actions": revoked["dso_actions"]}


async def pending(session: AsyncSession) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in await repository.unfinished_erasure_requests(session)]


async def validate(session: AsyncSession, request_id: uuid.UUID, by: str) -> dict[str, Any]:
    row = await repository.lock_erasure_request(session, request_id)
    if row is None:
        raise NotFound("no such deletion request", code="erasure_request_not_found")
    if row.status not in ("pending_validation", "stalled"):
        raise Conflict(f"this deletion request is already {row.status}", code="erasure_already_validated")
    pending = row.services_pending if row.status == "stalled" else list(ERASING_SERVICES)
    await repository.start_erasing(session, request_id, by, pending)
    await outbox.add(session, ErasureRequested(account_id=row.account_id, meter_ids=row.meter_ids))
    return {"id": request_id, "status": "erasing"}


async def on_account_erased(session: AsyncSession, events: list[Received[AccountErased]]) -> None:
    for e in events:
        row = await repository.lock_erasure_request_of_subject(session, e.payload.subject)
        if row is None or row.status not in ERASING_STATUSES:
            continue
        account_id = row.account_id
        left = [s for s in row.services_pending if s != e.payload.service]
        await repository.set_services_pending(session, row.id, left)
        if not left:
            await _erase_identity(session, row.id, account_id, row.meter_ids)


async def _erase_identity(session: AsyncSession, request_id: uuid.UUID, account_id: uuid.UUID,
                          meter_ids: list[uuid.UUID]) -> None:
    account = await repository.account_by_id(session, account_id)
    await erase(session, privacy.PERSONAL_DATA, account_id, meter_ids)
    # The administration's audit keeps what was done to the account, under its pseudonym (an administrator's own
    # actions stay under their name: the Métropole answers for them).
    stand_in = f"compte effacé / erased account {pseudonym(account_id)[1]}"
    for name in (str(account_id), *([account.email] if account is not None else [])):
        await repository.pseudonymise_audit_target(session, name, stand_in)
    ids = [str(account_id), *map(str, meter_ids)]
    await repository.delete_published_events_naming(session, ids)
    await repository.complete_erasure_request(session, request_id)
    log.info("account erased", extra={"erasure_request": str(request_id)})


async def resend_unanswered(session: AsyncSession, timeout: dt.timedelta, max_publications: int) -> None:
    for row in await repository.lock_unanswered_erasure_requests(session, timeout):
        facts = {"erasure_request": str(row.id), "services_pending": row.services_pending,
                 "publications": row.publications}
        if row.publications >= max_publications:
            await repository.stall_erasure_request(session, row.id)
            ERASURES_STALLED.inc()
            log.error("erasure stalled: services did not confirm", extra=facts)
            continue
        await outbox.add(session, ErasureRequested(account_id=row.account_id, meter_ids=row.meter_ids))
        await repository.record_erasure_publication(session, row.id)
        ERASURES_REPUBLISHED.inc()
        log.warning("erasure unanswered: requested again", extra=facts)


async def erasure_worker(rt: Runtime) -> None:
    """Nobody acted within the delay: the erasure completes by itself. Unanswered requests are asked again."""
    settings = rt.settings

    async def step() -> None:
        async with rt.db.session() as session, session.begin():
            for request_id in await repository.lock_overdue_erasure_requests(session):
                await validate(session, request_id, "automatic after delay")
            await resend_unanswered(session, settings.erasure_answer_timeout,  # type: ignore[attr-defined]
                                    settings.erasure_max_publications)  # type: ignore[attr-defined]
    await repeat(rt.stop, "erasure sweep", step, rt.settings.erasure_sweep_interval.total_seconds())
