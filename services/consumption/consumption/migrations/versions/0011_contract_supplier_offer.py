"""the supplier offer a resident declares with the contract

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 16:20:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('contracts', sa.Column('supplier_offer', sa.Text(), nullable=True), schema='consumption')


def downgrade() -> None:
    op.drop_column('contracts', 'supplier_offer', schema='consumption')
