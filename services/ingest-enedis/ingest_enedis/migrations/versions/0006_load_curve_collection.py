"""load curve collection: its cursors, collected days and gaps; every meter under consent gets a cursor

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
    op.create_table('curve_cursors',
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
    sa.Column('backfill_from', sa.Date(), nullable=True),
    sa.PrimaryKeyConstraint('meter_id', name=op.f('pk_curve_cursors')),
    schema='ingest_enedis'
    )
    op.create_index(op.f('ix_ingest_enedis_curve_cursors_next_due_at'), 'curve_cursors', ['next_due_at'],
                    unique=False, schema='ingest_enedis', postgresql_where=sa.text('active'))
    op.create_table('curve_collected_ranges',
    sa.Column('meter_id', sa.UUID(), nullable=False),
    sa.Column('first_day', sa.Date(), nullable=False),
    sa.Column('end_day', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('meter_id', 'first_day', name=op.f('pk_curve_collected_ranges')),
    schema='ingest_enedis'
    )
    op.create_table('curve_gaps',
    sa.Column('meter_id', sa.UUID(), nullable=False),
    sa.Column('first_day', sa.Date(), nullable=False),
    sa.Column('end_day', sa.Date(), nullable=False),
    sa.Column('code', sa.Text(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='1', nullable=False),
    sa.Column('first_failed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('last_failed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('meter_id', 'first_day', name=op.f('pk_curve_gaps')),
    schema='ingest_enedis'
    )
    op.execute("INSERT INTO ingest_enedis.curve_cursors (meter_id, consent_id, account_id, identifier, dso_reference,"
               " history_from, expires_at) SELECT meter_id, consent_id, account_id, identifier, dso_reference,"
               " history_from, expires_at FROM ingest_enedis.cursors WHERE active")


def downgrade() -> None:
    op.drop_table('curve_gaps', schema='ingest_enedis')
    op.drop_table('curve_collected_ranges', schema='ingest_enedis')
    op.drop_index(op.f('ix_ingest_enedis_curve_cursors_next_due_at'), table_name='curve_cursors',
                  schema='ingest_enedis', postgresql_where=sa.text('active'))
    op.drop_table('curve_cursors', schema='ingest_enedis')
