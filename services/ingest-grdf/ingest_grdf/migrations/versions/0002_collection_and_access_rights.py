"""collection and access rights

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 15:35:03.040774
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('access_rights',
    sa.Column('consent_id', sa.UUID(), nullable=False),
    sa.Column('meter_id', sa.UUID(), nullable=False),
    sa.Column('pce', sa.Text(), nullable=False),
    sa.Column('access_right_id', sa.Text(), nullable=False),
    sa.Column('dso_status', sa.Text(), nullable=False),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('reported_status', sa.Text(), nullable=False),
    sa.Column('holder_name', sa.Text(), nullable=False),
    sa.Column('postal_code', sa.Text(), nullable=False),
    sa.Column('email', sa.Text(), nullable=False),
    sa.Column('start', sa.Date(), nullable=False),
    sa.Column('end', sa.Date(), nullable=False),
    sa.Column('history_from', sa.Date(), nullable=True),
    sa.Column('declared_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('checked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoke_requested_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at_dso_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoke_attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('consent_id', name=op.f('pk_access_rights')),
    sa.UniqueConstraint('access_right_id', name=op.f('uq_access_rights_access_right_id')),
    schema='ingest_grdf'
    )
    op.create_index(op.f('ix_ingest_grdf_access_rights_meter_id'), 'access_rights', ['meter_id'], unique=False, schema='ingest_grdf')
    op.create_table('collected_ranges',
    sa.Column('meter_id', sa.UUID(), nullable=False),
    sa.Column('first_day', sa.Date(), nullable=False),
    sa.Column('end_day', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('meter_id', 'first_day', name=op.f('pk_collected_ranges')),
    schema='ingest_grdf'
    )
    op.create_table('cursors',
    sa.Column('meter_id', sa.UUID(), nullable=False),
    sa.Column('consent_id', sa.UUID(), nullable=False),
    sa.Column('account_id', sa.UUID(), nullable=True),
    sa.Column('identifier', sa.Text(), nullable=False),
    sa.Column('dso_reference', sa.Text(), nullable=True),
    sa.Column('history_from', sa.Date(), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('next_due_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('last_success_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_day', sa.Date(), nullable=True),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('last_outcome', sa.Text(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('contract', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('contract_checked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lease_owner', sa.Text(), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('meter_id', name=op.f('pk_cursors')),
    schema='ingest_grdf'
    )
    op.create_index(op.f('ix_ingest_grdf_cursors_next_due_at'), 'cursors', ['next_due_at'], unique=False, schema='ingest_grdf', postgresql_where=sa.text('active'))
    op.create_table('cycles',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('dso', sa.Text(), nullable=False),
    sa.Column('trigger', sa.Text(), server_default='schedule', nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcomes', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('meters', sa.Integer(), server_default='0', nullable=False),
    sa.Column('calls', sa.Integer(), server_default='0', nullable=False),
    sa.Column('throttled', sa.Integer(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cycles')),
    schema='ingest_grdf'
    )
    op.create_index('uq_cycles_open', 'cycles', ['dso'], unique=True, schema='ingest_grdf', postgresql_where=sa.text('finished_at IS NULL'))
    op.create_table('rate_buckets',
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('tokens', sa.Float(), nullable=False),
    sa.Column('capacity', sa.Float(), nullable=False),
    sa.Column('rate', sa.Float(), nullable=False),
    sa.Column('per_second', sa.Float(), nullable=False),
    sa.Column('per_hour', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('hour_start', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('hour_taken', sa.Integer(), server_default='0', nullable=False),
    sa.Column('taken_total', sa.BigInteger(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_rate_buckets')),
    schema='ingest_grdf'
    )
    op.create_table('raw_payloads',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('meter_id', sa.UUID(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=True),
    sa.Column('period_end', sa.Date(), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('retain_until', sa.DateTime(timezone=True), nullable=False),
    sa.Column('body', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_raw_payloads')),
    schema='ingest_grdf'
    )
    op.create_index(op.f('ix_ingest_grdf_raw_payloads_meter_id'), 'raw_payloads', ['meter_id'], unique=False, schema='ingest_grdf')
    op.create_index(op.f('ix_ingest_grdf_raw_payloads_retain_until'), 'raw_payloads', ['retain_until'], unique=False, schema='ingest_grdf')


def downgrade() -> None:
    op.drop_index(op.f('ix_ingest_grdf_raw_payloads_retain_until'), table_name='raw_payloads', schema='ingest_grdf')
    op.drop_index(op.f('ix_ingest_grdf_raw_payloads_meter_id'), table_name='raw_payloads', schema='ingest_grdf')
    op.drop_table('raw_payloads', schema='ingest_grdf')
    op.drop_table('rate_buckets', schema='ingest_grdf')
    op.drop_index('uq_cycles_open', table_name='cycles', schema='ingest_grdf', postgresql_where=sa.text('finished_at IS NULL'))
    op.drop_table('cycles', schema='ingest_grdf')
    op.drop_index(op.f('ix_ingest_grdf_cursors_next_due_at'), table_name='cursors', schema='ingest_grdf', postgresql_where=sa.text('active'))
    op.drop_table('cursors', schema='ingest_grdf')
    op.drop_table('collected_ranges', schema='ingest_grdf')
    op.drop_index(op.f('ix_ingest_grdf_access_rights_meter_id'), table_name='access_rights', schema='ingest_grdf')
    op.drop_table('access_rights', schema='ingest_grdf')
