"""Tables of the ingest-enedis service (schema ``ingest_enedis``)."""
from __future__ import annotations

from metro.bus import inbox_table
from metro.collection import (collected_ranges_table, cursors_table, cycles_table, ended_consents_table,
                              rate_buckets_table, raw_payloads_table)
from metro.db import make_metadata
from metro.outbox import outbox_table

SCHEMA = "ingest_enedis"
metadata = make_metadata(SCHEMA)
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
cursors = cursors_table(metadata)
collected_ranges = collected_ranges_table(metadata)
cycles = cycles_table(metadata)
raw_payloads = raw_payloads_table(metadata)
ended_consents = ended_consents_table(metadata)
rate_buckets = rate_buckets_table(metadata)
