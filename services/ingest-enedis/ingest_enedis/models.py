"""Tables of the ingest-enedis service (schema ``ingest_enedis``)."""
from __future__ import annotations

from metro.bus import inbox_table
from metro.collection import collection_tables
from metro.db import make_metadata
from metro.outbox import outbox_table

SCHEMA = "ingest_enedis"
metadata = make_metadata(SCHEMA)
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
cursors, collected_ranges, cycles, raw_payloads, rate_buckets, ended_consents = collection_tables(metadata)
