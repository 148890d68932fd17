"""The collection loop: each replica claims due meters (SKIP LOCKED + lease) and collects them under the
quota shared by every replica; cycles open when work appears and close when none is left."""
from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid

from ingest_enedis import models, repository
from ingest_enedis.dataconnect import CAPABILITIES
from ingest_enedis.service import Collector
from metro.app import Runtime
from metro.collection import claim_due, close_cycle_if_idle, open_cycle

log = logging.getLogger(__name__)

PURGE_EVERY_S = 3600.0


async def collection_worker(rt: Runtime) -> None:
    s = rt.settings
    owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    collector = Collector(rt, rt.extras["client"], rt.extras["bucket"], owner)
    wake: asyncio.Event = rt.extras["wake"]
    running: set[asyncio.Task] = set()
    last_purge = 0.0
    try:
        while not rt.stop.is_set():
            try:
                claimed = await claim_due(rt.db, models.cursors, owner, s.concurrency - len(running), s.lease_seconds)
                if claimed:
                    async with rt.db.session() as session, session.begin():
                        await open_cycle(session, models.cycles, CAPABILITIES.dso)
                    for cursor in claimed:
                        task = asyncio.create_task(collector.collect(cursor), name=f"collect:{cursor.meter_id}")
                        running.add(task)
                        task.add_done_callback(running.discard)
                elif not running:
                    await close_cycle_if_idle(rt.db, models.cycles, models.cursors, CAPABILITIES.dso)
                if time.monotonic() - last_purge > PURGE_EVERY_S:
                    async with rt.db.session() as session, session.begin():
                        await repository.purge_raw(session)
                    last_purge = time.monotonic()
            except Exception:
                log.exception("collection loop failed")
            if claimed_full(running, s.concurrency):
                await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                continue
            wake.clear()
            try:
                await asyncio.wait_for(wake.wait(), s.poll_interval_s)
            except TimeoutError:
                pass
    finally:
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)


def claimed_full(running: set[asyncio.Task], concurrency: int) -> bool:
    return len(running) >= concurrency
