"""Issue 18 item 8: a collection cycle holds at most one batch of drop files in memory, bounded by bytes as well
as by count, and each file is read as a stream."""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from devstack.stack import reset_database
from ingest_sge import models
from ingest_sge.app import spec
from metro.sftp import DropEntry
from ingest_sge.r151 import KeyRing, Limits
from ingest_sge.worker import batches, collect
from metro.db import Database
from metro.migrations import upgrade_async
from metro.outbox import Outbox
from tests.sandboxes.sge import generator as gen

DATABASE = f"metro_sge_batches_{os.environ.get('METRO_TEST_SLOT', '0')}"
DAYS = [dt.date(2026, 3, 1) + dt.timedelta(days=i) for i in range(8)]
PRMS = [f"{30000000000000 + i * 7919:014d}" for i in range(gen.MAX_PRMS_PER_FILE)]
SUBSCRIBED = PRMS[::300]


class FolderDrop:
    """The drop as a folder, counting the bytes fetched and not yet removed: what a cycle holds in memory."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.held = self.peak = self.fetches = 0

    async def list(self) -> list[DropEntry]:
        return [DropEntry(p.name, p.stat().st_size, int(p.stat().st_mtime)) for p in self.folder.iterdir()
                if p.is_file() and not p.name.startswith(".")]

    async def fetch(self, name: str) -> bytes:
        data = (self.folder / name).read_bytes()
        self.held += len(data)
        self.peak = max(self.peak, self.held)
        self.fetches += 1
        return data

    async def remove(self, entry: DropEntry) -> bool:
        self.held -= entry.size
        (self.folder / entry.name).unlink()
        return True


def test_batches_are_cut_by_bytes_and_by_count_and_a_large_file_goes_alone():
    entries = [DropEntry(f"f{i}", size, 0) for i, size in enumerate([40, 40, 40, 150, 10, 10, 10, 10, 999])]
    cut = [[e.name for e in b] for b in batches(entries, max_files=3, max_bytes=100, max_file_bytes=500)]
    # f8 is too large to fetch (judged on its size): it weighs nothing.
    assert cut == [["f0", "f1"], ["f2"], ["f3"], ["f4", "f5", "f6"], ["f7", "f8"]]


@pytest.fixture
async def db():
    url = reset_database(DATABASE)
    await upgrade_async(spec().package_dir, url)
    database = Database(url, pool_size=2)
    yield database
    await database.dispose()
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-q", "-c",
                    f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'], capture_output=True)


async def test_a_cycle_over_large_files_holds_one_byte_bounded_batch_at_a_time(db, tmp_path):
    pub = gen.Publisher(tmp_path)
    pub.subscribe(PRMS)
    pub.publish_days(DAYS)
    sizes = sorted(p.stat().st_size for p in pub.drop.iterdir())
    assert len(sizes) == len(DAYS) and sizes[0] > 100_000, "files of 3 000 PRMs each"
    budget = sizes[-1] * 2 + sizes[-1] // 2
    meters = {prm: uuid.uuid4() for prm in SUBSCRIBED}
    async with db.session() as session, session.begin():
        await session.execute(sa.insert(models.subscriptions), [
            {"prm": prm, "meter_id": m, "consent_id": uuid.uuid4(), "active": True} for prm, m in meters.items()])

    drop = FolderDrop(pub.drop)
    report = await collect(db, Outbox(models.outbox, "ingest_sge"), drop, KeyRing(aes_keys=(gen.SANDBOX_AES_KEY,)),
                           Limits(), files_per_transaction=40, raw_retention_days=90, batch_bytes=budget)

    assert report["files"] == {"imported": len(DAYS)} and drop.fetches == len(DAYS)
    assert drop.peak <= budget, "never more than one batch of files in memory"
    assert report["readings"]["readings"] == len(PRMS) * len(DAYS)
    assert report["readings"]["unsubscribed"] == (len(PRMS) - len(SUBSCRIBED)) * len(DAYS)
    assert report["readings"]["published"] + report["readings"]["previous_index_missing"] == \
        len(SUBSCRIBED) * len(DAYS)
    async with db.session() as session:
        payloads = (await session.execute(sa.select(models.outbox.c.payload)
                                          .where(models.outbox.c.name == "readings.collected"))).scalars().all()
    assert {p["meter_id"] for p in payloads} == {str(m) for m in meters.values()}
