"""Issue 18 item 6: an erasure some service does not confirm (its erasure.requested was dead-lettered) does not stay
``erasing`` forever: the gateway asks again after the answer timeout, and after the last request the erasure is
``stalled``, counted as an alert and shown to administrators; a late confirmation still completes it."""
from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import sqlalchemy as sa
from prometheus_client import REGISTRY

import gateway
from gateway import erasure, models, repository
from metro.db import Database
from metro.erasure import subject_hash
from metro.events import AccountErased, ErasureRequested, Received
from metro.migrations import upgrade_async

TIMEOUT = dt.timedelta(minutes=30)


async def requests_published(db: Database, account_id: uuid.UUID) -> int:
    async with db.session() as session:
        return (await session.execute(sa.select(sa.func.count()).select_from(models.outbox).where(
            models.outbox.c.name == ErasureRequested.name,
            sa.cast(models.outbox.c.payload, sa.Text).contains(str(account_id))))).scalar_one()


async def sweep(db: Database) -> None:
    async with db.session() as session, session.begin():
        await erasure.resend_unanswered(session, TIMEOUT, max_publications=3)


async def time_passes(db: Database, request_id: uuid.UUID) -> None:
    # The test moves the last request back rather than wait for the timeout.
    async with db.session() as session, session.begin():
        await session.execute(sa.update(models.erasure_requests).where(models.erasure_requests.c.id == request_id)
                              .values(last_published_at=sa.func.now() - TIMEOUT - dt.timedelta(seconds=1)))


async def row(db: Database, request_id: uuid.UUID):
    async with db.session() as session:
        return (await session.execute(sa.select(models.erasure_requests)
                                      .where(models.erasure_requests.c.id == request_id))).one()


async def test_an_unanswered_erasure_is_requested_again_then_stalls_with_an_alert(database_url):
    await upgrade_async(Path(gateway.__file__).parent, database_url)
    db = Database(database_url, pool_size=2)
    account_id, request_id = uuid.uuid4(), uuid.uuid4()
    async with db.session() as session, session.begin():
        await repository.insert_erasure_request(session, {
            "id": request_id, "account_id": account_id, "subject_hash": subject_hash(account_id),
            "meter_ids": [uuid.uuid4()], "status": "pending_validation", "due_at": dt.datetime.now(dt.UTC)})
        await erasure.validate(session, request_id, "test")
    assert await requests_published(db, account_id) == 1
    stalled_before = REGISTRY.get_sample_value("erasures_stalled_total") or 0

    await sweep(db)  # within the timeout: nobody is asked again
    assert await requests_published(db, account_id) == 1

    await time_passes(db, request_id)
    await sweep(db)
    assert await requests_published(db, account_id) == 2
    await time_passes(db, request_id)
    await sweep(db)
    assert (await row(db, request_id)).publications == 3 == await requests_published(db, account_id)

    await time_passes(db, request_id)
    await sweep(db)
    r = await row(db, request_id)
    assert r.status == "stalled" and r.alerted_at is not None and await requests_published(db, account_id) == 3
    assert REGISTRY.get_sample_value("erasures_stalled_total") == stalled_before + 1
    async with db.session() as session:
        [shown] = [p for p in await erasure.pending(session) if p["id"] == request_id]
    assert shown["status"] == "stalled" and shown["alerted_at"] and shown["services_pending"]

    # The dead letter replayed, every service confirms: the erasure completes.
    for service in r.services_pending:
        confirmation = AccountErased(subject=subject_hash(account_id), service=service, rows=0)
        async with db.session() as session, session.begin():
            await erasure.on_account_erased(session, [Received[AccountErased](
                id=uuid.uuid4(), name=AccountErased.name, producer=service, occurred_at=dt.datetime.now(dt.UTC),
                payload=confirmation)])
    r = await row(db, request_id)
    assert r.status == "completed" and r.account_id is None
    await db.dispose()
