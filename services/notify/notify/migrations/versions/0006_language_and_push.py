"""the language is the account's; Web Push subscriptions and messages

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 16:30:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A language chosen in the preferences becomes the recipient's: from now on it follows the account's.
    op.execute("""UPDATE notify.recipients r SET language = p.settings->>'language'
                  FROM notify.preferences p
                  WHERE p.account_id = r.account_id AND p.settings->>'language' IN ('fr', 'en')""")
    op.execute("""UPDATE notify.preferences SET settings = settings - 'language',
                  before_unsubscribe = before_unsubscribe - 'language'""")
    op.create_table(
        'push_subscriptions',
        sa.Column('id', postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column('account_id', postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column('endpoint', sa.Text(), nullable=False),
        sa.Column('p256dh', sa.Text(), nullable=False),
        sa.Column('auth', sa.Text(), nullable=False),
        sa.Column('user_agent', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_push_subscriptions')),
        sa.UniqueConstraint('endpoint', name=op.f('uq_push_subscriptions_endpoint')),
        schema='notify')
    op.create_index(op.f('ix_push_subscriptions_account_id'), 'push_subscriptions', ['account_id'],
                    schema='notify')
    op.create_table(
        'push_messages',
        sa.Column('id', postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column('account_id', postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column('subscription_id', postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column('dedup_key', sa.Text(), nullable=False),
        sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('status', sa.Text(), server_default='pending', nullable=False),
        sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['subscription_id'], ['notify.push_subscriptions.id'],
                                name=op.f('fk_push_messages_subscription_id_push_subscriptions'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_push_messages')),
        sa.UniqueConstraint('dedup_key', name=op.f('uq_push_messages_dedup_key')),
        schema='notify')
    op.create_index(op.f('ix_push_messages_account_id'), 'push_messages', ['account_id'], schema='notify')
    op.create_index(op.f('ix_push_messages_next_attempt_at'), 'push_messages', ['next_attempt_at'],
                    schema='notify', postgresql_where=sa.text("status = 'pending'"))


def downgrade() -> None:
    op.drop_table('push_messages', schema='notify')
    op.drop_table('push_subscriptions', schema='notify')
