"""Tables of the consumption service (schema ``consumption``)."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

from metro.bus import inbox_table
from metro.db import make_metadata
from metro.outbox import outbox_table

SCHEMA = "consumption"
metadata = make_metadata(SCHEMA)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)

# Ownership and profile projected from consent's `meter.declared` / `dwelling.updated` facts.
meters = sa.Table(
    "meters", metadata,
    sa.Column("meter_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("account_id", UUID(as_uuid=True), index=True),
    sa.Column("energy", sa.Text, nullable=False),
    sa.Column("dso", sa.Text, nullable=False),
    sa.Column("declared_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    # A tombstone without the account: late readings for an erased meter are dropped, not stored.
    sa.Column("erased_at", sa.DateTime(timezone=True)),
)

# The big table: one row per meter and local day, energy in integer Wh, partitioned by year.
readings = sa.Table(
    "readings", metadata,
    sa.Column("meter_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("wh", sa.BigInteger, nullable=False),
    sa.Column("quality", sa.Text, nullable=False, server_default="measured"),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("extra", JSONB),
    sa.Column("collected_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    postgresql_partition_by="RANGE (day)",
)

PARTITION_YEARS = range(2010, 2041)
