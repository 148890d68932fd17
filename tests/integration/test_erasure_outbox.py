"""Issue 8: an event naming the account that is still waiting in the outbox when the erasure arrives goes out
first and is then erased with the rest; the erasure never leaves it behind."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest
import sqlalchemy as sa

from devstack.db import fresh_schema
from metro.db import Database, make_metadata
from metro.erasure import OutboxNotDrained, erasure_handler
from metro.events import ConsentRevoked, ErasureRequested, Received
from metro.outbox import Outbox, outbox_table

metadata = make_metadata("erasuretest")
outbox = outbox_table(metadata)


async def test_erasure_waits_for_events_naming_the_account_then_erases_them(database_url):
    db = Database(database_url, pool_size=2)
    await fresh_schema(db, metadata)
    account, meter, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    async with db.session() as session, session.begin():
        for account_id, meter_id in ((account, meter), (other, uuid.uuid4())):
            await Outbox(outbox, "erasuretest").add(session, ConsentRevoked(
                account_id=account_id, meter_id=meter_id, dso="enedis", channel="dataconnect", reason="user"))
    handler = erasure_handler("erasuretest", [], outbox)
    request = Received[ErasureRequested](id=uuid.uuid4(), name=ErasureRequested.name, producer="test",
                                         occurred_at=dt.datetime.now(dt.UTC),
                                         payload=ErasureRequested(account_id=account, meter_ids=[meter]))

    # Not yet published: the erasure refuses (its consumer retries it) and nothing is deleted.
    with pytest.raises(OutboxNotDrained):
        async with db.session() as session, session.begin():
            await handler(session, [request])
    async with db.session() as session:
        assert (await session.execute(sa.select(sa.func.count()).select_from(outbox))).scalar_one() == 2

    # The relay has published it: now it goes with the erasure; another account's event stays.
    async with db.session() as session, session.begin():
        await session.execute(sa.update(outbox).values(published_at=sa.func.now()))
    async with db.session() as session, session.begin():
        await handler(session, [request])
    async with db.session() as session:
        payloads = [r.payload for r in await session.execute(sa.select(outbox.c.name, outbox.c.payload))]
    assert str(account) not in str(payloads) and str(meter) not in str(payloads)
    assert [p["account_id"] for p in payloads if p.get("reason")] == [str(other)]
    assert any(p.get("service") == "erasuretest" for p in payloads), "the erasure's confirmation is recorded"
    await db.dispose()
