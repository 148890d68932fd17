"""What a connector's /internal/collections routes answer: start a cycle now, and where collection stands."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from metro.collection.repository import CollectionStore, cycle_view, open_cycle
from metro.dso import Capabilities

if TYPE_CHECKING:
    from metro.app import Runtime


async def run_now(rt: Runtime, session: AsyncSession, store: CollectionStore, capabilities: Capabilities,
                  *also_wake: str) -> dict[str, Any]:
    """Every active meter becomes due now and the collection loop (and the connector's ``also_wake``
    loops) start at once."""
    due = await store.make_all_due(session)
    cycle_id = await open_cycle(session, store.cycles, capabilities.dso, trigger="manual")
    for wake in ("wake", *also_wake):
        rt.extras[wake].set()
    return {"cycle_id": str(cycle_id), "meters_due": due}


async def collections_view(rt: Runtime, report: dict[str, Any], capabilities: Capabilities,
                           freshness: dict[str, int], **own: Any) -> dict[str, Any]:
    """The last cycle, the meters (with their ``freshness`` counts), the quota and the failures from
    ``CollectionStore.report``, with the connector's ``own`` figures after the meters."""
    last = cycle_view(report["last_cycle"])
    return {"dso": capabilities.dso, "last_cycle": last, "outcomes": last["outcomes"] if last else {},
            "meters_collected": report["meters_collected"], "meters_active": report["meters_active"],
            "freshness": freshness, **own,
            "quota_used": await rt.extras["bucket"].usage(),
            "failures": report["failures"],
            "capabilities": {"publication_time": capabilities.publication_time.isoformat(),
                             "lag_days": [capabilities.lag_days_min, capabilities.lag_days_max],
                             "history_days": capabilities.history_days}}
