"""Tables of the notify service (schema ``notify``)."""
from __future__ import annotations

from metro.bus import inbox_table
from metro.db import make_metadata
from metro.outbox import outbox_table

SCHEMA = "notify"
metadata = make_metadata(SCHEMA)
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
