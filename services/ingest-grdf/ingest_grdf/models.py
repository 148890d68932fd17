"""Tables of the ingest-grdf service (schema ``ingest_grdf``)."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID

from metro.bus import inbox_table
from metro.collection import collection_tables, gaps_table
from metro.db import make_metadata
from metro.outbox import outbox_table

SCHEMA = "ingest_grdf"
metadata = make_metadata(SCHEMA)
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
cursors, collected_ranges, cycles, raw_payloads, rate_buckets, ended_consents = collection_tables(metadata)
gaps = gaps_table(metadata)

# One ADICT access right ("droit d'accès") per consent: what was declared, and GRDF's last known state of it.
access_rights = sa.Table(
    "access_rights", metadata,
    sa.Column("consent_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("meter_id", UUID(as_uuid=True), nullable=False, index=True),
    sa.Column("pce", sa.Text, nullable=False),
    sa.Column("access_right_id", sa.Text, nullable=False, unique=True),
    # GRDF's wording (A valider, Active, Refusée, Révoquée, Obsolète) and our reading of it.
    sa.Column("dso_status", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    # The status last reported to the consent service; differs from ``status`` until the report succeeds.
    sa.Column("reported_status", sa.Text, nullable=False),
    sa.Column("holder_name", sa.Text, nullable=False),
    sa.Column("postal_code", sa.Text, nullable=False),
    sa.Column("email", sa.Text, nullable=False),
    sa.Column("start", sa.Date, nullable=False),
    sa.Column("end", sa.Date, nullable=False),
    sa.Column("history_from", sa.Date),
    sa.Column("declared_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("checked_at", sa.DateTime(timezone=True)),
    # The resident (or the account deletion) asked us to give the right up: PATCH it at GRDF.
    sa.Column("revoke_requested_at", sa.DateTime(timezone=True)),
    sa.Column("revoked_at_dso_at", sa.DateTime(timezone=True)),
    sa.Column("revoke_attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text),
)

# Access rights to give up at GRDF (PATCH), until GRDF has taken it. Apart from access_rights, whose rows go
# with the account's erasure: a deletion must not drop a revocation GRDF could not take yet. GRDF's id of
# the right is all it keeps.
revocations = sa.Table(
    "revocations", metadata,
    sa.Column("access_right_id", sa.Text, primary_key=True),
    sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("tried_at", sa.DateTime(timezone=True)),
    sa.Column("last_error", sa.Text),
)
