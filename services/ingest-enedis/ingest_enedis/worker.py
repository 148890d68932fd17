"""The collection loop of ingest-enedis (the shared one, with the Data Connect collector)."""
from __future__ import annotations

from ingest_enedis.service import Collector
from metro.app import Runtime
from metro.collection import replica_owner, run_collection


async def collection_worker(rt: Runtime) -> None:
    collector = Collector(rt, rt.extras["client"], rt.extras["bucket"], replica_owner())
    await run_collection(rt, collector, rt.extras["wake"])
