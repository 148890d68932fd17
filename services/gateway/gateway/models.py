"""Tables of the gateway (schema ``gateway``): identity, sessions, terms of use."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, UUID

from metro.bus import inbox_table
from metro.db import make_metadata
from metro.outbox import outbox_table

SCHEMA = "gateway"
metadata = make_metadata(SCHEMA)
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)

accounts = sa.Table(
    "accounts", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("email", sa.Text, nullable=False, unique=True),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("display_name", sa.Text),
    sa.Column("roles", ARRAY(sa.Text), nullable=False, server_default="{resident}"),
    sa.Column("status", sa.Text, nullable=False, server_default="active"),
    sa.Column("language", sa.Text, nullable=False, server_default="fr"),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("disabled_at", sa.DateTime(timezone=True)),
    sa.Column("email_verified_at", sa.DateTime(timezone=True)),
)

sessions = sa.Table(
    "sessions", metadata,
    sa.Column("token_hash", sa.Text, primary_key=True),
    sa.Column("account_id", UUID(as_uuid=True), sa.ForeignKey("accounts.id", ondelete="CASCADE"),
              nullable=False, index=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("name", sa.Text),
    sa.Column("csrf_token", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    # What the owner sees in the list of their sessions and tokens, and revokes by.
    sa.Column("id", UUID(as_uuid=True), nullable=False, unique=True,
              server_default=sa.text("gen_random_uuid()")),
    sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("user_agent", sa.Text),  # a summary ("Firefox · Linux"), not the header
)

# Single-use links sent by e-mail (address verification, address change, password reset), kept as hashes.
account_tokens = sa.Table(
    "account_tokens", metadata,
    sa.Column("token_hash", sa.Text, primary_key=True),
    sa.Column("account_id", UUID(as_uuid=True), sa.ForeignKey("accounts.id", ondelete="CASCADE"),
              nullable=False, index=True),
    sa.Column("purpose", sa.Text, nullable=False),  # verify_email | change_email | reset_password
    sa.Column("email", sa.Text, nullable=False),  # the address the link was sent to
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
)

login_failures = sa.Table(
    "login_failures", metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("key", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Index(None, "key", "at"),
)

terms_versions = sa.Table(
    "terms_versions", metadata,
    sa.Column("version", sa.Text, primary_key=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("data_collected", sa.JSON, nullable=False),
    sa.Column("published_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

terms_acceptances = sa.Table(
    "terms_acceptances", metadata,
    sa.Column("account_id", UUID(as_uuid=True), sa.ForeignKey("accounts.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("version", sa.Text, sa.ForeignKey("terms_versions.version"), primary_key=True),
    sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

# The deletion saga's state. Once complete, only a hash of the account id remains.
erasure_requests = sa.Table(
    "erasure_requests", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("account_id", UUID(as_uuid=True), unique=True),
    sa.Column("subject_hash", sa.Text, nullable=False, unique=True),
    sa.Column("meter_ids", ARRAY(UUID(as_uuid=True)), nullable=False, server_default="{}"),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("validated_at", sa.DateTime(timezone=True)),
    sa.Column("validated_by", sa.Text),
    sa.Column("services_pending", ARRAY(sa.Text), nullable=False, server_default="{}"),
    sa.Column("completed_at", sa.DateTime(timezone=True)),
    # erasure.requested published this many times, the last at last_published_at; alerted_at once it stalled.
    sa.Column("publications", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_published_at", sa.DateTime(timezone=True)),
    sa.Column("alerted_at", sa.DateTime(timezone=True)),
)

# Short seasonal news shown on the home screen while valid (valid_from to valid_until, inclusive), archived after;
# written by advisers and administrators. An erased author's items stay, under a pseudonym.
news = sa.Table(
    "news", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("author_id", UUID(as_uuid=True), nullable=False, index=True),
    sa.Column("title_fr", sa.Text, nullable=False),
    sa.Column("title_en", sa.Text, nullable=False),
    sa.Column("body_fr", sa.Text, nullable=False),
    sa.Column("body_en", sa.Text, nullable=False),
    sa.Column("audience", sa.Text, nullable=False),  # resident | pro | all
    sa.Column("valid_from", sa.Date, nullable=False),
    sa.Column("valid_until", sa.Date, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Index(None, "valid_until", "valid_from"),
)
