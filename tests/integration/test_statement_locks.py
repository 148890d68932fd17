"""Issue 22 item 5: a manual statement written while the pricing worker holds the meter's queue row from the
previous statement. The worker takes a meter's queue row, then the meter; a statement that locked the meter first
and queued it after waited for the worker while the worker waited for it, and PostgreSQL refused one of them (the
statement answered 500, a 502 through the gateway, in CI)."""
from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import sqlalchemy as sa
from consumption import repository, statements
from consumption.models import meters, price_queue
from metro.schemas.consumption import StatementCreate
from metro.service_auth import Principal


async def test_a_statement_waits_for_the_worker_holding_its_meter_instead_of_deadlocking(db):
    meter_id, account_id = uuid.uuid4(), uuid.uuid4()
    today = dt.date.today()
    async with db.session() as session, session.begin():
        await session.execute(sa.insert(meters).values(meter_id=meter_id, account_id=account_id,
                                                       energy="electricity", dso="manual"))
        await statements.add_statement(session, meter_id, Principal(account_id),
                                       StatementCreate(taken_on=today - dt.timedelta(days=40), index=1000))

    claimed = asyncio.Event()
    stated = asyncio.Event()

    async def worker() -> None:
        async with db.session() as session, session.begin():
            assert meter_id in await repository.claim(session, price_queue, 100)
            claimed.set()
            await asyncio.sleep(0.5)  # the statement arrives meanwhile
            assert not stated.is_set()
            [(meter, _, _)] = await repository.meters_to_price(session, [meter_id])
            assert meter.meter_id == meter_id

    async def statement() -> None:
        await claimed.wait()
        async with db.session() as session, session.begin():
            await statements.add_statement(session, meter_id, Principal(account_id),
                                           StatementCreate(taken_on=today - dt.timedelta(days=10), index=1300))
        stated.set()

    await asyncio.wait_for(asyncio.gather(worker(), statement()), timeout=30)
    async with db.session() as session:
        assert [r.value for r in await repository.meter_statements(session, meter_id)] == [1000, 1300]
        queued = await session.scalar(sa.select(sa.func.count()).where(price_queue.c.meter_id == meter_id))
    assert queued == 1  # priced again with the new days
