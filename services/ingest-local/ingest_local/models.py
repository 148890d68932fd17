"""Tables of the ingest-local service (schema ``ingest_local``)."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

from metro.bus import inbox_table
from metro.collection import ended_consents_table
from metro.db import make_metadata
from metro.outbox import outbox_table

SCHEMA = "ingest_local"
metadata = make_metadata(SCHEMA)
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)

# The meters the platform may collect from each operator, projected from consent.granted / consent.revoked
# (channel file), or set here at once when an operator's first file names a consented meter with its holder.
subscriptions = sa.Table(
    "subscriptions", metadata,
    sa.Column("dso", sa.Text, primary_key=True),
    sa.Column("identifier", sa.Text, primary_key=True),
    sa.Column("meter_id", UUID(as_uuid=True), nullable=False, index=True),
    sa.Column("consent_id", UUID(as_uuid=True), nullable=False),
    sa.Column("account_id", UUID(as_uuid=True)),
    sa.Column("energy", sa.Text),
    sa.Column("history_from", sa.Date),
    sa.Column("expires_at", sa.DateTime(timezone=True)),
    sa.Column("active", sa.Boolean, nullable=False),
    # The newest day published for the meter: its freshness.
    sa.Column("last_day", sa.Date),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

ended_consents = ended_consents_table(metadata)

# Every daily index an operator sent (per meter serial: a meter exchange has two on its day); a day's energy
# is its index less the day before's, so a late or corrected file recomputes the days around it.
indexes = sa.Table(
    "indexes", metadata,
    sa.Column("dso", sa.Text, primary_key=True),
    sa.Column("identifier", sa.Text, primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("serial", sa.Text, primary_key=True),
    sa.Column("index_wh", sa.BigInteger, nullable=False),
    sa.Column("install_wh", sa.BigInteger),
)

# District heat: the dwellings of each substation and their share key, as the operator's latest list says.
heat_shares = sa.Table(
    "heat_shares", metadata,
    sa.Column("dso", sa.Text, primary_key=True),
    sa.Column("substation", sa.Text, primary_key=True),
    sa.Column("dwelling", sa.Text, primary_key=True),
    sa.Column("share", sa.Numeric, nullable=False),
    sa.Column("share_key", sa.Text),
    sa.Column("holder", sa.Text),
)

# Every file taken from a drop or uploaded; (operator, name, sha256) done once, a new hash under an old name
# is a corrected file.
files = sa.Table(
    "files", metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("operator", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("sha256", sa.Text, nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("via", sa.Text, nullable=False),  # sftp | upload | cli
    sa.Column("profile", sa.Text),
    sa.Column("status", sa.Text, nullable=False),  # imported | quarantined | ignored
    sa.Column("reason", sa.Text),
    sa.Column("detail", sa.Text),
    sa.Column("counts", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.UniqueConstraint("operator", "name", "sha256"),
    sa.Index(None, "status", "processed_at"),
)

# What arrived, as received, for a replay after a parser fix (and to look at a quarantined file).
raw_files = sa.Table(
    "raw_files", metadata,
    sa.Column("file_id", sa.BigInteger, sa.ForeignKey("files.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("content", sa.LargeBinary, nullable=False),
    sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now(), index=True),
)

# The consented-meter lists left on each operator's drop: one is written when the list changes.
lists_sent = sa.Table(
    "lists_sent", metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("operator", sa.Text, nullable=False, index=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("sha256", sa.Text, nullable=False),
    sa.Column("meters", sa.Integer, nullable=False),
    sa.Column("withdrawn", sa.Integer, nullable=False),
    sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

cycles = sa.Table(
    "cycles", metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("trigger", sa.Text, nullable=False),
    sa.Column("outcome", sa.Text, nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("report", JSONB, nullable=False),
)
