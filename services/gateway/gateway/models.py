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
    # None while the version is a draft: the terms in force are the latest published.
    sa.Column("published_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
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

# The catalogue of actions on the three pathways, kept by advisers and administrators (seeded at first start).
actions = sa.Table(
    "actions", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("title_fr", sa.Text, nullable=False),
    sa.Column("title_en", sa.Text, nullable=False),
    sa.Column("explanation_fr", sa.Text, nullable=False),
    sa.Column("explanation_en", sa.Text, nullable=False),
    sa.Column("pathway", sa.Text, nullable=False),  # bill, comfort, eco_citizen
    # The energy it saves: a meter energy, `heating` (the dwelling's heating energy) or `any`.
    sa.Column("energy", sa.Text, nullable=False),
    sa.Column("use", sa.Text, nullable=False),  # heating, hot_water, appliances, all
    sa.Column("effort", sa.Text, nullable=False),  # low, medium, high
    # The expected saving as a share of the use it acts on (0.07: 7 % of the heating).
    sa.Column("saving_share", sa.Numeric(4, 3), nullable=False),
    # When and to whom it is suggested: a season, dwellings, heating energies and modes (empty: all), anomalies.
    sa.Column("season", sa.Text, nullable=False, server_default="all"),
    sa.Column("dwelling_types", ARRAY(sa.Text), nullable=False, server_default="{}"),
    sa.Column("heating_energies", ARRAY(sa.Text), nullable=False, server_default="{}"),
    sa.Column("heating_modes", ARRAY(sa.Text), nullable=False, server_default="{}"),
    sa.Column("after_anomaly", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

# A resident's commitment to an action, with the saving estimated then; its effect is measured from `committed_on`.
action_commitments = sa.Table(
    "action_commitments", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("account_id", UUID(as_uuid=True), sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False,
              index=True),
    sa.Column("action_id", UUID(as_uuid=True), sa.ForeignKey("actions.id"), nullable=False),
    sa.Column("energy", sa.Text),  # the energy measured; NULL for an action on no energy of the home
    sa.Column("committed_on", sa.Date, nullable=False),
    sa.Column("estimated_kwh", sa.Numeric(12, 1)),
    sa.Column("estimated_eur", sa.Numeric(12, 2)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.UniqueConstraint("account_id", "action_id"),
)

# Every administrator action: who, when, what, on what, under which request. Kept when the administrator's
# account goes (the actor's id and e-mail stay as they were): the Métropole answers for what was done.
admin_audit = sa.Table(
    "admin_audit", metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("actor_id", UUID(as_uuid=True), nullable=False),
    sa.Column("actor_email", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("target", sa.Text),
    sa.Column("request_id", sa.Text),
    sa.Column("detail", sa.JSON, nullable=False, server_default="{}"),
    sa.Index(None, "at"),
    sa.Index(None, "action", "at"),
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
