"""What a connector tells of its meters' collection: the last day collected and its freshness against the
DSO's documented publication time and lag."""
from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from metro.collection.repository import CollectionStore
from metro.dso import FAILING_REASONS, Capabilities, first_data_by, freshness
from metro.schemas.collection import CollectionStatus, Freshness

# A resident's meters, or an adviser's view of one resident's: never a bulk export.
MAX_METERS = 100


async def collection_statuses(session: AsyncSession, store: CollectionStore, caps: Capabilities,
                              meter_ids: list[uuid.UUID],
                              now: dt.datetime | None = None) -> list[CollectionStatus]:
    """One statement for every meter asked; a meter this connector never had a consent for is left out."""
    now = now or dt.datetime.now(dt.UTC)
    out = []
    for row in await store.collection_of(session, meter_ids[:MAX_METERS]):
        state, reason = freshness(caps, now, row.last_day, row.last_outcome, row.active)
        out.append(CollectionStatus(meter_id=row.meter_id, last_collected_day=row.last_day, freshness=state,
                                    reason=reason, expected_day=caps.newest_day(now),
                                    first_data_by=first_data_by(caps, now, row.last_day, row.active),
                                    next_update_at=max(row.next_due_at, now) if row.active else None))
    return out


async def freshness_counts(session: AsyncSession, store: CollectionStore, caps: Capabilities,
                           now: dt.datetime | None = None) -> dict[str, int]:
    """How many meters under consent are fresh, late within the DSO's lag, failing or pending: the
    administrators' collection health."""
    now = now or dt.datetime.now(dt.UTC)
    counts = await store.freshness_counts(session, caps.newest_day(now), caps.latest_on_time(now),
                                          [o.value for o in FAILING_REASONS])
    return {state.value: counts.get(state.value, 0) for state in Freshness if state is not Freshness.no_consent}
