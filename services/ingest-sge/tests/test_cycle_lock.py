"""One SGE collection cycle at a time across replicas, with a lock that PgBouncer in transaction mode keeps
right: it ends with the transaction, not with the server connection, which the pooler hands to other
clients."""
from __future__ import annotations

import os

import pytest
import sqlalchemy as sa

from devstack.db import scratch_database
from ingest_sge import repository
from ingest_sge.worker import CYCLE_LOCK
from metro.db import Database, make_metadata

SLOT = int(os.environ.get("METRO_TEST_SLOT", "0"))


@pytest.fixture(scope="module")
async def database_url():
    async with scratch_database(f"metroenergies_sge_lock_{SLOT}", make_metadata("sgelock")) as url:
        yield url


async def test_the_cycle_lock_keeps_a_second_replica_out_and_is_gone_when_its_transaction_ends(database_url):
    first, second = Database(database_url, pool_size=1), Database(database_url, pool_size=1)
    try:
        async with first.engine.connect() as holder, second.engine.connect() as other:
            async with holder.begin():
                assert await repository.try_cycle_lock(holder, CYCLE_LOCK)
                async with other.begin():
                    assert not await repository.try_cycle_lock(other, CYCLE_LOCK)
            # The holder's connection stays open, as a pooled server connection would: the lock must not.
            assert await holder.scalar(sa.text("select 1")) == 1
            async with other.begin():
                assert await repository.try_cycle_lock(other, CYCLE_LOCK)
    finally:
        await first.dispose()
        await second.dispose()
