"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-28 15:06:37.242630
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('accounts',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('email', sa.Text(), nullable=False),
    sa.Column('password_hash', sa.Text(), nullable=False),
    sa.Column('display_name', sa.Text(), nullable=True),
    sa.Column('roles', postgresql.ARRAY(sa.Text()), server_default='{resident}', nullable=False),
    sa.Column('status', sa.Text(), server_default='active', nullable=False),
    sa.Column('language', sa.Text(), server_default='fr', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts')),
    sa.UniqueConstraint('email', name=op.f('uq_accounts_email')),
    schema='gateway'
    )
    op.create_table('inbox',
    sa.Column('event_id', sa.UUID(), nullable=False),
    sa.Column('queue', sa.Text(), nullable=False),
    sa.Column('handled_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_inbox')),
    schema='gateway'
    )
    op.create_table('login_failures',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('key', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failures')),
    schema='gateway'
    )
    op.create_index(op.f('ix_gateway_login_failures_key'), 'login_failures', ['key', 'at'], unique=False, schema='gateway')
    op.create_table('outbox',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('seq', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
    sa.UniqueConstraint('seq', name=op.f('uq_outbox_seq')),
    schema='gateway'
    )
    op.create_index(op.f('ix_gateway_outbox_next_attempt_at'), 'outbox', ['next_attempt_at'], unique=False, schema='gateway', postgresql_where=sa.text('published_at IS NULL'))
    op.create_table('terms_versions',
    sa.Column('version', sa.Text(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('data_collected', sa.JSON(), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('version', name=op.f('pk_terms_versions')),
    schema='gateway'
    )
    op.create_table('sessions',
    sa.Column('token_hash', sa.Text(), nullable=False),
    sa.Column('account_id', sa.UUID(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('csrf_token', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['gateway.accounts.id'], name=op.f('fk_sessions_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_sessions')),
    schema='gateway'
    )
    op.create_index(op.f('ix_gateway_sessions_account_id'), 'sessions', ['account_id'], unique=False, schema='gateway')
    op.create_table('terms_acceptances',
    sa.Column('account_id', sa.UUID(), nullable=False),
    sa.Column('version', sa.Text(), nullable=False),
    sa.Column('accepted_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['gateway.accounts.id'], name=op.f('fk_terms_acceptances_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['version'], ['gateway.terms_versions.version'], name=op.f('fk_terms_acceptances_version_terms_versions')),
    sa.PrimaryKeyConstraint('account_id', 'version', name=op.f('pk_terms_acceptances')),
    schema='gateway'
    )


def downgrade() -> None:
    op.drop_table('terms_acceptances', schema='gateway')
    op.drop_index(op.f('ix_gateway_sessions_account_id'), table_name='sessions', schema='gateway')
    op.drop_table('sessions', schema='gateway')
    op.drop_table('terms_versions', schema='gateway')
    op.drop_index(op.f('ix_gateway_outbox_next_attempt_at'), table_name='outbox', schema='gateway', postgresql_where=sa.text('published_at IS NULL'))
    op.drop_table('outbox', schema='gateway')
    op.drop_index(op.f('ix_gateway_login_failures_key'), table_name='login_failures', schema='gateway')
    op.drop_table('login_failures', schema='gateway')
    op.drop_table('inbox', schema='gateway')
    op.drop_table('accounts', schema='gateway')
