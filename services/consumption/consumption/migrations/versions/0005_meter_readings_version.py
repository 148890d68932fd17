"""meter readings version

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 19:25:00.000000
"""
from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('meters', sa.Column('readings_version', sa.BigInteger(), server_default=sa.text('0'),
                                      nullable=False), schema='consumption')


def downgrade() -> None:
    op.drop_column('meters', 'readings_version', schema='consumption')
