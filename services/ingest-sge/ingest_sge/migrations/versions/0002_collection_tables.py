"""collection tables

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 15:15:43.631913
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('cycles',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('trigger', sa.Text(), nullable=False),
    sa.Column('outcome', sa.Text(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('report', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cycles')),
    schema='ingest_sge'
    )
    op.create_table('files',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('sha256', sa.Text(), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('counts', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_files')),
    sa.UniqueConstraint('name', 'sha256', name=op.f('uq_files_name')),
    schema='ingest_sge'
    )
    op.create_index(op.f('ix_ingest_sge_files_status'), 'files', ['status', 'processed_at'], unique=False, schema='ingest_sge')
    op.create_table('index_state',
    sa.Column('prm', sa.Text(), nullable=False),
    sa.Column('meter_id', sa.UUID(), nullable=True),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('calendar', sa.Text(), nullable=False),
    sa.Column('registers', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('prm', name=op.f('pk_index_state')),
    schema='ingest_sge'
    )
    op.create_index(op.f('ix_ingest_sge_index_state_meter_id'), 'index_state', ['meter_id'], unique=False, schema='ingest_sge')
    op.create_table('subscriptions',
    sa.Column('prm', sa.Text(), nullable=False),
    sa.Column('meter_id', sa.UUID(), nullable=False),
    sa.Column('consent_id', sa.UUID(), nullable=False),
    sa.Column('account_id', sa.UUID(), nullable=True),
    sa.Column('dso_reference', sa.Text(), nullable=True),
    sa.Column('history_from', sa.Date(), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('prm', name=op.f('pk_subscriptions')),
    schema='ingest_sge'
    )
    op.create_index(op.f('ix_ingest_sge_subscriptions_meter_id'), 'subscriptions', ['meter_id'], unique=False, schema='ingest_sge')
    op.create_table('raw_files',
    sa.Column('file_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('stored_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['file_id'], ['ingest_sge.files.id'], name=op.f('fk_raw_files_file_id_files'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('file_id', name=op.f('pk_raw_files')),
    schema='ingest_sge'
    )
    op.create_index(op.f('ix_ingest_sge_raw_files_stored_at'), 'raw_files', ['stored_at'], unique=False, schema='ingest_sge')
    # ### end Alembic commands ###


def downgrade() -> None:
    op.drop_index(op.f('ix_ingest_sge_raw_files_stored_at'), table_name='raw_files', schema='ingest_sge')
    op.drop_table('raw_files', schema='ingest_sge')
    op.drop_index(op.f('ix_ingest_sge_subscriptions_meter_id'), table_name='subscriptions', schema='ingest_sge')
    op.drop_table('subscriptions', schema='ingest_sge')
    op.drop_index(op.f('ix_ingest_sge_index_state_meter_id'), table_name='index_state', schema='ingest_sge')
    op.drop_table('index_state', schema='ingest_sge')
    op.drop_index(op.f('ix_ingest_sge_files_status'), table_name='files', schema='ingest_sge')
    op.drop_table('files', schema='ingest_sge')
    op.drop_table('cycles', schema='ingest_sge')
    # ### end Alembic commands ###
