"""source days: the newest day each source delivered, kept at ingestion for the data-lag probe

Revision ID: 0015_source_days
Revises: 0014
Create Date: 2026-12-07 10:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0015_source_days'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'source_days',
        sa.Column('source', sa.Text(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint('source', 'day', name=op.f('pk_source_days')),
        schema='consumption')
    # One pass over the probe's window (worker.DATA_LAG_WINDOW_DAYS, with a margin): the latest partitions only.
    op.execute("INSERT INTO consumption.source_days (source, day) "
               "SELECT source, max(day) FROM consumption.readings WHERE day >= current_date - 60 GROUP BY source")


def downgrade() -> None:
    op.drop_table('source_days', schema='consumption')
