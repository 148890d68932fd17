"""The loops of ingest-grdf: collection (each replica claims due PCE with SKIP LOCKED + lease, under the
quota shared by every replica) and the access-rights watch (one replica at a time)."""
from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid

import sqlalchemy as sa

from ingest_grdf import models, repository
from ingest_grdf.adict import CAPABILITIES
from ingest_grdf.rights import AccessRightsWatch
from ingest_grdf.service import Collector
from metro.app import Runtime
from metro.collection import claim_due, close_cycle_if_idle, open_cycle

log = logging.getLogger(__name__)

PURGE_EVERY_S = 3600.0
# pg advisory lock key of the access-rights watch ("grdf" in ASCII).
WATCH_LOCK = 0x67726466


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
            if len(running) >= s.concurrency:
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


async def access_rights_worker(rt: Runtime) -> None:
    """Every second: revocations to send, reports to retry, and the listing when it is due."""
    watch = AccessRightsWatch(rt)
    wake: asyncio.Event = rt.extras["wake_rights"]
    while not rt.stop.is_set():
        force = wake.is_set()
        wake.clear()
        try:
            async with rt.db.session() as session, session.begin():
                # Held for the pass: two replicas listing the same rights would report every change twice.
                if (await session.execute(sa.select(sa.func.pg_try_advisory_xact_lock(WATCH_LOCK)))).scalar():
                    await watch.run_once(time.monotonic(), force=force)
        except Exception:
            log.exception("access-rights watch failed")
        try:
            await asyncio.wait_for(wake.wait(), 1.0)
        except TimeoutError:
            pass
