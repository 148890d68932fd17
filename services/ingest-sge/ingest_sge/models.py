"""Tables of the ingest-sge service (schema ``ingest_sge``)."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

from metro.bus import inbox_table
from metro.collection import ended_consents_table
from metro.db import make_metadata
from metro.outbox import outbox_table

SCHEMA = "ingest_sge"
metadata = make_metadata(SCHEMA)
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)

# The PRMs the platform may collect, projected from consent.granted / consent.revoked (channel sge).
subscriptions = sa.Table(
    "subscriptions", metadata,
    sa.Column("prm", sa.Text, primary_key=True),
    sa.Column("meter_id", UUID(as_uuid=True), nullable=False, index=True),
    sa.Column("consent_id", UUID(as_uuid=True), nullable=False),
    sa.Column("account_id", UUID(as_uuid=True)),
    sa.Column("dso_reference", sa.Text),
    sa.Column("history_from", sa.Date),
    sa.Column("expires_at", sa.DateTime(timezone=True)),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

ended_consents = ended_consents_table(metadata)

# The last usable index of each PRM: the next file's first day is differenced against it.
index_state = sa.Table(
    "index_state", metadata,
    sa.Column("prm", sa.Text, primary_key=True),
    sa.Column("meter_id", UUID(as_uuid=True), index=True),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("calendar", sa.Text, nullable=False),
    sa.Column("registers", JSONB, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

# Every file taken from the drop; (name, sha256) done once, a new hash under an old name is a republication.
files = sa.Table(
    "files", metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("sha256", sa.Text, nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("status", sa.Text, nullable=False),  # imported | quarantined | ignored
    sa.Column("reason", sa.Text),
    sa.Column("detail", sa.Text),
    sa.Column("counts", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.UniqueConstraint("name", "sha256"),
    sa.Index(None, "status", "processed_at"),
)

# What arrived, kept for a replay after a parser fix: the decrypted ZIP of an imported file (already
# compressed, and readable after a key rotation), or the bytes as received for a quarantined one.
raw_files = sa.Table(
    "raw_files", metadata,
    sa.Column("file_id", sa.BigInteger, sa.ForeignKey("files.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("kind", sa.Text, nullable=False),  # zip | received
    sa.Column("content", sa.LargeBinary, nullable=False),
    sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now(), index=True),
)

cycles = sa.Table(
    "cycles", metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("trigger", sa.Text, nullable=False),  # poll | on_demand | manual
    sa.Column("outcome", sa.Text, nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("report", JSONB, nullable=False),
)
