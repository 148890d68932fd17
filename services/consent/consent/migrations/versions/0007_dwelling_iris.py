"""consent: the dwelling's IRIS (INSEE district), the analysts' finest area

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 17:00:00.000000
"""
from alembic import op
import sqlalchemy as sa

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('dwellings', sa.Column('iris_code', sa.Text(), nullable=True), schema='consent')


def downgrade() -> None:
    op.drop_column('dwellings', 'iris_code', schema='consent')
