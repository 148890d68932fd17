"""The loops of ingest-grdf: collection (each replica claims due PCE with SKIP LOCKED + lease, under the
quota shared by every replica) and the access-rights watch (one replica at a time)."""
from __future__ import annotations

import asyncio
import logging
import time

from ingest_grdf import repository
from ingest_grdf.rights import AccessRightsWatch
from ingest_grdf.service import Collector
from metro.app import Runtime
from metro.collection import replica_owner, run_collection

log = logging.getLogger(__name__)

# pg advisory lock key of the access-rights watch ("grdf" in ASCII).
WATCH_LOCK = 0x67726466


async def collection_worker(rt: Runtime) -> None:
    collector = Collector(rt, rt.extras["client"], rt.extras["bucket"], replica_owner())
    await run_collection(rt, collector, rt.extras["wake"])


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
                if await repository.try_advisory_xact_lock(session, WATCH_LOCK):
                    await watch.run_once(time.monotonic(), force=force)
        except Exception:
            log.exception("access-rights watch failed")
        try:
            await asyncio.wait_for(wake.wait(), 1.0)
        except TimeoutError:
            pass
