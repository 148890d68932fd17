"""consent holder name (local operators)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 16:40:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The holder's name as the resident declared it for a local operator's meter, checked against the
    # operator's first file and sent in the consented-meter list (nullable: no table rewrite).
    op.add_column('consents', sa.Column('holder_name', sa.Text(), nullable=True), schema='consent')


def downgrade() -> None:
    op.drop_column('consents', 'holder_name', schema='consent')
