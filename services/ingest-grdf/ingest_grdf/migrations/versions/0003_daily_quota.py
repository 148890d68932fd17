"""daily quota in the rate bucket

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 18:40:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('rate_buckets', sa.Column('per_day', sa.Integer(), nullable=True), schema='ingest_grdf')
    op.add_column('rate_buckets', sa.Column('day_start', sa.Date(), nullable=True), schema='ingest_grdf')
    op.add_column('rate_buckets', sa.Column('day_taken', sa.Integer(), server_default='0', nullable=False),
                  schema='ingest_grdf')
    op.alter_column('rate_buckets', 'per_hour', existing_type=sa.Integer(), nullable=True, schema='ingest_grdf')


def downgrade() -> None:
    op.alter_column('rate_buckets', 'per_hour', existing_type=sa.Integer(), nullable=False, schema='ingest_grdf')
    op.drop_column('rate_buckets', 'day_taken', schema='ingest_grdf')
    op.drop_column('rate_buckets', 'day_start', schema='ingest_grdf')
    op.drop_column('rate_buckets', 'per_day', schema='ingest_grdf')
