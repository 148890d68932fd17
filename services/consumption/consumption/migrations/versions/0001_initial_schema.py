"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-28 15:06:51.090343
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('inbox',
    sa.Column('event_id', sa.UUID(), nullable=False),
    sa.Column('queue', sa.Text(), nullable=False),
    sa.Column('handled_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_inbox')),
    schema='consumption'
    )
    op.create_table('meters',
    sa.Column('meter_id', sa.UUID(), nullable=False),
    sa.Column('account_id', sa.UUID(), nullable=True),
    sa.Column('energy', sa.Text(), nullable=False),
    sa.Column('dso', sa.Text(), nullable=False),
    sa.Column('declared_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('meter_id', name=op.f('pk_meters')),
    schema='consumption'
    )
    op.create_index(op.f('ix_consumption_meters_account_id'), 'meters', ['account_id'], unique=False, schema='consumption')
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
    schema='consumption'
    )
    op.create_index(op.f('ix_consumption_outbox_next_attempt_at'), 'outbox', ['next_attempt_at'], unique=False, schema='consumption', postgresql_where=sa.text('published_at IS NULL'))
    op.create_table('readings',
    sa.Column('meter_id', sa.UUID(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('wh', sa.BigInteger(), nullable=False),
    sa.Column('quality', sa.Text(), server_default='measured', nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('extra', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('collected_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('meter_id', 'day', name=op.f('pk_readings')),
    schema='consumption',
    postgresql_partition_by='RANGE (day)'
    )
    # One partition per year; the default partition catches anything outside the planned range.
    for year in range(2010, 2041):
        op.execute(f"CREATE TABLE consumption.readings_{year} PARTITION OF consumption.readings "
                   f"FOR VALUES FROM ('{year}-01-01') TO ('{year + 1}-01-01')")
    op.execute("CREATE TABLE consumption.readings_default PARTITION OF consumption.readings DEFAULT")


def downgrade() -> None:
    op.drop_table('readings', schema='consumption')
    op.drop_index(op.f('ix_consumption_outbox_next_attempt_at'), table_name='outbox', schema='consumption', postgresql_where=sa.text('published_at IS NULL'))
    op.drop_table('outbox', schema='consumption')
    op.drop_index(op.f('ix_consumption_meters_account_id'), table_name='meters', schema='consumption')
    op.drop_table('meters', schema='consumption')
    op.drop_table('inbox', schema='consumption')
