"""gas days GRDF kept failing inside otherwise good answers

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 10:00:00.000000
"""
from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('gaps',
    sa.Column('meter_id', sa.UUID(), nullable=False),
    sa.Column('first_day', sa.Date(), nullable=False),
    sa.Column('end_day', sa.Date(), nullable=False),
    sa.Column('code', sa.Text(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='1', nullable=False),
    sa.Column('first_failed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('last_failed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('meter_id', 'first_day', name=op.f('pk_gaps')),
    schema='ingest_grdf'
    )


def downgrade() -> None:
    op.drop_table('gaps', schema='ingest_grdf')
