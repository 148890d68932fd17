"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-28 15:07:14.166392
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
    schema='ingest_sge'
    )
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
    schema='ingest_sge'
    )
    op.create_index(op.f('ix_ingest_sge_outbox_next_attempt_at'), 'outbox', ['next_attempt_at'], unique=False, schema='ingest_sge', postgresql_where=sa.text('published_at IS NULL'))


def downgrade() -> None:
    op.drop_index(op.f('ix_ingest_sge_outbox_next_attempt_at'), table_name='outbox', schema='ingest_sge', postgresql_where=sa.text('published_at IS NULL'))
    op.drop_table('outbox', schema='ingest_sge')
    op.drop_table('inbox', schema='ingest_sge')
