"""meter address hold

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 18:35:00.000000
"""
from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('meters', sa.Column('address_hold', sa.Boolean(), server_default=sa.text('false'),
                                      nullable=False), schema='consumption')
    op.add_column('meters', sa.Column('hold_at', sa.DateTime(timezone=True), nullable=True), schema='consumption')


def downgrade() -> None:
    op.drop_column('meters', 'hold_at', schema='consumption')
    op.drop_column('meters', 'address_hold', schema='consumption')
