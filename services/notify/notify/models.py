"""Tables of the notify service (schema ``notify``)."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

from metro.bus import inbox_table
from metro.db import make_metadata
from metro.outbox import outbox_table

SCHEMA = "notify"
metadata = make_metadata(SCHEMA)
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)

# Projected from the gateway's `account.created`: where and in which language to write.
recipients = sa.Table(
    "recipients", metadata,
    sa.Column("account_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("email", sa.Text, nullable=False),
    sa.Column("language", sa.Text, nullable=False, server_default="fr"),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

# A missing row means the conservative defaults (monthly report, every alert on, no quiet hours).
preferences = sa.Table(
    "preferences", metadata,
    sa.Column("account_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("settings", JSONB, nullable=False),
    sa.Column("unsubscribed_at", sa.DateTime(timezone=True)),
    sa.Column("unsubscribed_scope", sa.Text),
    # What the preferences were before a one-click unsubscribe, so that the app can undo it.
    sa.Column("before_unsubscribe", JSONB),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

# The e-mail outbox: a message is recorded before it is sent; `dedup_key` makes a redelivered event or a
# re-run report a no-op. The address is resolved at send time so that a changed e-mail applies.
messages = sa.Table(
    "messages", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("account_id", UUID(as_uuid=True), nullable=False, index=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("dedup_key", sa.Text, nullable=False, unique=True),
    sa.Column("message_id", sa.Text, nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("text_body", sa.Text, nullable=False),
    sa.Column("html_body", sa.Text, nullable=False),
    # Inline images as {cid: PNG bytes}; only the report chart today.
    sa.Column("inline_png", sa.LargeBinary),
    sa.Column("inline_cid", sa.Text),
    sa.Column("unsubscribe_url", sa.Text),
    # Set beforehand for an e-mail about the account (it may go to an address not yet, or no longer, the
    # account's); otherwise the address it was sent to.
    sa.Column("to_address", sa.Text),
    # The token of an e-mailed link, put in the bodies in place of TOKEN_MARK when sending, then forgotten:
    # the record of what was sent never holds it.
    sa.Column("secret", sa.Text),
    sa.Column("status", sa.Text, nullable=False, server_default="pending"),  # pending|sending|sent|failed
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("lease_until", sa.DateTime(timezone=True)),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("sent_at", sa.DateTime(timezone=True)),
    sa.Index(None, "next_attempt_at", postgresql_where=sa.text("status IN ('pending', 'sending')")),
)

notifications = sa.Table(
    "notifications", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("account_id", UUID(as_uuid=True), nullable=False, index=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("dedup_key", sa.Text, nullable=False, unique=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("link", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("read_at", sa.DateTime(timezone=True)),
)

# A browser the resident allowed to receive alerts (Web Push): the push service's endpoint and the keys that
# encrypt for that browser alone (RFC 8291).
push_subscriptions = sa.Table(
    "push_subscriptions", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("account_id", UUID(as_uuid=True), nullable=False, index=True),
    sa.Column("endpoint", sa.Text, nullable=False, unique=True),
    sa.Column("p256dh", sa.Text, nullable=False),
    sa.Column("auth", sa.Text, nullable=False),
    sa.Column("user_agent", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

# Alerts to push, one per subscription, recorded with the alert and sent by the push worker.
push_messages = sa.Table(
    "push_messages", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("account_id", UUID(as_uuid=True), nullable=False, index=True),
    sa.Column("subscription_id", UUID(as_uuid=True),
              sa.ForeignKey("push_subscriptions.id", ondelete="CASCADE"), nullable=False),
    sa.Column("dedup_key", sa.Text, nullable=False, unique=True),
    sa.Column("payload", JSONB, nullable=False),  # {title, body, link}
    sa.Column("status", sa.Text, nullable=False, server_default="pending"),  # pending|sent|failed
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("sent_at", sa.DateTime(timezone=True)),
    sa.Index(None, "next_attempt_at", postgresql_where=sa.text("status = 'pending'")),
)

# One row per finished scheduled run (a report period, a day of threshold checks): the scheduler wakes
# often and must not fetch every account's report again once the period is done.
report_runs = sa.Table(
    "report_runs", metadata,
    sa.Column("job", sa.Text, primary_key=True),  # weekly | monthly | thresholds
    sa.Column("period", sa.Text, primary_key=True),  # 2025-01, 2025-W03, 2025-01-15
    sa.Column("recorded", sa.Integer, nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

# What remains of an erased account: a hash, so that an alert or an account update arriving after the erasure
# (consumers of other queues run in their own order) records nothing, while nothing here still names it.
erased_accounts = sa.Table(
    "erased_accounts", metadata,
    sa.Column("subject_hash", sa.Text, primary_key=True),
    sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

# Projected from consent's `org.member_changed`: who hears an organisation's weekly excess digest. An account
# here is an organisation's id: its meters' anomalies go to the digest, not to a resident alert.
org_members = sa.Table(
    "org_members", metadata,
    sa.Column("org_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("account_id", UUID(as_uuid=True), primary_key=True, index=True),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("org_name", sa.Text, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)
