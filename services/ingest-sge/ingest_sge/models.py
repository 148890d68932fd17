"""Tables of the ingest-sge service (schema ``ingest_sge``)."""
from __future__ import annotations

from metro.bus import inbox_table
from metro.db import make_metadata
from metro.outbox import outbox_table

SCHEMA = "ingest_sge"
metadata = make_metadata(SCHEMA)
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
