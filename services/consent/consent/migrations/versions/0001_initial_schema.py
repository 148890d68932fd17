"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-28 15:06:43.173833
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('dwellings',
    sa.Column('account_id', sa.UUID(), nullable=False),
    sa.Column('street', sa.Text(), nullable=False),
    sa.Column('postal_code', sa.Text(), nullable=False),
    sa.Column('municipality', sa.Text(), nullable=False),
    sa.Column('insee_code', sa.Text(), nullable=False),
    sa.Column('surface_m2', sa.Float(), nullable=True),
    sa.Column('occupants', sa.Integer(), nullable=True),
    sa.Column('dwelling_type', sa.Text(), nullable=True),
    sa.Column('heating_energy', sa.Text(), nullable=True),
    sa.Column('heating_mode', sa.Text(), nullable=True),
    sa.Column('hot_water_energy', sa.Text(), nullable=True),
    sa.Column('construction_year', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_dwellings')),
    schema='consent'
    )
    op.create_table('inbox',
    sa.Column('event_id', sa.UUID(), nullable=False),
    sa.Column('queue', sa.Text(), nullable=False),
    sa.Column('handled_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_inbox')),
    schema='consent'
    )
    op.create_table('meters',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('account_id', sa.UUID(), nullable=False),
    sa.Column('energy', sa.Text(), nullable=False),
    sa.Column('dso', sa.Text(), nullable=False),
    sa.Column('channel', sa.Text(), nullable=False),
    sa.Column('identifier', sa.Text(), nullable=False),
    sa.Column('label', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('released_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meters')),
    schema='consent'
    )
    op.create_index(op.f('ix_consent_meters_account_id'), 'meters', ['account_id'], unique=False, schema='consent')
    op.create_index('uq_meters_active_claim', 'meters', ['dso', 'identifier'], unique=True, schema='consent', postgresql_where=sa.text('released_at IS NULL'))
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
    schema='consent'
    )
    op.create_index(op.f('ix_consent_outbox_next_attempt_at'), 'outbox', ['next_attempt_at'], unique=False, schema='consent', postgresql_where=sa.text('published_at IS NULL'))
    op.create_table('consents',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('meter_id', sa.UUID(), nullable=False),
    sa.Column('account_id', sa.UUID(), nullable=False),
    sa.Column('channel', sa.Text(), nullable=False),
    sa.Column('purpose', sa.Text(), server_default='daily_consumption', nullable=False),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('history_from', sa.Date(), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('requested_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('dso_reference', sa.Text(), nullable=True),
    sa.Column('state_hash', sa.Text(), nullable=True),
    sa.Column('state_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['meter_id'], ['consent.meters.id'], name=op.f('fk_consents_meter_id_meters'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consents')),
    sa.UniqueConstraint('state_hash', name=op.f('uq_consents_state_hash')),
    schema='consent'
    )
    op.create_index(op.f('ix_consent_consents_account_id'), 'consents', ['account_id'], unique=False, schema='consent')
    op.create_index(op.f('ix_consent_consents_meter_id'), 'consents', ['meter_id'], unique=False, schema='consent')
    op.create_table('consent_events',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('consent_id', sa.UUID(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('from_status', sa.Text(), nullable=True),
    sa.Column('to_status', sa.Text(), nullable=False),
    sa.Column('actor', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('evidence', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.ForeignKeyConstraint(['consent_id'], ['consent.consents.id'], name=op.f('fk_consent_events_consent_id_consents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_events')),
    schema='consent'
    )
    op.create_index(op.f('ix_consent_consent_events_consent_id'), 'consent_events', ['consent_id'], unique=False, schema='consent')


def downgrade() -> None:
    op.drop_index(op.f('ix_consent_consent_events_consent_id'), table_name='consent_events', schema='consent')
    op.drop_table('consent_events', schema='consent')
    op.drop_index(op.f('ix_consent_consents_meter_id'), table_name='consents', schema='consent')
    op.drop_index(op.f('ix_consent_consents_account_id'), table_name='consents', schema='consent')
    op.drop_table('consents', schema='consent')
    op.drop_index(op.f('ix_consent_outbox_next_attempt_at'), table_name='outbox', schema='consent', postgresql_where=sa.text('published_at IS NULL'))
    op.drop_table('outbox', schema='consent')
    op.drop_index('uq_meters_active_claim', table_name='meters', schema='consent', postgresql_where=sa.text('released_at IS NULL'))
    op.drop_index(op.f('ix_consent_meters_account_id'), table_name='meters', schema='consent')
    op.drop_table('meters', schema='consent')
    op.drop_table('inbox', schema='consent')
    op.drop_table('dwellings', schema='consent')
