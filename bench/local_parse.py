"""GreenAlp daily file reading speed: meter-days per second from the file as dropped to readings in the outbox
(strict CSV reading by the profile, indexes stored, each day's energy from the day before's index, one
readings.collected per meter), against a bare ``csv`` read of the same file in the same run.

Run: METRO_TEST_SLOT=N uv run python -m bench.local_parse [METERS]     (full size: 115000, the GreenAlp park)
It uses its own database (metroenergies_bench_local_<slot>), dropped and created again.
"""
from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import os
import sys
import time
import uuid
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

import ingest_local
from devstack.stack import reset_database
from ingest_local import models, service
from metro.db import Database
from metro.migrations import upgrade_async
from metro.outbox import Outbox
from metro.settings import ServiceSettings

PARIS = ZoneInfo("Europe/Paris")
HEADER = ["PRM", "TITULAIRE", "NUM_SERIE", "DATE_RELEVE", "INDEX_WH", "INDEX_POSE_WH"]


def prm(i: int) -> str:
    return f"{30000000000000 + i:014d}"


def daily_file(n: int, day: dt.date) -> bytes:
    """The GreenAlp index file of ``day`` for meters 0..n-1: index at midnight closing the day."""
    read_at = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), PARIS).isoformat()
    out = io.StringIO()
    w = csv.writer(out, delimiter=";", lineterminator="\r\n")
    w.writerow(HEADER)
    offset = (day - dt.date(2026, 1, 1)).days
    for i in range(n):
        w.writerow([prm(i), "Élise Dupont", f"LKY{i:08d}", read_at, 10_000_000 + i + offset * (5000 + i % 7000), ""])
    w.writerow(["FIN", n])
    return out.getvalue().encode("utf-8")


async def never_called(*_):
    raise AssertionError("every meter is subscribed already: nothing to activate")


async def run(n: int) -> None:
    slot = int(os.environ.get("METRO_TEST_SLOT", "0"))
    url = reset_database(f"metroenergies_bench_local_{slot}")
    await upgrade_async(Path(ingest_local.__file__).parent, url)
    db = Database.of(ServiceSettings(database_url=url), "bench-local", pool_size=2)
    outbox = Outbox(models.outbox, "ingest_local")
    day1, day2 = dt.date(2026, 11, 1), dt.date(2026, 11, 2)
    first, second = daily_file(n, day1), daily_file(n, day2)
    try:
        async with db.session() as session, session.begin():
            rows = [{"dso": "greenalp", "identifier": prm(i), "meter_id": uuid.uuid4(), "consent_id": uuid.uuid4(),
                     "account_id": None, "energy": "electricity", "active": True} for i in range(n)]
            await session.execute(sa.insert(models.subscriptions), rows)
        for name, data in ((f"GA_ELEC_INDEX_{day1:%Y%m%d}.csv", first),):
            async with db.session() as session, session.begin():
                await service.import_files(session, outbox, "greenalp", [service.DropFile(name, len(data), data)],
                                           via="cli", pending=[], report=never_called, max_file_bytes=1 << 30)

        t0 = time.perf_counter()
        bare = sum(1 for row in csv.reader(io.StringIO(second.decode("utf-8")), delimiter=";")) - 2
        bare_s = time.perf_counter() - t0

        name = f"GA_ELEC_INDEX_{day2:%Y%m%d}.csv"
        t0 = time.perf_counter()
        async with db.session() as session, session.begin():
            [outcome] = await service.import_files(session, outbox, "greenalp",
                                                   [service.DropFile(name, len(second), second)], via="cli",
                                                   pending=[], report=never_called, max_file_bytes=1 << 30)
        ours_s = time.perf_counter() - t0
        async with db.session() as session:
            events = (await session.execute(sa.select(sa.func.count()).select_from(models.outbox))).scalar_one()
    finally:
        await db.dispose()
    published = outcome.counts.get("published", 0)
    assert bare == n and published == n, (bare, outcome.view())
    print(f"GreenAlp daily index file: {n} meters, {len(second) / 1e6:.1f} MB, {events} readings.collected in the "
          f"outbox")
    print(f"  bare csv.reader (decode + split)      : {bare / bare_s:10.0f} meter-days/s ({bare_s:.2f} s)")
    print(f"  drop to readings (read, store, events): {published / ours_s:10.0f} meter-days/s ({ours_s:.2f} s)")
    print(f"  ratio drop-to-readings / bare csv     : {published / ours_s / (bare / bare_s):10.3f}")


def main() -> None:
    asyncio.run(run(int(sys.argv[1]) if len(sys.argv) > 1 else 5000))


if __name__ == "__main__":
    main()
