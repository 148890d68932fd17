"""The collection loop each replica runs, and what a connector's start and stop give it."""
from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid

from metro.collection.collector import Collector
from metro.collection.quota import TokenBucket
from metro.collection.repository import claim_due, close_cycle_if_idle, open_cycle
from metro.collection.settings import CollectionSettings

log = logging.getLogger(__name__)

PURGE_EVERY_S = 3600.0


async def start_collection(rt, client, bucket: TokenBucket) -> None:
    """What a connector's workers find in ``rt.extras``: its DSO client, the shared bucket, a wake-up."""
    rt.extras["client"] = client
    await bucket.ensure()
    rt.extras.update(bucket=bucket, wake=asyncio.Event())


async def stop_collection(rt) -> None:
    client = rt.extras.get("client")
    if client is not None:
        await client.aclose()


def replica_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


async def run_collection(rt, collector: Collector, wake: asyncio.Event) -> None:
    """Each replica claims due meters (SKIP LOCKED + lease) and collects them under the quota shared by
    every replica; a cycle opens when work appears and closes when none is left."""
    s: CollectionSettings = rt.settings
    store, dso = collector.store, collector.capabilities.dso
    running: set[asyncio.Task] = set()
    last_purge = 0.0
    try:
        while not rt.stop.is_set():
            try:
                claimed = await claim_due(rt.db, store.cursors, collector.owner, s.concurrency - len(running),
                                          s.lease_seconds)
                if claimed:
                    async with rt.db.session() as session, session.begin():
                        await open_cycle(session, store.cycles, dso)
                    for cursor in claimed:
                        task = asyncio.create_task(collector.collect(cursor), name=f"collect:{cursor.meter_id}")
                        running.add(task)
                        task.add_done_callback(running.discard)
                elif not running:
                    await close_cycle_if_idle(rt.db, store.cycles, store.cursors, dso)
                if time.monotonic() - last_purge > PURGE_EVERY_S:
                    async with rt.db.session() as session, session.begin():
                        await store.purge_raw(session)
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
