"""Issue 18 item 8: a sender records an e-mail's outcome only while it still holds the message's lease; once
another sender has taken the message over, the first one's late answer changes nothing."""
from __future__ import annotations

import os
import uuid

import sqlalchemy as sa

from devstack.db import scratch_database
from metro.db import Database
from notify import repository
from notify.models import messages, metadata

DATABASE = f"metro_notify_lease_{os.environ.get('METRO_TEST_SLOT', '0')}"


async def new_message(db: Database) -> uuid.UUID:
    mid = uuid.uuid4()
    async with db.session() as session, session.begin():
        await session.execute(sa.insert(messages).values(
            id=mid, account_id=uuid.uuid4(), kind="alert", dedup_key=str(mid), message_id=f"<{mid}@test>",
            subject="Alerte", text_body="Bonjour", html_body="<p>Bonjour</p>"))
    return mid


async def claim(db: Database, lease_seconds: float) -> list[sa.Row]:
    async with db.session() as session, session.begin():
        return await repository.claim_due(session, 10, lease_seconds)


async def settle_sent(db: Database, row: sa.Row, to: str) -> set[uuid.UUID]:
    async with db.session() as session, session.begin():
        return await repository.settle(session, row.lease_until, [{"mid": row.id, "to": to}], [], [])


async def state(db: Database, mid: uuid.UUID) -> sa.Row:
    async with db.session() as session:
        return (await session.execute(sa.select(messages.c.status, messages.c.to_address, messages.c.lease_until)
                                      .where(messages.c.id == mid))).one()


async def test_a_sender_whose_lease_was_taken_over_does_not_settle():
    async with scratch_database(DATABASE, metadata) as url:
        db = Database(url, pool_size=2)
        mid = await new_message(db)
        # The first sender outlives its lease (negative: run out as soon as taken); a second one takes it over.
        [first] = await claim(db, -1)
        [second] = await claim(db, 60)
        assert first.id == second.id == mid and second.lease_until != first.lease_until

        assert await settle_sent(db, first, "late@metro.test") == {mid}
        now = await state(db, mid)
        assert (now.status, now.to_address, now.lease_until) == ("sending", None, second.lease_until)

        assert await settle_sent(db, second, "alice@metro.test") == set()
        assert (await state(db, mid))[:2] == ("sent", "alice@metro.test")
        await db.dispose()


async def test_a_sender_whose_lease_ran_out_unclaimed_still_records_what_the_relay_accepted():
    async with scratch_database(DATABASE, metadata) as url:
        db = Database(url, pool_size=2)
        mid = await new_message(db)
        [late] = await claim(db, -1)
        assert await settle_sent(db, late, "alice@metro.test") == set()
        assert (await state(db, mid))[:2] == ("sent", "alice@metro.test")
        await db.dispose()
