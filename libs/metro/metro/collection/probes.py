"""The collection's gauges for Prometheus (metro.observe runs the probe): last successful cycle, meters
failing by outcome, and the quota's use."""
from __future__ import annotations

from typing import TYPE_CHECKING

from metro.collection.repository import CollectionStore
from metro.metrics import COLLECTION_FAILING, DSO_LAST_SUCCESS, QUOTA_LIMIT, QUOTA_USED
from metro.observe import Probe

if TYPE_CHECKING:
    from metro.app import Runtime


def collection_probe(store: CollectionStore) -> Probe:
    async def probe(rt: Runtime) -> None:
        async with rt.db.reader() as session:
            last_success, failing = await store.health(session)
        if last_success is not None:
            DSO_LAST_SUCCESS.labels(store.dso).set(last_success.timestamp())
        for outcome, n in failing.items():
            COLLECTION_FAILING.labels(store.dso, outcome).set(n)
        bucket = rt.extras.get("bucket")
        if bucket is not None:
            usage = await bucket.usage()
            for window, used, limit in (("hour", usage["this_hour"], usage["per_hour"]),
                                        ("day", usage["today"], usage["per_day"])):
                QUOTA_USED.labels(store.dso, window).set(used)
                if limit is not None:
                    QUOTA_LIMIT.labels(store.dso, window).set(limit)
    return probe
