"""Tables of the ingest-enedis service (schema ``ingest_enedis``)."""
from __future__ import annotations

import sqlalchemy as sa

from metro.bus import inbox_table
from metro.collection import collected_ranges_table, collection_tables, cursors_table, gaps_table
from metro.db import make_metadata
from metro.outbox import outbox_table

SCHEMA = "ingest_enedis"
metadata = make_metadata(SCHEMA)
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
cursors, collected_ranges, cycles, raw_payloads, rate_buckets, ended_consents = collection_tables(metadata)

# The load curve and daily maximum power, a second collection of the same meters: its own cursors (what was asked
# back to when), collected days and gaps; the quota, cycles, raw answers and ended consents are shared.
curve_cursors = cursors_table(metadata, "curve_cursors",
                              # The resident asked for the curve's history back to this day (24 months at most).
                              sa.Column("backfill_from", sa.Date))
curve_collected_ranges = collected_ranges_table(metadata, "curve_collected_ranges")
curve_gaps = gaps_table(metadata, "curve_gaps")

# When the resident (or their adviser) last looked at the meter's data: residents active in the last week are
# collected first when the hourly quota cannot serve every meter each day (see priority.py).
meter_activity = sa.Table(
    "meter_activity", metadata,
    sa.Column("meter_id", sa.UUID(as_uuid=True), primary_key=True),
    sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
)
