"""messages and preferences

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 15:16:07.321954
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('messages',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('account_id', sa.UUID(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('dedup_key', sa.Text(), nullable=False),
    sa.Column('message_id', sa.Text(), nullable=False),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('text_body', sa.Text(), nullable=False),
    sa.Column('html_body', sa.Text(), nullable=False),
    sa.Column('inline_png', sa.LargeBinary(), nullable=True),
    sa.Column('inline_cid', sa.Text(), nullable=True),
    sa.Column('unsubscribe_url', sa.Text(), nullable=True),
    sa.Column('to_address', sa.Text(), nullable=True),
    sa.Column('status', sa.Text(), server_default='pending', nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_messages')),
    sa.UniqueConstraint('dedup_key', name=op.f('uq_messages_dedup_key')),
    schema='notify'
    )
    op.create_index(op.f('ix_notify_messages_account_id'), 'messages', ['account_id'], unique=False, schema='notify')
    op.create_index(op.f('ix_notify_messages_next_attempt_at'), 'messages', ['next_attempt_at'], unique=False, schema='notify', postgresql_where=sa.text("status IN ('pending', 'sending')"))
    op.create_table('notifications',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('account_id', sa.UUID(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('dedup_key', sa.Text(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('link', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    sa.UniqueConstraint('dedup_key', name=op.f('uq_notifications_dedup_key')),
    schema='notify'
    )
    op.create_index(op.f('ix_notify_notifications_account_id'), 'notifications', ['account_id'], unique=False, schema='notify')
    op.create_table('preferences',
    sa.Column('account_id', sa.UUID(), nullable=False),
    sa.Column('settings', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('unsubscribed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('unsubscribed_scope', sa.Text(), nullable=True),
    sa.Column('before_unsubscribe', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_preferences')),
    schema='notify'
    )
    op.create_table('recipients',
    sa.Column('account_id', sa.UUID(), nullable=False),
    sa.Column('email', sa.Text(), nullable=False),
    sa.Column('language', sa.Text(), server_default='fr', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_recipients')),
    schema='notify'
    )
    op.create_table('report_runs',
    sa.Column('job', sa.Text(), nullable=False),
    sa.Column('period', sa.Text(), nullable=False),
    sa.Column('recorded', sa.Integer(), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('job', 'period', name=op.f('pk_report_runs')),
    schema='notify'
    )


def downgrade() -> None:
    op.drop_table('report_runs', schema='notify')
    op.drop_table('recipients', schema='notify')
    op.drop_table('preferences', schema='notify')
    op.drop_index(op.f('ix_notify_notifications_account_id'), table_name='notifications', schema='notify')
    op.drop_table('notifications', schema='notify')
    op.drop_index(op.f('ix_notify_messages_next_attempt_at'), table_name='messages', schema='notify', postgresql_where=sa.text("status IN ('pending', 'sending')"))
    op.drop_index(op.f('ix_notify_messages_account_id'), table_name='messages', schema='notify')
    op.drop_table('messages', schema='notify')
