"""The collection loops of ingest-enedis (the shared one): daily readings, and the load curve on what they leave."""
from __future__ import annotations

import asyncio

from ingest_enedis.load_curve import LoadCurveCollector
from ingest_enedis.service import Collector
from metro.app import Runtime
from metro.collection import SpareBucket, replica_owner, run_collection


async def collection_worker(rt: Runtime) -> None:
    collector = Collector(rt, rt.extras["client"], rt.extras["bucket"], replica_owner())
    await run_collection(rt, collector, rt.extras["wake"])


async def load_curve_worker(rt: Runtime) -> None:
    if not rt.settings.curve_collection:
        return
    wake = rt.extras.setdefault("curve_wake", asyncio.Event())
    collector = LoadCurveCollector(rt, rt.extras["client"], SpareBucket(rt.extras["bucket"]), replica_owner())
    await run_collection(rt, collector, wake)
