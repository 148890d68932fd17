"""stored summaries: each meter's summary figures as last computed, and the pricing version they were read at

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-06 23:30:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('meters', sa.Column('priced_version', sa.BigInteger(), server_default=sa.text('0'),
                                      nullable=False), schema='consumption')
    op.create_table(
        'meter_summaries',
        sa.Column('meter_id', sa.UUID(), nullable=False),
        sa.Column('priced_version', sa.BigInteger(), nullable=False),
        sa.Column('degree_days', sa.Text(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('computed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.PrimaryKeyConstraint('meter_id', name=op.f('pk_meter_summaries')),
        schema='consumption')


def downgrade() -> None:
    op.drop_table('meter_summaries', schema='consumption')
    op.drop_column('meters', 'priced_version', schema='consumption')
